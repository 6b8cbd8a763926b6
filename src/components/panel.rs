//! The chat panel: header, transcript, composer and the announcements for screen readers.
//! It restores the last conversation and its draft from storage when it mounts.

use crate::chat::{new_id, Chat};
use crate::components::attachments::{files_of, Attachments};
use crate::components::composer::Composer;
use crate::components::message_list::MessageList;
use crate::i18n::Lang;
use crate::storage::Storage;
use confab_core::conversation::Conversation;
use confab_core::widget_config::WidgetConfig;
use leptos::html::Textarea;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn ChatPanel(
    config: WidgetConfig,
    lang: Lang,
    /// A chat created by the page around the panel (the playground); by default its own.
    #[prop(optional)]
    chat: Option<Chat>,
    /// The composer's text, when the page around the panel needs to fill it.
    #[prop(optional)]
    draft: Option<RwSignal<String>>,
    /// Start with the chat's own (new) conversation instead of the one shown last: the
    /// playground opened by an `?endpoint=` link.
    #[prop(optional)]
    fresh: bool,
    /// Shown between the messages and the composer (the playground's endpoint notice).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let t = lang.t();
    // The page around a given chat has its own "New chat" (the playground's list).
    let own = chat.is_none();
    let chat = chat.unwrap_or_else(|| {
        Chat::new(
            config.clone(),
            lang,
            Conversation::new(new_id(), js_sys::Date::now()),
        )
    });
    let draft = draft.unwrap_or_else(|| RwSignal::new(String::new()));
    let storage_warning = RwSignal::new(false);
    provide_context(chat);
    provide_context(draft);
    let attachments = Attachments::new();
    provide_context(attachments);
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let files = files_of(ev.data_transfer().and_then(|d| d.files()));
        attachments.add_files(files, chat.with_config(|c| c.max_images));
    };
    let on_dragover = move |ev: web_sys::DragEvent| {
        let has_files = ev
            .data_transfer()
            .is_some_and(|d| d.types().includes(&"Files".into(), 0));
        if has_files {
            ev.prevent_default();
            dragging.set(true);
        }
    };
    let input_ref = NodeRef::<Textarea>::new();

    // Restore the last conversation and its draft; without storage the chat stays in memory.
    // Only one that may be sent to the configured endpoint: a conversation made with
    // another endpoint is never picked up by a widget pointed elsewhere.
    spawn_local(async move {
        match Storage::open(move || storage_warning.set(true)).await {
            Ok(storage) => {
                // Set first: restored messages read their images from storage as they render.
                chat.attach_storage(storage.clone());
                let last = if fresh { None } else { chat.load_last().await };
                match last {
                    Some(conv) => chat.show(conv),
                    None => chat.remember_active(),
                }
                let text = storage.load_draft(&chat.with_conv(|c| c.id.clone())).await;
                if draft.get_untracked().is_empty() {
                    draft.set(text);
                }
            }
            Err(e) => {
                web_sys::console::warn_2(&"Confab: storage unavailable".into(), &e);
                storage_warning.set(true);
            }
        }
    });

    let new_chat = move |_| {
        chat.new_conversation();
        draft.set(String::new());
        attachments.clear();
        if let Some(el) = input_ref.get_untracked() {
            let _ = el.focus();
        }
    };

    view! {
        <section class="cf-panel" part="panel" lang=lang.as_str() aria-label=config.title.clone()
            on:dragover=on_dragover
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <Show when=move || dragging.get()>
                <div class="cf-dropzone" part="dropzone">{t.drop_here}</div>
            </Show>
            <header class="cf-header" part="header">
                <h2 class="cf-title">{config.title.clone()}</h2>
                {own.then(|| view! {
                    <button type="button" class="cf-action" on:click=new_chat>{t.new_chat}</button>
                })}
            </header>
            <Show when=move || storage_warning.get()>
                <p class="cf-notice" role="status">{t.storage_unavailable}</p>
            </Show>
            <MessageList />
            {children.map(|c| c())}
            <Composer input_ref=input_ref />
            <div class="cf-sr-only" aria-live="polite" role="status">{move || chat.announcement()}</div>
        </section>
    }
}
