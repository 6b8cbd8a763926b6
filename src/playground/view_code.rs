//! "View code": the request of the shown conversation as curl, Python or JavaScript, built
//! by `confab_core::snippets` from the same `build_request` the chat sends.

use super::Play;
use crate::chat::Chat;
use confab_core::protocol::ChatRequest;
use confab_core::snippets::{snippet, Lang, Target};
use leptos::html::Dialog;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The endpoint as an absolute URL (a same-origin path gets the page's origin).
fn absolute_endpoint(chat: Chat) -> String {
    crate::endpoint_url::resolve(&chat.with_config(|c| c.endpoint.clone()))
}

#[component]
pub fn ViewCode(open: RwSignal<bool>) -> impl IntoView {
    let play = expect_context::<Play>();
    let s = play.s;
    let chat = play.chat;
    let dialog = NodeRef::<Dialog>::new();
    let lang = RwSignal::new(Lang::Curl);
    let reveal = RwSignal::new(false);
    let request = RwSignal::new(None::<ChatRequest>);
    let copied = RwSignal::new(false);

    Effect::new(move |_| {
        let Some(el) = dialog.get() else { return };
        if open.get() {
            copied.set(false);
            reveal.set(false);
            // Images of the path may be only in storage after a reload: load them first.
            spawn_local(async move {
                let draft = play.draft.get_untracked();
                let placeholder = if draft.trim().is_empty() {
                    "Hello!".to_owned()
                } else {
                    draft
                };
                request.set(Some(chat.current_request(&placeholder).await));
            });
            if !el.open() {
                let _ = el.show_modal();
            }
        } else if el.open() {
            el.close();
        }
    });

    let code = move || {
        let req = request.get()?;
        let url = absolute_endpoint(chat);
        let headers = chat.with_config(|c| c.headers.clone());
        let target = Target {
            url: &url,
            headers: &headers,
            reveal: reveal.get(),
        };
        Some(snippet(lang.get(), &target, &req))
    };
    let has_secret = move || {
        chat.with_config(|c| {
            c.headers
                .iter()
                .any(|(k, _)| confab_core::snippets::is_secret_header(k))
        })
    };
    let copy = move |_| {
        let Some(text) = code() else { return };
        if let Some(w) = web_sys::window() {
            let promise = w.navigator().clipboard().write_text(&text);
            spawn_local(async move {
                if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                    copied.set(true);
                }
            });
        }
    };

    view! {
        <dialog node_ref=dialog class="cf-pg-dialog" aria-labelledby="cf-pg-code-h"
            on:close=move |_| open.set(false)>
            <div class="cf-pg-dialog-head">
                <h3 id="cf-pg-code-h" class="cf-pg-h">{s.view_code}</h3>
                <button type="button" class="cf-pg-btn cf-pg-icon" aria-label=s.close
                    on:click=move |_| open.set(false)>"×"</button>
            </div>
            <p class="cf-pg-hint">{s.code_note}</p>
            <div class="cf-pg-tabs" role="tablist">
                {Lang::ALL.into_iter().map(|l| view! {
                    <button type="button" role="tab" class="cf-pg-tab"
                        aria-selected=move || (lang.get() == l).to_string()
                        on:click=move |_| { lang.set(l); copied.set(false); }>{l.label()}</button>
                }).collect_view()}
            </div>
            <pre class="cf-pg-code" role="tabpanel" data-lang=move || lang.get().as_str()><code>{code}</code></pre>
            <div class="cf-pg-dialog-foot">
                <Show when=has_secret>
                    <label class="cf-pg-check">
                        <input type="checkbox" prop:checked=move || reveal.get()
                            on:change=move |ev| reveal.set(event_target_checked(&ev)) />
                        <span>{s.reveal_key}</span>
                    </label>
                </Show>
                <span class="cf-pg-spacer"></span>
                <button type="button" class="cf-pg-btn cf-pg-primary" on:click=copy>
                    {move || if copied.get() { s.copied } else { s.copy }}
                </button>
            </div>
        </dialog>
    }
}
