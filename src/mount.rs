//! Where the widget attaches to a page: the playground element, or any element (a shadow
//! root's container) handed over by the embed loader.

use crate::components::panel::ChatPanel;
use crate::i18n::Lang;
use confab_core::widget_config::{LangChoice, WidgetConfig};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// Query parameters the playground page understands, so one page can talk to any server.
const PAGE_PARAMS: &[&str] = &["endpoint", "model", "lang", "theme", "title"];

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

fn warn_all(warnings: &[confab_core::widget_config::ConfigWarning]) {
    for w in warnings {
        web_sys::console::warn_1(&w.to_string().into());
    }
}

fn render(el: HtmlElement, config: WidgetConfig) {
    let lang = resolve_lang(config.lang);
    let theme = config.theme.as_str();
    let accent = config.accent.clone();
    let handle = leptos::mount::mount_to(el, move || {
        view! {
            <div class="cf-root" data-theme=theme style=(!accent.is_empty()).then(|| format!("--cf-accent: {accent}"))>
                <ChatPanel config=config lang=lang />
            </div>
        }
    });
    handle.forget();
}

/// Mounts the playground panel into `#confab-app`, configured by its `data-*` attributes
/// and then by the page's query parameters.
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
    if let Ok(params) = web_sys::UrlSearchParams::new_with_str(&query) {
        let pairs: Vec<(String, String)> = PAGE_PARAMS
            .iter()
            .filter_map(|k| params.get(k).map(|v| (k.to_string(), v)))
            .collect();
        warnings.extend(config.apply_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    }
    warn_all(&warnings);
    render(el, config);
}

/// Mounts a widget into `el` (inside a shadow root), configured by a JSON object of
/// `data-*` style keys, e.g. `{"endpoint": "/v1/chat/completions", "theme": "dark"}`.
#[wasm_bindgen]
pub fn mount(el: HtmlElement, config: JsValue) {
    let mut widget = WidgetConfig::default();
    let mut warnings = Vec::new();
    if let Some(obj) = config.dyn_ref::<js_sys::Object>() {
        let pairs: Vec<(String, String)> = js_sys::Object::entries(obj)
            .iter()
            .filter_map(|entry| {
                let entry: js_sys::Array = entry.unchecked_into();
                Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
            })
            .collect();
        warnings = widget.apply_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    warn_all(&warnings);
    render(el, widget);
}
