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

fn mount_markdown(text: &str) -> web_sys::HtmlElement {
    use confab::chat::Chat;
    use confab::markdown_view::MessageBody;
    use confab_core::conversation::Conversation;
    let el = container();
    let text = text.to_string();
    leptos::mount::mount_to(el.clone(), move || {
        provide_context(Chat::new(
            WidgetConfig::default(),
            Lang::En,
            Conversation::new("t".into(), 0.0),
        ));
        view! { <MessageBody text=Signal::stored(text) streaming=false /> }
    })
    .forget();
    el
}

#[wasm_bindgen_test]
fn hostile_markdown_becomes_text_without_handlers_or_unsafe_urls() {
    let el = mount_markdown(
        "[x](javascript:alert(1)) <img src=x onerror=alert(1)> ![p](https://evil.example/?q=secret)\n\n\
         <script>alert(2)</script>\n\n[ok](https://example.com)",
    );
    assert!(el
        .query_selector("script, img, [onerror]")
        .unwrap()
        .is_none());
    assert!(el.query_selector("a[href^=javascript]").unwrap().is_none());
    let text = el.text_content().unwrap();
    assert!(text.contains("<img src=x onerror=alert(1)>"), "{text}");
    assert!(text.contains("<script>alert(2)</script>"), "{text}");
    let placeholder = el.query_selector(".cf-image-placeholder").unwrap().unwrap();
    assert!(placeholder.text_content().unwrap().contains("evil.example"));
    let link = el.query_selector("a").unwrap().unwrap();
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("https://example.com")
    );
    assert_eq!(
        link.get_attribute("rel").as_deref(),
        Some("noopener noreferrer nofollow")
    );
}

#[wasm_bindgen_test]
fn tables_and_code_blocks_render_as_elements() {
    let el = mount_markdown(
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```rust\nfn main() { let x = 1; }\n```\n",
    );
    let th = el.query_selector("th").unwrap().unwrap();
    assert_eq!(th.get_attribute("class").as_deref(), Some("cf-align-left"));
    assert!(el.query_selector("td").unwrap().is_some());
    let copy = el.query_selector(".cf-code-copy").unwrap().unwrap();
    assert_eq!(
        copy.get_attribute("aria-label").as_deref(),
        Some("Copy code")
    );
}

/// A stand-in for the page's loader: "highlight" is the tokenizer the real module wraps.
fn provide_highlighter() {
    use wasm_bindgen::prelude::*;
    let highlight_code =
        Closure::<dyn Fn(String, String) -> Vec<u32>>::new(|lang: String, code: String| {
            confab_core::highlight::highlight(&lang, &code)
                .into_iter()
                .flat_map(|(kind, text)| [kind as u32, text.len() as u32])
                .collect()
        });
    let module = js_sys::Object::new();
    js_sys::Reflect::set(&module, &"highlight_code".into(), highlight_code.as_ref()).unwrap();
    highlight_code.forget();
    let load = Closure::<dyn Fn(String) -> js_sys::Promise>::new(move |name: String| {
        assert_eq!(name, "highlight");
        js_sys::Promise::resolve(&JsValue::from(module.clone()))
    });
    confab::lazy_module::set_module_loader(
        load.as_ref().unchecked_ref::<js_sys::Function>().clone(),
    );
    load.forget();
}

async fn next_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn code_is_plain_text_until_the_highlighter_module_colors_it() {
    let code = "fn main() { let x = 1; }";
    let el = mount_markdown(&format!("```rust\n{code}\n```\n"));
    let text = el.query_selector(".cf-code pre code").unwrap().unwrap();
    assert_eq!(
        text.text_content().as_deref(),
        Some(format!("{code}\n").as_str())
    );
    assert!(
        el.query_selector(".cf-tok-kw").unwrap().is_none(),
        "no colors before the module"
    );
    provide_highlighter();
    for _ in 0..100 {
        if el.query_selector(".cf-tok-kw").unwrap().is_some() {
            break;
        }
        next_frame().await;
    }
    let kw = el.query_selector(".cf-code .cf-tok-kw").unwrap().unwrap();
    assert_eq!(kw.text_content().as_deref(), Some("fn"));
    // The same text, only colored.
    assert_eq!(
        text.text_content().as_deref(),
        Some(format!("{code}\n").as_str())
    );
}
