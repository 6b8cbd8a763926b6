//! Editing a sent message: the new text is sent as a new branch; the old one stays
//! reachable with the sibling arrows.

use crate::chat::Chat;
use confab_core::conversation::NodeId;
use leptos::html::Textarea;
use leptos::prelude::*;

#[component]
pub fn EditBox(id: NodeId, text: String, editing: RwSignal<bool>) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let input = NodeRef::<Textarea>::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let save = move || {
        if let Some(el) = input.get_untracked() {
            editing.set(false);
            chat.edit(id, el.value());
        }
    };
    view! {
        <div class="cf-edit">
            <textarea class="cf-input cf-edit-input" node_ref=input aria-label=t.message dir="auto" prop:value=text
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    let composing = ev.is_composing() || ev.key_code() == 229;
                    if ev.key() == "Enter" && !ev.shift_key() && !composing {
                        ev.prevent_default();
                        save();
                    } else if ev.key() == "Escape" {
                        editing.set(false);
                    }
                }
            ></textarea>
            <div class="cf-edit-actions">
                <button type="button" class="cf-action cf-primary" on:click=move |_| save()>{t.save_and_send}</button>
                <button type="button" class="cf-action" on:click=move |_| editing.set(false)>{t.cancel}</button>
            </div>
        </div>
    }
}
