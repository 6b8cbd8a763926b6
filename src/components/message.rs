//! One message of the transcript: its body, its state and its actions.

use crate::chat::Chat;
use crate::components::error_notice::ErrorNotice;
use crate::markdown_view::MessageBody;
use confab_core::conversation::{MessageState, Node, NodeId};
use confab_core::protocol::Role;
use leptos::prelude::*;

#[component]
pub fn MessageItem(node: Node) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let id = node.id;
    let is_user = node.role == Role::User;
    let streaming = matches!(node.state, MessageState::Streaming);
    let editing = RwSignal::new(false);

    let marker = match &node.state {
        MessageState::Stopped => Some(t.stopped),
        MessageState::Interrupted => Some(t.interrupted),
        _ => None,
    };
    let error = match &node.state {
        MessageState::Failed(e) => Some(e.clone()),
        _ => None,
    };
    let usage = node.usage;
    let can_continue = !streaming
        && node.finish == Some(confab_core::stream::FinishReason::Length)
        && error.is_none();

    let text = node.text.clone();
    let reasoning = node.reasoning.clone();
    let live_text = Signal::derive(move || {
        chat.live.with(|l| {
            if l.id == Some(id) {
                l.text.clone()
            } else {
                String::new()
            }
        })
    });
    let live_reasoning = Signal::derive(move || {
        chat.live.with(|l| {
            if l.id == Some(id) {
                l.reasoning.clone()
            } else {
                String::new()
            }
        })
    });

    let images = node.images.clone();
    let body = if is_user {
        view! {
            {(!images.is_empty()).then(|| view! { <crate::components::message_images::MessageImages images=images /> })}
            <div class="cf-user-text" dir="auto">{text.clone()}</div>
        }
        .into_any()
    } else if streaming {
        view! {
            <crate::components::message::Reasoning text=live_reasoning />
            <MessageBody text=live_text streaming=true />
        }
        .into_any()
    } else {
        let settled = Signal::stored(text.clone());
        view! {
            <crate::components::message::Reasoning text=Signal::stored(reasoning) />
            <MessageBody text=settled streaming=false />
        }
        .into_any()
    };

    view! {
        <article
            class="cf-message"
            class:cf-user=is_user
            class:cf-assistant=!is_user
            class:cf-streaming=streaming
            data-role=if is_user { "user" } else { "assistant" }
            data-state=node.state.as_str()
            part=if is_user { "message user-message" } else { "message assistant-message" }
            aria-label=if is_user { t.you } else { t.assistant }
        >
            <Show when=move || editing.get()>
                <crate::components::edit_box::EditBox id=id text=text.clone() editing=editing />
            </Show>
            <div class="cf-body" class:cf-hidden=move || editing.get()>{body}</div>
            {marker.map(|m| view! { <p class="cf-marker">{m}</p> })}
            {error.map(|e| view! { <ErrorNotice id=id error=e /> })}
            {(!streaming).then(|| view! {
                <MessageActions id=id is_user=is_user editing=editing can_continue=can_continue />
            })}
            {usage.map(|u| view! {
                <p class="cf-usage">{format!("{} + {} = {} {}", u.prompt_tokens, u.completion_tokens, u.total_tokens, t.tokens)}</p>
            })}
        </article>
    }
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
