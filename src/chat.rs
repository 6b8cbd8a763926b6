//! The chat controller: one conversation, the answer in flight and the commands the views
//! call. The conversation tree itself (branches, states, request building) is
//! `confab_core::conversation`; this file only ties it to signals, transport and storage.

use crate::i18n::Lang;
use crate::storage::Storage;
use crate::transport::{send_chat, Abort, Outcome};
use confab_core::conversation::{Conversation, MessageState, Node, NodeId};
use confab_core::stream::StreamEvent;
use confab_core::widget_config::WidgetConfig;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What the panel is doing. Errors are not a status: they belong to the message that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ready,
    /// Request sent, nothing received yet.
    Submitted,
    Streaming,
}

/// The answer being written: its node and the text received so far, published at most once
/// per animation frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveAnswer {
    pub id: Option<NodeId>,
    pub text: String,
    pub reasoning: String,
}

/// Cheap to copy; provided as context at the panel's root.
#[derive(Clone, Copy)]
pub struct Chat {
    pub(crate) conv: StoredValue<Conversation>,
    /// Bumped whenever the visible path or a settled message changes.
    pub rev: RwSignal<u64>,
    pub status: RwSignal<Status>,
    pub live: RwSignal<LiveAnswer>,
    /// Text for the polite live region.
    pub announce: RwSignal<String>,
    pub config: StoredValue<WidgetConfig>,
    pub lang: Lang,
    pub storage: StoredValue<Option<Storage>, LocalStorage>,
    abort: StoredValue<Option<Abort>, LocalStorage>,
    frame_pending: StoredValue<bool>,
    /// When the streaming answer was last written to storage.
    last_save_ms: StoredValue<f64>,
    /// The embed mount's hook (from context), told about this chat and every settled answer.
    hook: Option<ChatHook>,
}

/// Provided as context by the embed mount: called with `None` when a chat is created and
/// with the answer's id whenever an answer completes, stops or fails.
#[derive(Clone, Copy)]
pub struct ChatHook(pub StoredValue<OnChat, LocalStorage>);

pub type OnChat = std::rc::Rc<dyn Fn(Chat, Option<NodeId>)>;

/// While streaming, the partial answer is saved this often, so a reload keeps it.
const STREAM_SAVE_INTERVAL_MS: f64 = 1000.0;

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Chat {
    pub fn new(config: WidgetConfig, lang: Lang, conv: Conversation) -> Self {
        let hook = use_context::<ChatHook>();
        let chat = Chat {
            lang,
            conv: StoredValue::new(conv),
            rev: RwSignal::new(0),
            status: RwSignal::new(Status::Ready),
            live: RwSignal::new(LiveAnswer::default()),
            announce: RwSignal::new(String::new()),
            config: StoredValue::new(config),
            storage: StoredValue::new_local(None),
            abort: StoredValue::new_local(None),
            frame_pending: StoredValue::new(false),
            last_save_ms: StoredValue::new(0.0),
            hook,
        };
        if let Some(hook) = hook {
            hook.0.try_with_value(|f| f(chat, None));
        }
        chat
    }

    /// Reads the conversation; subscribe to `rev` first when used in a view.
    pub fn with_conv<T>(&self, f: impl FnOnce(&Conversation) -> T) -> T {
        self.conv.with_value(f)
    }

    /// The messages on the active path, re-read whenever `rev` changes.
    pub fn path(&self) -> Vec<Node> {
        self.rev.track();
        self.conv
            .with_value(|c| c.active_path().into_iter().cloned().collect())
    }

    pub fn conversation_id(&self) -> String {
        self.conv.with_value(|c| c.id.clone())
    }

    /// Replaces the conversation (load, new chat, switching). Stops any answer first.
    pub fn replace(&self, mut conv: Conversation) {
        self.stop();
        conv.mark_interrupted();
        self.conv.set_value(conv);
        self.live.set(LiveAnswer::default());
        self.touch();
    }

    pub fn is_busy(&self) -> bool {
        self.status.get_untracked() != Status::Ready
    }

    /// The configured endpoint, absolute: what conversations are bound to.
    pub fn endpoint_url(&self) -> String {
        crate::endpoint_url::resolve(&self.config.with_value(|c| c.endpoint.clone()))
    }

    /// Whether the conversation shown may go to the configured endpoint; an unbound one
    /// is bound to it now. One made with another endpoint is refused: nothing is sent
    /// until the user rebinds it (`rebind_endpoint`).
    fn claim_endpoint(&self) -> bool {
        let url = self.endpoint_url();
        self.conv
            .try_update_value(|c| c.claim_endpoint(&url).is_ok())
            .unwrap_or(false)
    }

    /// The user (a button, the endpoint form) or the site owner (`setConfig`) chose the
    /// configured endpoint: a conversation made with another one is bound to it from now
    /// on. An unbound conversation stays unbound until its first request.
    pub fn rebind_endpoint(&self) {
        let url = self.endpoint_url();
        let moved = self.conv.with_value(|c| !c.endpoint_check(&url).may_send());
        if moved {
            self.conv.update_value(|c| c.rebind_endpoint(&url));
            self.touch();
            self.save();
        }
    }

    /// Sends a user message. Returns false (and changes nothing) while an answer is running
    /// or when there is nothing to send.
    pub fn send(&self, text: String, images: Vec<confab_core::conversation::ImageRef>) -> bool {
        if self.is_busy() || (text.trim().is_empty() && images.is_empty()) {
            return false;
        }
        if !self.claim_endpoint() {
            return false;
        }
        let answer = self.conv.try_update_value(|c| {
            let user = c.push_user(text, images, now_ms());
            c.start_assistant(user, now_ms())
        });
        if let Some(answer) = answer {
            self.run(answer);
        }
        true
    }

    /// A new answer to the same question, kept beside the old one.
    pub fn regenerate(&self, assistant: NodeId) {
        if self.is_busy() || !self.claim_endpoint() {
            return;
        }
        let answer = self
            .conv
            .try_update_value(|c| c.regenerate(assistant, now_ms()));
        if let Some(answer) = answer {
            self.run(answer);
        }
    }

    /// Edits a user message as a new branch and answers it.
    pub fn edit(&self, user: NodeId, text: String) {
        if self.is_busy() || text.trim().is_empty() || !self.claim_endpoint() {
            return;
        }
        let answer = self.conv.try_update_value(|c| {
            let images = c.node(user).map(|n| n.images.clone()).unwrap_or_default();
            let edited = c.edit_user(user, text, images, now_ms());
            c.start_assistant(edited, now_ms())
        });
        if let Some(answer) = answer {
            self.run(answer);
        }
    }

    pub fn switch_sibling(&self, id: NodeId, delta: i32) {
        if self.is_busy() {
            return;
        }
        self.conv.update_value(|c| {
            c.switch_sibling(id, delta);
        });
        self.touch();
        self.save();
    }

    pub fn stop(&self) {
        if let Some(abort) = self.abort.get_value() {
            abort.abort();
        }
    }

    /// Asks the model to go on with an answer that stopped at the length limit; the new
    /// text is appended to the same message.
    pub fn continue_answer(&self, id: NodeId) {
        if self.is_busy() || !self.claim_endpoint() {
            return;
        }
        let resumed = self.conv.try_update_value(|c| {
            let node = c.nodes.get_mut(id as usize)?;
            node.state = MessageState::Streaming;
            node.finish = None;
            Some(())
        });
        if resumed.flatten().is_some() {
            self.run_with_context(id, Some(id));
        }
    }

    fn run(&self, answer: NodeId) {
        self.run_with_context(answer, None);
    }

    /// Streams into `answer`. The request holds the path up to `upto`, by default the
    /// message the answer replies to.
    fn run_with_context(&self, answer: NodeId, upto: Option<NodeId>) {
        let config = self.config.get_value();
        let abort = Abort::new();
        self.abort.set_value(Some(abort.clone()));
        self.status.set(Status::Submitted);
        self.live.set(LiveAnswer {
            id: Some(answer),
            ..Default::default()
        });
        self.announce.set(self.lang.t().answering.to_string());
        self.touch();
        self.save();

        let chat = *self;
        spawn_local(async move {
            // After a reload the path's images are only in storage: bring them back first.
            if let Some(storage) = chat.storage.get_value() {
                let ids: Vec<String> = chat.conv.with_value(|c| {
                    c.active_path()
                        .iter()
                        .flat_map(|n| n.images.iter().map(|i| i.id.clone()))
                        .collect()
                });
                crate::images::load(&storage, &ids).await;
            }
            let mut request = chat.conv.with_value(|c| {
                let upto = upto
                    .or_else(|| c.node(answer).and_then(|n| n.parent))
                    .unwrap_or(answer);
                c.build_request(upto, |img| crate::images::data_url_for(&img.id))
            });
            if request.model.is_empty() && !config.model.is_empty() {
                request.model = config.model.clone();
            }
            confab_core::conversation::apply_configured_system_prompt(
                &mut request,
                &config.system_prompt,
            );
            let outcome = send_chat(&config.endpoint, &config.headers, &request, &abort, |ev| {
                chat.apply(answer, ev)
            })
            .await;
            chat.settle(answer, outcome);
        });
    }

    fn apply(&self, id: NodeId, event: StreamEvent) {
        self.conv.update_value(|c| c.apply(id, &event));
        if matches!(event, StreamEvent::Content(_) | StreamEvent::Reasoning(_)) {
            self.mark_streaming();
        }
    }

    fn mark_streaming(&self) {
        if self.status.get_untracked() == Status::Submitted {
            self.status.set(Status::Streaming);
        }
        self.schedule_frame();
    }

    /// Publishes the received text at most once per animation frame.
    fn schedule_frame(&self) {
        if self.frame_pending.get_value() {
            return;
        }
        self.frame_pending.set_value(true);
        let chat = *self;
        request_animation_frame(move || {
            chat.frame_pending.set_value(false);
            chat.publish_live();
        });
    }

    fn publish_live(&self) {
        let Some(id) = self.live.with_untracked(|l| l.id) else {
            return;
        };
        let (text, reasoning) = self.conv.with_value(|c| {
            c.node(id)
                .map(|n| (n.text.clone(), n.reasoning.clone()))
                .unwrap_or_default()
        });
        self.live.set(LiveAnswer {
            id: Some(id),
            text,
            reasoning,
        });
        if now_ms() - self.last_save_ms.get_value() > STREAM_SAVE_INTERVAL_MS {
            self.save();
        }
    }

    fn settle(&self, id: NodeId, outcome: Outcome) {
        self.conv.update_value(|c| {
            let still_streaming = c
                .node(id)
                .is_some_and(|n| matches!(n.state, MessageState::Streaming));
            if still_streaming && outcome == Outcome::Aborted {
                c.stop(id);
            }
        });
        self.abort.set_value(None);
        self.live.set(LiveAnswer::default());
        self.status.set(Status::Ready);
        let failed = self.conv.with_value(|c| {
            c.node(id)
                .is_some_and(|n| matches!(n.state, MessageState::Failed(_)))
        });
        let t = self.lang.t();
        self.announce.set(if failed {
            String::new()
        } else {
            t.answer_complete.to_string()
        });
        self.touch();
        self.save();
        if let Some(hook) = self.hook {
            hook.0.try_with_value(|f| f(*self, Some(id)));
        }
    }

    /// The messages changed in a way the list must show.
    pub fn touch(&self) {
        self.rev.update(|r| *r += 1);
    }

    pub fn save(&self) {
        self.last_save_ms.set_value(now_ms());
        if let Some(storage) = self.storage.get_value() {
            let conv = self.conv.with_value(|c| c.clone());
            spawn_local(async move { storage.save_conversation(&conv).await });
        }
    }

    /// Text of a message, for Copy.
    pub fn text_of(&self, id: NodeId) -> String {
        self.conv
            .with_value(|c| c.node(id).map(|n| n.text.clone()).unwrap_or_default())
    }

    pub fn siblings(&self, id: NodeId) -> (usize, usize) {
        self.conv.with_value(|c| c.siblings(id))
    }
}
