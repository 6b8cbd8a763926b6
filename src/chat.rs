//! The chat binding: the one writer of the conversation shown. Every change goes through
//! `confab_core::controller::Controller` (the rules, tested natively); this file holds it
//! in the reactive graph, hands views read-only signals and runs the effects it returns
//! (`chat/effects.rs`): requests, storage, announcements and the streaming text.

mod commands;
mod effects;
mod live;
mod storage;

use crate::i18n::Lang;
use crate::storage::Storage;
use crate::transport::Abort;
pub use confab_core::controller::Status;
use confab_core::controller::{Controller, RequestConfig, RunId};
use confab_core::conversation::{Conversation, EndpointCheck, ImageRef, NodeId, Settings};
use confab_core::message_view::MessageView;
use confab_core::protocol::ChatRequest;
use confab_core::widget_config::WidgetConfig;
use leptos::prelude::*;
pub use live::LiveDoc;
use std::collections::HashMap;

/// Cheap to copy; provided as context at the panel's root. Fields are private: views read
/// through the methods below and change things only through commands.
#[derive(Clone, Copy)]
pub struct Chat {
    ctl: StoredValue<Controller>,
    config: StoredValue<WidgetConfig>,
    pub lang: Lang,
    storage: StoredValue<Option<Storage>, LocalStorage>,
    /// The ids of the messages shown, root first.
    path: RwSignal<Vec<NodeId>>,
    /// Bumped when another conversation is shown: every row is drawn anew.
    epoch: RwSignal<u64>,
    /// Bumped when the title, settings or endpoint binding change.
    meta: RwSignal<u64>,
    /// Bumped on every save: summaries and totals follow it.
    saved: RwSignal<u64>,
    /// One signal per message, bumped when its settled state changes.
    versions: StoredValue<HashMap<NodeId, ArcRwSignal<u64>>>,
    status: RwSignal<Status>,
    announce: RwSignal<String>,
    /// The answer being written: its node, its run and its document.
    live: RwSignal<Option<(NodeId, RunId)>>,
    live_doc: StoredValue<Option<LiveDoc>>,
    aborts: StoredValue<HashMap<RunId, Abort>, LocalStorage>,
    tick_pending: StoredValue<bool>,
    hook: Option<ChatHook>,
}

/// Provided as context by the embed mount: called with `None` when a chat is created and
/// with the answer's id whenever an answer completes, stops or fails.
#[derive(Clone, Copy)]
pub struct ChatHook(pub StoredValue<OnChat, LocalStorage>);

pub type OnChat = std::rc::Rc<dyn Fn(Chat, Option<NodeId>)>;

pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A random id for a new conversation.
pub fn new_id() -> String {
    let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("c{:x}{:08x}", js_sys::Date::now() as u64, a ^ (b << 16))
}

fn request_config(config: &WidgetConfig) -> RequestConfig {
    RequestConfig {
        endpoint: crate::endpoint_url::resolve(&config.endpoint),
        model: config.model.clone(),
        system_prompt: config.system_prompt.clone(),
    }
}

impl Chat {
    pub fn new(config: WidgetConfig, lang: Lang, conv: Conversation) -> Self {
        let hook = use_context::<ChatHook>();
        let ctl = Controller::new(conv, request_config(&config));
        let path = ctl
            .conversation()
            .active_path()
            .iter()
            .map(|n| n.id)
            .collect();
        let chat = Chat {
            ctl: StoredValue::new(ctl),
            config: StoredValue::new(config),
            lang,
            storage: StoredValue::new_local(None),
            path: RwSignal::new(path),
            epoch: RwSignal::new(0),
            meta: RwSignal::new(0),
            saved: RwSignal::new(0),
            versions: StoredValue::new(HashMap::new()),
            status: RwSignal::new(Status::Ready),
            announce: RwSignal::new(String::new()),
            live: RwSignal::new(None),
            live_doc: StoredValue::new(None),
            aborts: StoredValue::new_local(HashMap::new()),
            tick_pending: StoredValue::new(false),
            hook,
        };
        if let Some(hook) = hook {
            hook.0.try_with_value(|f| f(chat, None));
        }
        chat
    }

    // --- reading ----------------------------------------------------------------------

    /// Reads the conversation without subscribing (for commands, exports, events).
    pub fn with_conv<T>(&self, f: impl FnOnce(&Conversation) -> T) -> T {
        self.ctl.with_value(|c| f(c.conversation()))
    }

    /// Reads the conversation, re-run after every save (summaries, totals).
    pub fn with_conv_saved<T>(&self, f: impl FnOnce(&Conversation) -> T) -> T {
        self.saved.track();
        self.epoch.track();
        self.with_conv(f)
    }

    /// The ids on the path shown.
    pub fn path(&self) -> Vec<NodeId> {
        self.path.get()
    }

    pub fn path_len(&self) -> usize {
        self.path.with(Vec::len)
    }

    /// Changes when another conversation is shown.
    pub fn epoch(&self) -> u64 {
        self.epoch.get()
    }

    pub fn conversation_id(&self) -> String {
        self.epoch.track();
        self.with_conv(|c| c.id.clone())
    }

    /// A setting of the conversation shown.
    pub fn setting<T>(&self, f: impl FnOnce(&Settings) -> T) -> T {
        self.epoch.track();
        self.meta.track();
        self.with_conv(|c| f(&c.settings))
    }

    /// How the conversation shown stands against `current` (an absolute chat URL).
    pub fn endpoint_check(&self, current: &str) -> EndpointCheck {
        self.epoch.track();
        self.meta.track();
        self.with_conv(|c| c.endpoint_check(current))
    }

    /// The signal of message `id`; not owned by the view that asked first.
    fn version(&self, id: NodeId) -> ArcRwSignal<u64> {
        if let Some(v) = self.versions.with_value(|m| m.get(&id).cloned()) {
            return v;
        }
        let v = ArcRwSignal::new(0);
        self.versions.update_value(|m| {
            m.insert(id, v.clone());
        });
        v
    }

    /// How message `id` shows (state, marker, error, actions), re-read when it changes.
    pub fn message(&self, id: NodeId) -> Option<MessageView> {
        self.version(id).track();
        self.with_conv(|c| c.node(id).map(MessageView::of))
    }

    /// Text of a message, read once (rows of settled messages, Copy, edit).
    pub fn text_of(&self, id: NodeId) -> String {
        self.with_conv(|c| c.node(id).map(|n| n.text.clone()).unwrap_or_default())
    }

    pub fn reasoning_of(&self, id: NodeId) -> String {
        self.with_conv(|c| c.node(id).map(|n| n.reasoning.clone()).unwrap_or_default())
    }

    pub fn images_of(&self, id: NodeId) -> Vec<ImageRef> {
        self.with_conv(|c| c.node(id).map(|n| n.images.clone()).unwrap_or_default())
    }

    pub fn siblings(&self, id: NodeId) -> (usize, usize) {
        self.version(id).track();
        self.with_conv(|c| c.siblings(id))
    }

    pub fn status(&self) -> Status {
        self.status.get()
    }

    pub fn is_busy(&self) -> bool {
        self.status.get_untracked() != Status::Ready
    }

    pub fn announcement(&self) -> String {
        self.announce.get()
    }

    /// The run writing into `id` now, if any.
    pub fn live_run(&self, id: NodeId) -> Option<RunId> {
        self.live
            .with(|l| l.filter(|(node, _)| *node == id).map(|(_, run)| run))
    }

    /// Changes with each published frame of the answer being written.
    pub fn live_frame(&self) -> u64 {
        self.live.track();
        self.live_doc
            .with_value(|l| l.as_ref().map(|d| d.frame.get()))
            .unwrap_or(0)
    }

    /// The document of the answer being written into `id`.
    pub fn live_doc(&self, id: NodeId) -> Option<LiveDoc> {
        self.live_doc
            .with_value(|l| l.as_ref().filter(|d| d.node == id).cloned())
    }

    /// Whole seconds until the failed `id` may be retried.
    pub fn retry_wait_secs(&self, id: NodeId) -> u64 {
        self.ctl.with_value(|c| c.retry_wait_secs(id, now_ms()))
    }

    pub fn with_config<T>(&self, f: impl FnOnce(&WidgetConfig) -> T) -> T {
        self.config.with_value(f)
    }

    pub fn config(&self) -> WidgetConfig {
        self.config.get_value()
    }

    pub fn storage(&self) -> Option<Storage> {
        self.storage.get_value()
    }

    /// The configured endpoint, absolute: what conversations are bound to.
    pub fn endpoint_url(&self) -> String {
        crate::endpoint_url::resolve(&self.config.with_value(|c| c.endpoint.clone()))
    }

    /// What "View code" shows, after the path's images are back in memory.
    pub async fn current_request(&self, placeholder: &str) -> ChatRequest {
        self.load_path_images().await;
        self.ctl.with_value(|c| {
            c.current_request(placeholder, &|img| crate::images::data_url_for(&img.id))
        })
    }

    /// After a reload the path's images are only in storage: bring them back.
    async fn load_path_images(&self) {
        let Some(storage) = self.storage() else {
            return;
        };
        let ids: Vec<String> = self.with_conv(|c| {
            c.active_path()
                .iter()
                .flat_map(|n| n.images.iter().map(|i| i.id.clone()))
                .collect()
        });
        crate::images::load(&storage, &ids).await;
    }
}
