//! The playground page: conversations on the left, the chat in the middle, and on the
//! right the endpoint, the conversation's parameters, usage, templates, view code and
//! export/import. Everything here binds `Chat` and `confab_core` logic to views.

pub mod endpoint;
pub mod io;
pub mod settings;
pub mod sidebar;
pub mod strings;
pub mod templates;
pub mod view_code;

use crate::chat::Chat;
use crate::components::panel::{new_id, ChatPanel};
use crate::i18n::Lang;
use crate::storage::Storage;
use confab_core::conversation::Conversation;
use confab_core::widget_config::WidgetConfig;
use endpoint::{Endpoint, EndpointForm};
use leptos::prelude::*;
use leptos::task::spawn_local;
use settings::{SettingsForm, UsageSummary};
use sidebar::{Sidebar, Summary};
use strings::PlayStrings;

/// A message shown at the top of the page (import results, delete with undo).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub undo: Option<Conversation>,
}

/// The playground's shared state, provided once as context. `Copy`: handles only.
#[derive(Clone, Copy)]
pub struct Play {
    pub chat: Chat,
    pub s: &'static PlayStrings,
    pub endpoint: Endpoint,
    pub draft: RwSignal<String>,
    /// The id of the conversation shown; changes only when switching.
    pub conv_id: Memo<String>,
    pub storage: StoredValue<Option<Storage>, LocalStorage>,
    pub list: RwSignal<Vec<Summary>>,
    pub notice: RwSignal<Option<Notice>>,
}

impl Play {
    fn active_key(&self) -> String {
        format!(
            "active:{}",
            self.chat.config.with_value(|c| c.storage_key.clone())
        )
    }

    /// Shows `conv`, remembers it as the active one and brings back its draft.
    pub fn show(&self, conv: Conversation) {
        let id = conv.id.clone();
        self.chat.replace(conv);
        self.draft.set(String::new());
        if let Some(storage) = self.storage.get_value() {
            let key = self.active_key();
            let draft = self.draft;
            spawn_local(async move {
                storage.save_meta(&key, &id).await;
                let text = storage.load_draft(&id).await;
                if draft.get_untracked().is_empty() {
                    draft.set(text);
                }
            });
        }
    }

    /// A new, empty conversation that keeps the current settings.
    pub fn new_conversation(&self) {
        let settings = self.chat.with_conv(|c| c.settings.clone());
        let mut conv = Conversation::new(new_id(), js_sys::Date::now());
        conv.settings = settings;
        self.show(conv);
        self.chat.save();
    }

    /// Opens a stored conversation.
    pub fn open(&self, id: String) {
        if id == self.chat.conversation_id() {
            return;
        }
        let Some(storage) = self.storage.get_value() else {
            return;
        };
        let play = *self;
        spawn_local(async move {
            if let Some(conv) = storage.load_conversation(&id).await {
                play.show(conv);
            }
        });
    }

    pub fn say(&self, text: impl Into<String>, error: bool) {
        self.notice.set(Some(Notice {
            text: text.into(),
            error,
            undo: None,
        }));
    }
}

/// The page: mounted by `mount::mount_page_if_present` into `#confab-app`.
#[component]
pub fn Playground(config: WidgetConfig, lang: Lang) -> impl IntoView {
    let s = strings::strings(lang);
    let chat = Chat::new(
        config.clone(),
        lang,
        Conversation::new(new_id(), js_sys::Date::now()),
    );
    let conv_id = Memo::new(move |_| {
        chat.rev.track();
        chat.conversation_id()
    });
    let play = Play {
        chat,
        s,
        endpoint: Endpoint::new(config.endpoint.clone()),
        draft: RwSignal::new(String::new()),
        conv_id,
        storage: StoredValue::new_local(None),
        list: RwSignal::new(Vec::new()),
        notice: RwSignal::new(None),
    };
    provide_context(play);
    play.endpoint.connect(play);
    sidebar::connect(play);

    spawn_local(async move {
        if let Ok(storage) = Storage::open(|| {}).await {
            let convs = storage.load_conversations().await;
            play.list.update(|l| {
                for c in &convs {
                    if !l.iter().any(|x| x.id == c.id) {
                        l.push(Summary::of(c));
                    }
                }
            });
            play.storage.set_value(Some(storage));
        }
    });

    let wide = web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .is_some_and(|w| w >= 1100.0);
    let left_open = RwSignal::new(wide);
    let right_open = RwSignal::new(wide);
    let view_code_open = RwSignal::new(false);

    view! {
        <div class="cf-playground" class:cf-pg-left-open=move || left_open.get()
            class:cf-pg-right-open=move || right_open.get()>
            <div class="cf-pg-bar">
                <button type="button" class="cf-pg-btn" aria-expanded=move || left_open.get().to_string()
                    aria-controls="cf-pg-sidebar" on:click=move |_| left_open.update(|o| *o = !*o)>{s.conversations}</button>
                <span class="cf-pg-spacer"></span>
                <button type="button" class="cf-pg-btn" on:click=move |_| view_code_open.set(true)>{s.view_code}</button>
                <button type="button" class="cf-pg-btn" aria-expanded=move || right_open.get().to_string()
                    aria-controls="cf-pg-side" on:click=move |_| right_open.update(|o| *o = !*o)>{s.parameters}</button>
            </div>
            <NoticeBar />
            <aside id="cf-pg-sidebar" class="cf-pg-sidebar" aria-label=s.conversations>
                <Sidebar />
            </aside>
            <div class="cf-pg-main">
                <ChatPanel config=config lang=lang chat=chat draft=play.draft />
            </div>
            <aside id="cf-pg-side" class="cf-pg-side" aria-label=s.settings_panel>
                <EndpointForm />
                <SettingsForm />
                <UsageSummary />
                <io::ExportImport />
                <templates::Templates />
            </aside>
            <view_code::ViewCode open=view_code_open />
        </div>
    }
}

#[component]
fn NoticeBar() -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let undo = move |_| {
        let Some(conv) = play
            .notice
            .with_untracked(|n| n.as_ref().and_then(|n| n.undo.clone()))
        else {
            return;
        };
        play.notice.set(None);
        sidebar::restore(play, conv);
    };
    view! {
        {move || play.notice.get().map(|n| view! {
            <div class="cf-pg-notice" class:cf-pg-notice-error=n.error role=if n.error { "alert" } else { "status" }>
                <span class="cf-pg-notice-text">{n.text.clone()}</span>
                {n.undo.is_some().then(|| view! {
                    <button type="button" class="cf-pg-btn" on:click=undo>{s.undo}</button>
                })}
                <button type="button" class="cf-pg-btn cf-pg-icon" aria-label=s.close
                    on:click=move |_| play.notice.set(None)>"×"</button>
            </div>
        })}
    }
}

/// Mounts the playground into the page element.
pub fn render_page(el: web_sys::HtmlElement, config: WidgetConfig) {
    let lang = crate::mount::resolve_lang(config.lang);
    let theme = config.theme.as_str();
    let accent = config.accent.clone();
    let handle = leptos::mount::mount_to(el.clone(), move || {
        view! {
            <div class="cf-root cf-pg-root" data-theme=theme>
                <Playground config=config lang=lang />
            </div>
        }
    });
    crate::mount::set_root_accent(&el, &accent);
    handle.forget();
}
