//! Where the widget attaches to a page: the playground element, or any element (a shadow
//! root's container) handed over by the embed loader.

use crate::chat::{Chat, ChatHook, OnChat};
use crate::components::panel::ChatPanel;
use crate::i18n::Lang;
use confab_core::conversation::{MessageState, NodeId};
use confab_core::widget_config::{LangChoice, WidgetConfig};
use js_sys::Reflect;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// Query parameters the playground page understands. `endpoint` is read apart from these:
/// a link may point the page at another server, but then the page starts a new
/// conversation bound to it and shows it in the bar (stored conversations stay bound to
/// the endpoint they were made with).
#[cfg(feature = "playground")]
const PAGE_PARAMS: &[&str] = &["model", "lang", "theme", "title", "render"];

pub fn resolve_lang(choice: LangChoice) -> Lang {
    match choice {
        LangChoice::En => Lang::En,
        LangChoice::Zh => Lang::Zh,
        LangChoice::Auto => web_sys::window()
            .and_then(|w| w.navigator().language())
            .map(|tag| Lang::from_tag(&tag))
            .unwrap_or_default(),
    }
}

/// `data-*` attributes of `el` as (name, value) pairs, without the `data-` prefix.
#[cfg(feature = "playground")]
fn data_attributes(el: &HtmlElement) -> Vec<(String, String)> {
    let attrs = el.attributes();
    (0..attrs.length())
        .filter_map(|i| attrs.item(i))
        .filter_map(|a| {
            a.name()
                .strip_prefix("data-")
                .map(|n| (n.to_string(), a.value()))
        })
        .collect()
}

thread_local! {
    /// Warnings already printed: a widget that is mounted again does not repeat them.
    static WARNED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

fn warn_all(warnings: &[confab_core::widget_config::ConfigWarning]) {
    for w in warnings {
        let text = w.to_string();
        if WARNED.with(|seen| seen.borrow_mut().insert(text.clone())) {
            web_sys::console::warn_1(&text.into());
        }
    }
}

/// Mounts the panel into `el`; dropping the returned handle unmounts it.
fn render(el: HtmlElement, config: WidgetConfig, hook: Option<OnChat>) -> Box<dyn std::any::Any> {
    let lang = resolve_lang(config.lang);
    let theme = config.theme.as_str();
    let accent = config.accent.clone();
    let handle = leptos::mount::mount_to(el.clone(), move || {
        if let Some(hook) = hook {
            provide_context(ChatHook(StoredValue::new_local(hook)));
        }
        view! {
            <div class="cf-root" data-theme=theme>
                <ChatPanel config=config lang=lang />
            </div>
        }
    });
    set_root_accent(&el, &accent);
    Box::new(handle)
}

/// Mounts the playground panel into `#confab-app`, configured by its `data-*` attributes
/// and then by the page's query parameters.
#[cfg(feature = "playground")]
pub fn mount_page_if_present() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(el) = document
        .get_element_by_id("confab-app")
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    else {
        return;
    };
    let mut config = WidgetConfig::default();
    let attrs = data_attributes(&el);
    let mut warnings = config.apply_pairs(attrs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let query = document
        .location()
        .and_then(|l| l.search().ok())
        .unwrap_or_default();
    let mut from_link = false;
    if let Ok(params) = web_sys::UrlSearchParams::new_with_str(&query) {
        let pairs: Vec<(String, String)> = PAGE_PARAMS
            .iter()
            .filter_map(|k| params.get(k).map(|v| (k.to_string(), v)))
            .collect();
        warnings.extend(config.apply_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        if let Some(endpoint) = params.get("endpoint") {
            let refused = config.apply_pairs([("endpoint", endpoint.as_str())]);
            from_link = refused.is_empty();
            warnings.extend(refused);
        }
    }
    warn_all(&warnings);
    // The playground (conversations, settings and the chat panel) lives as long as the page.
    crate::playground::render_page(el, config, from_link);
}

/// Sets the accent colour on the `.cf-root` just mounted into `el` (no-op when empty).
/// Through the CSSOM, not a style attribute: a strict `style-src` refuses the latter.
pub fn set_root_accent(el: &HtmlElement, accent: &str) {
    if accent.is_empty() {
        return;
    }
    if let Some(root) = el
        .first_element_child()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = root.style().set_property("--cf-accent", accent);
    }
}

fn object_pairs(config: &JsValue) -> Vec<(String, String)> {
    let Some(obj) = config.dyn_ref::<js_sys::Object>() else {
        return Vec::new();
    };
    js_sys::Object::entries(obj)
        .iter()
        .filter_map(|entry| {
            let entry: js_sys::Array = entry.unchecked_into();
            Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
        })
        .collect()
}

/// The element page scripts listen on: the shadow root's host, else `el` itself.
fn event_target(el: &HtmlElement) -> web_sys::EventTarget {
    el.get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .map(|root| root.host().into())
        .unwrap_or_else(|_| el.clone().into())
}

fn set(obj: &js_sys::Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &key.into(), &value.into());
}

/// `confab:message` or `confab:error` for a settled answer, bubbling out of the shadow root.
fn announce_settled(target: &web_sys::EventTarget, chat: Chat, id: NodeId) {
    let detail = js_sys::Object::new();
    set(&detail, "conversationId", chat.conversation_id());
    set(&detail, "messageId", id);
    let name = chat.with_conv(|c| {
        let node = c.node(id)?;
        set(&detail, "role", node.role.as_str());
        set(&detail, "text", node.text.as_str());
        Some(match &node.state {
            MessageState::Failed(error) => {
                set(&detail, "message", error.to_string());
                set(&detail, "kind", error.kind.as_str());
                set(
                    &detail,
                    "status",
                    error.status.map(JsValue::from).unwrap_or(JsValue::NULL),
                );
                set(&detail, "retryable", error.is_retryable());
                "confab:error"
            }
            MessageState::Stopped | MessageState::Interrupted => {
                set(&detail, "state", "stopped");
                "confab:message"
            }
            _ => {
                set(&detail, "state", "done");
                "confab:message"
            }
        })
    });
    let Some(name) = name else { return };
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&detail);
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = target.dispatch_event(&event);
    }
}

/// One embedded widget, held by the embed loader: the page's API calls land here.
/// Freeing it (`widget.free()`) unmounts the panel.
#[wasm_bindgen]
pub struct Widget {
    chat: Rc<Cell<Option<Chat>>>,
    _handle: Box<dyn std::any::Any>,
}

#[wasm_bindgen]
impl Widget {
    fn with_chat<T: Default>(&self, f: impl FnOnce(Chat) -> T) -> T {
        self.chat.get().map(f).unwrap_or_default()
    }

    /// Sends `text` as the user; false while an answer is running or when `text` is blank.
    pub fn send(&self, text: String) -> bool {
        self.with_chat(|chat| chat.send(text, Vec::new()))
    }

    /// Stops the answer in progress, keeping its partial text.
    pub fn stop(&self) {
        self.with_chat(|chat| chat.stop())
    }

    pub fn busy(&self) -> bool {
        self.with_chat(|chat| chat.is_busy())
    }

    #[wasm_bindgen(js_name = conversationId)]
    pub fn conversation_id(&self) -> String {
        self.with_chat(|chat| chat.conversation_id())
    }

    /// Starts a new, empty conversation (the old one stays in storage).
    pub fn clear(&self) {
        self.with_chat(|chat| chat.new_conversation())
    }

    /// Applies settings to the next requests (endpoint, model, system-prompt, max-images,
    /// image-hosts); bad values are reported on the console and ignored. A new endpoint is
    /// the site owner's choice: the conversation shown goes there from now on.
    #[wasm_bindgen(js_name = setConfig)]
    pub fn set_config(&self, config: JsValue) {
        let pairs = object_pairs(&config);
        self.with_chat(|chat| warn_all(&chat.apply_config_pairs(&pairs)))
    }
}

/// Mounts a widget into `el` (inside a shadow root), configured by a JSON object of
/// `data-*` style keys, e.g. `{"endpoint": "/v1/chat/completions", "theme": "dark"}`.
/// Settled answers are announced as `confab:message` / `confab:error` events on the
/// shadow root's host.
#[wasm_bindgen]
pub fn mount(el: HtmlElement, config: JsValue) -> Widget {
    let mut widget = WidgetConfig::default();
    let pairs = object_pairs(&config);
    warn_all(&widget.apply_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    let chat = Rc::new(Cell::new(None));
    let slot = chat.clone();
    let target = event_target(&el);
    let hook: OnChat = Rc::new(move |c: Chat, settled: Option<NodeId>| match settled {
        None => slot.set(Some(c)),
        Some(id) => announce_settled(&target, c, id),
    });
    let handle = render(el, widget, Some(hook));
    Widget {
        chat,
        _handle: handle,
    }
}
