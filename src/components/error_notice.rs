//! An error shown where it happened: what to fix, or, when sending again may work
//! (`ApiError::is_retryable`), Retry (after a countdown when the server asked to wait).

use crate::chat::Chat;
use confab_core::conversation::NodeId;
use confab_core::error::ApiError;
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn ErrorNotice(id: NodeId, error: ApiError) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let wait = RwSignal::new(chat.retry_wait_secs(id));
    if wait.get_untracked() > 0 {
        tick_down(wait);
    }
    let message = t.error_text(&error);
    let retry = error.is_retryable().then(|| {
        view! {
            <button
                type="button"
                class="cf-action cf-retry"
                aria-label=t.retry
                disabled=move || { wait.get() > 0 }
                on:click=move |_| chat.retry(id)
            >
                {move || match wait.get() {
                    0 => t.retry.to_string(),
                    n => format!("{} ({}) {n}s", t.retry, t.retry_in),
                }}
            </button>
        }
    });
    view! {
        <div class="cf-error" role="alert" part="error">
            <p class="cf-error-text">{message}</p>
            {retry}
        </div>
    }
}

fn tick_down(wait: RwSignal<u64>) {
    set_timeout(
        move || {
            // The notice may be gone (switched conversation): then stop quietly.
            if let Some(left) = wait.try_get_untracked() {
                let left = left.saturating_sub(1);
                wait.set(left);
                if left > 0 {
                    tick_down(wait);
                }
            }
        },
        Duration::from_secs(1),
    );
}
