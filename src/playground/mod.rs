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

use crate::chat::new_id;
use crate::chat::Chat;
use crate::components::panel::ChatPanel;
use crate::i18n::Lang;
use crate::storage::Storage;
use confab_core::conversation::{Conversation, EndpointCheck};
use confab_core::search::Summary;
use confab_core::widget_config::WidgetConfig;
use endpoint::{Endpoint, EndpointForm};
use leptos::prelude::*;
use leptos::task::spawn_local;
use settings::{SettingsForm, UsageSummary};
use sidebar::Sidebar;
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
    /// Shows `conv` and brings back its draft.
    pub fn show(&self, conv: Conversation) {
        let id = conv.id.clone();
        self.chat.show(conv);
        self.draft.set(String::new());
        if let Some(storage) = self.storage.get_value() {
            let draft = self.draft;
            spawn_local(async move {
                let text = storage.load_draft(&id).await;
                if draft.get_untracked().is_empty() {
                    draft.set(text);
                }
            });
        }
    }

    /// "New chat": an empty conversation that keeps the current settings.
    pub fn new_conversation(&self) {
        self.chat.new_conversation();
        self.draft.set(String::new());
    }

    /// Opens a stored conversation.
    pub fn open(&self, id: String) {
        if id == self.chat.with_conv(|c| c.id.clone()) {
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

/// The page: mounted by `mount::mount_page_if_present` into `#confab-app`. `from_link`:
/// the endpoint came from the page's `?endpoint=`, so the page starts a new conversation
/// bound to it instead of the one shown last.
#[component]
pub fn Playground(mut config: WidgetConfig, lang: Lang, from_link: bool) -> impl IntoView {
    let s = strings::strings(lang);
    let endpoint = Endpoint::new(config.endpoint.clone(), from_link);
    config.endpoint = endpoint.url_untracked();
    let mut first = Conversation::new(new_id(), js_sys::Date::now());
    if from_link {
        first.rebind_endpoint(&crate::endpoint_url::resolve(&config.endpoint));
    }
    let chat = Chat::new(config.clone(), lang, first);
    let conv_id = Memo::new(move |_| chat.conversation_id());
    let play = Play {
        chat,
        s,
        endpoint,
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
    let bar_endpoint = move || s.endpoint_now.replace("{url}", &play.endpoint.resolved());

    view! {
        <div class="cf-playground" class:cf-pg-left-open=move || left_open.get()
            class:cf-pg-right-open=move || right_open.get()>
            <div class="cf-pg-bar">
                <button type="button" class="cf-pg-btn" aria-expanded=move || left_open.get().to_string()
                    aria-controls="cf-pg-sidebar" on:click=move |_| left_open.update(|o| *o = !*o)>{s.conversations}</button>
                <span class="cf-pg-bar-endpoint cf-pg-mono" data-testid="bar-endpoint" title=bar_endpoint>{bar_endpoint}</span>
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
                <ChatPanel config=config lang=lang chat=chat draft=play.draft fresh=from_link>
                    <EndpointMoved />
                </ChatPanel>
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

/// Above the composer when the conversation shown was made with another endpoint than the
/// one configured: sending is refused (`Chat::send`) until the user sends it here on purpose.
#[component]
fn EndpointMoved() -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let moved = move || {
        let current = play.endpoint.resolved();
        let text = match play.chat.endpoint_check(&current) {
            EndpointCheck::Moved { bound } => s.endpoint_moved.replace("{bound}", &bound),
            EndpointCheck::Unconfirmed => s.endpoint_unconfirmed.to_owned(),
            _ => return None,
        };
        Some((text.replace("{current}", &current), current))
    };
    view! {
        {move || moved().map(|(text, current)| view! {
            <div class="cf-pg-moved" role="alert" data-testid="endpoint-moved">
                <p class="cf-pg-moved-text">{text}</p>
                <button type="button" class="cf-pg-btn cf-pg-primary"
                    on:click=move |_| play.chat.rebind_endpoint()>
                    {s.send_it_to.replace("{current}", &current)}
                </button>
            </div>
        })}
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
pub fn render_page(el: web_sys::HtmlElement, config: WidgetConfig, from_link: bool) {
    let lang = crate::mount::resolve_lang(config.lang);
    let theme = config.theme.as_str();
    let accent = config.accent.clone();
    let handle = leptos::mount::mount_to(el.clone(), move || {
        view! {
            <div class="cf-root cf-pg-root" data-theme=theme>
                <Playground config=config lang=lang from_link=from_link />
            </div>
        }
    });
    crate::mount::set_root_accent(&el, &accent);
    handle.forget();
}
