//! One message of the transcript, keyed by its id: its body, state and actions follow
//! that message alone (`Chat::message`), so a settling answer is never drawn anew.

use crate::chat::Chat;
use crate::components::error_notice::ErrorNotice;
use crate::components::live_body::AnswerBody;
use confab_core::conversation::NodeId;
use confab_core::message_view::{Marker, MessageView};
use leptos::prelude::*;

#[component]
pub fn MessageItem(id: NodeId) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let Some(first) = chat.with_conv(|c| c.node(id).map(MessageView::of)) else {
        return ().into_any();
    };
    let view = Memo::new(move |_| chat.message(id).unwrap_or_else(|| first.clone()));
    let is_user = view.with_untracked(|v| v.is_user);
    let editing = RwSignal::new(false);

    let body = if is_user {
        let images = chat.images_of(id);
        view! {
            {(!images.is_empty()).then(|| view! { <crate::components::message_images::MessageImages images=images /> })}
            <div class="cf-user-text" dir="auto">{chat.text_of(id)}</div>
        }
        .into_any()
    } else {
        view! { <AnswerBody id=id /> }.into_any()
    };
    let marker = move || {
        view.with(|v| v.marker).map(|m| {
            let text = match m {
                Marker::Stopped => t.stopped,
                Marker::Interrupted => t.interrupted,
            };
            view! { <p class="cf-marker">{text}</p> }
        })
    };
    let error = move || {
        view.with(|v| v.error.clone())
            .map(|e| view! { <ErrorNotice id=id error=e /> })
    };
    let actions =
        move || {
            let (shown, can_continue) = view.with(|v| (v.actions, v.can_continue));
            shown.then(|| view! {
            <MessageActions id=id is_user=is_user editing=editing can_continue=can_continue />
        })
        };
    let usage = move || {
        view.with(|v| v.usage).map(|u| view! {
            <p class="cf-usage">{format!("{} + {} = {} {}", u.prompt_tokens, u.completion_tokens, u.total_tokens, t.tokens)}</p>
        })
    };

    view! {
        <article
            class="cf-message"
            class:cf-user=is_user
            class:cf-assistant=!is_user
            class:cf-streaming=move || view.with(|v| v.streaming)
            data-role=if is_user { "user" } else { "assistant" }
            data-state=move || view.with(|v| v.state)
            part=if is_user { "message user-message" } else { "message assistant-message" }
            aria-label=if is_user { t.you } else { t.assistant }
        >
            <Show when=move || editing.get()>
                <crate::components::edit_box::EditBox id=id text=chat.text_of(id) editing=editing />
            </Show>
            <div class="cf-body" class:cf-hidden=move || editing.get()>{body}</div>
            {marker}
            {error}
            {actions}
            {usage}
        </article>
    }
    .into_any()
}

/// Reasoning shown collapsed above the answer, when the model sent any.
#[component]
pub fn Reasoning(text: Signal<String>) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    move || {
        let text = text.get();
        (!text.is_empty()).then(|| {
            view! {
                <details class="cf-reasoning" part="reasoning">
                    <summary>{t.reasoning}</summary>
                    <div class="cf-reasoning-text" dir="auto">{text}</div>
                </details>
            }
        })
    }
}

#[component]
fn MessageActions(
    id: NodeId,
    is_user: bool,
    editing: RwSignal<bool>,
    can_continue: bool,
) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let copied = RwSignal::new(false);
    let (index, count) = chat.siblings(id);

    let copy = move |_| {
        crate::components::copy_with_feedback(&chat.text_of(id), copied);
    };

    view! {
        <div class="cf-actions" part="message-actions">
            {(count > 1).then(|| view! {
                <span class="cf-siblings">
                    <button type="button" class="cf-icon-button" aria-label=t.previous
                        disabled={ index <= 1 }
                        on:click=move |_| chat.switch_sibling(id, -1)>"‹"</button>
                    <span class="cf-sibling-count">{format!("{index}/{count}")}</span>
                    <button type="button" class="cf-icon-button" aria-label=t.next
                        disabled={ index >= count }
                        on:click=move |_| chat.switch_sibling(id, 1)>"›"</button>
                </span>
            })}
            <button type="button" class="cf-action" aria-label=t.copy on:click=copy>
                {move || if copied.get() { t.copied } else { t.copy }}
            </button>
            {if is_user {
                view! {
                    <button type="button" class="cf-action" aria-label=t.edit
                        on:click=move |_| editing.set(true)>{t.edit}</button>
                }.into_any()
            } else {
                view! {
                    <button type="button" class="cf-action" aria-label=t.regenerate
                        on:click=move |_| chat.regenerate(id)>{t.regenerate}</button>
                    {can_continue.then(|| view! {
                        <button type="button" class="cf-action" aria-label=t.continue_answer
                            on:click=move |_| chat.continue_answer(id)>{t.continue_answer}</button>
                    })}
                }.into_any()
            }}
        </div>
    }
}
