//! Component tests in headless Chromium (`cargo xtask test` runs them through
//! wasm-bindgen-test-runner and chromedriver).
#![cfg(target_arch = "wasm32")]

use confab::components::panel::ChatPanel;
use confab::i18n::Lang;
use confab_core::widget_config::WidgetConfig;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let div: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

fn mount_panel(lang: Lang) -> web_sys::HtmlElement {
    let el = container();
    let config = WidgetConfig {
        storage_key: format!("test-{}", js_sys::Math::random()),
        ..WidgetConfig::default()
    };
    leptos::mount::mount_to(
        el.clone(),
        move || view! { <ChatPanel config=config lang=lang /> },
    )
    .forget();
    el
}

#[wasm_bindgen_test]
fn the_panel_has_a_labelled_message_box_send_button_and_log() {
    let el = mount_panel(Lang::En);
    let textarea = el.query_selector("textarea[aria-label=Message]").unwrap();
    assert!(textarea.is_some(), "message box named Message");
    let send = el.query_selector("button.cf-send").unwrap().unwrap();
    assert_eq!(send.get_attribute("aria-label").as_deref(), Some("Send"));
    assert!(el.query_selector("[role=log]").unwrap().is_some());
    assert!(el.query_selector("[aria-live=polite]").unwrap().is_some());
}

#[wasm_bindgen_test]
fn chinese_strings_are_used_when_asked() {
    let el = mount_panel(Lang::Zh);
    let send = el.query_selector("button.cf-send").unwrap().unwrap();
    assert_eq!(send.text_content().unwrap().trim(), "发送");
}
