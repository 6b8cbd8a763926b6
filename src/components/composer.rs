//! The message box: auto-growing textarea, Enter sends (never while an IME is composing),
//! Shift+Enter adds a line, Send turns into Stop while answering, Esc stops.

use crate::chat::{Chat, Status};
use crate::components::attachments::{files_of, AttachButton, AttachmentTray, Attachments};
use leptos::html::Textarea;
use leptos::prelude::*;
use web_sys::KeyboardEvent;

/// Grows the textarea with its content, up to the CSS max-height.
fn autosize(el: &web_sys::HtmlTextAreaElement) {
    let style = web_sys::HtmlElement::style(el);
    let _ = style.set_property("height", "auto");
    let _ = style.set_property("height", &format!("{}px", el.scroll_height()));
}

#[component]
pub fn Composer(
    /// Focus returns here after sending or stopping.
    input_ref: NodeRef<Textarea>,
) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let draft = expect_context::<RwSignal<String>>();
    let attachments = expect_context::<Attachments>();
    let busy = move || chat.status() != Status::Ready;

    let save_draft = move |text: String| chat.save_draft(text);

    // Send pressed while images are still being prepared: it happens when they are ready.
    let queued = RwSignal::new(false);
    let send = move || {
        let text = draft.get_untracked();
        let no_images = attachments.items.with_untracked(Vec::is_empty);
        if attachments.pending.get_untracked() > 0 {
            queued.set(true);
            return;
        }
        if chat.is_busy() || (text.trim().is_empty() && no_images) {
            return;
        }
        let images = attachments.take_for_send(&chat);
        if chat.send(text, images) {
            attachments.clear();
            draft.set(String::new());
            save_draft(String::new());
            if let Some(el) = input_ref.get_untracked() {
                el.set_value("");
                autosize(&el);
            }
        }
    };

    Effect::new(move |_| {
        if attachments.pending.get() > 0 || !queued.get_untracked() {
            return;
        }
        queued.set(false);
        // A file that could not be prepared leaves a message: the user decides again.
        if attachments.notices.with_untracked(Vec::is_empty) {
            send();
        }
    });

    // Text put in from outside (a restored draft, a template) sizes the box too.
    Effect::new(move |_| {
        draft.track();
        request_animation_frame(move || {
            if let Some(el) = input_ref.get_untracked() {
                autosize(&el);
            }
        });
    });

    let on_keydown = move |ev: KeyboardEvent| {
        // keyCode 229 covers browsers that end composition before firing keydown.
        let composing = ev.is_composing() || ev.key_code() == 229;
        match ev.key().as_str() {
            "Enter" if !ev.shift_key() && !composing => {
                ev.prevent_default();
                if !busy() {
                    send();
                }
            }
            "Escape" if busy() => {
                ev.prevent_default();
                chat.stop();
            }
            _ => {}
        }
    };

    let on_input = move |ev: web_sys::Event| {
        let value = event_target_value(&ev);
        if let Some(el) = input_ref.get_untracked() {
            autosize(&el);
        }
        draft.set(value.clone());
        save_draft(value);
    };

    // Pasted screenshots and copied image files become attachments; pasted text stays text.
    let on_paste = move |ev: web_sys::ClipboardEvent| {
        let files = files_of(ev.clipboard_data().and_then(|d| d.files()));
        if !files.is_empty() {
            ev.prevent_default();
            attachments.add_files(files, chat.with_config(|c| c.max_images));
        }
    };

    let on_button = move |_| {
        if busy() {
            chat.stop();
        } else {
            send();
        }
        if let Some(el) = input_ref.get_untracked() {
            let _ = el.focus();
        }
    };

    view! {
        <AttachmentTray />
        <form class="cf-composer" part="composer" on:submit=|ev| ev.prevent_default()>
            <AttachButton />
            <textarea
                class="cf-input"
                node_ref=input_ref
                rows="1"
                aria-label=t.message
                placeholder=t.placeholder
                dir="auto"
                prop:value=move || draft.get()
                on:input=on_input
                on:keydown=on_keydown
                on:paste=on_paste
            ></textarea>
            <button
                type="button"
                class="cf-send"
                class:cf-stop=busy
                part="send-button"
                aria-label=move || if busy() { t.stop } else { t.send }
                on:click=on_button
            >
                {move || if busy() { t.stop } else { t.send }}
            </button>
        </form>
    }
}
