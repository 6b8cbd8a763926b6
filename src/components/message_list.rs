//! The transcript: a keyed list of the active path that follows the answer while it
//! streams, until the user scrolls up; then a "jump to latest" button appears.

use crate::chat::Chat;
use crate::components::message::MessageItem;
use confab_core::conversation::NodeId;
use leptos::html::Div;
use leptos::prelude::*;

/// Within this many pixels of the bottom counts as "at the bottom".
const STICK_SLACK_PX: i32 = 48;
/// Messages drawn when a conversation opens; earlier ones come on request. A long
/// conversation then restores as fast as a short one.
const FIRST_SHOWN: usize = 40;
/// Messages added by each "Show earlier messages".
const MORE_SHOWN: usize = 100;

#[component]
pub fn MessageList() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let t = chat.lang.t();
    let log = NodeRef::<Div>::new();
    let stick = RwSignal::new(true);
    let shown = RwSignal::new(FIRST_SHOWN);
    // Another conversation opens with only its latest messages drawn.
    Effect::new(move |_| {
        chat.epoch();
        shown.set(FIRST_SHOWN);
    });
    let hidden = move || chat.path_len().saturating_sub(shown.get());
    // The rows drawn: the ids of the last `shown` messages of the path.
    let rows = move || {
        let path = chat.path();
        let skip = path.len().saturating_sub(shown.get());
        path[skip..].to_vec()
    };
    let show_earlier = move |_| {
        // Keep the view where it is: the new rows go above it.
        let before = log.get_untracked().map(|el| el.scroll_height());
        stick.set(false);
        shown.update(|n| *n += MORE_SHOWN);
        request_animation_frame(move || {
            if let (Some(el), Some(before)) = (log.get_untracked(), before) {
                el.set_scroll_top(el.scroll_top() + el.scroll_height() - before);
            }
        });
    };

    let scroll_to_end = move || {
        if let Some(el) = log.get_untracked() {
            // Past the end is clamped to it: no layout read needed here.
            el.set_scroll_top(i32::MAX);
        }
    };
    // Follow new content while stuck to the bottom: right after the commit (the one layout
    // the new text needs anyway) and once more in the frame; at the bottom already, the
    // second scroll changes nothing.
    let follow_pending = StoredValue::new(false);
    let follow = move || {
        // After the views this change wakes have written the DOM (they were queued first).
        queue_microtask(move || {
            if stick.get_untracked() {
                scroll_to_end();
            }
        });
        if follow_pending.get_value() {
            return;
        }
        follow_pending.set_value(true);
        request_animation_frame(move || {
            follow_pending.set_value(false);
            // Checked in the frame: the user may have scrolled up in between.
            if stick.get_untracked() {
                scroll_to_end();
            }
        });
    };
    Effect::new(move |_| {
        chat.path();
        chat.live_frame();
        // Settling adds the actions and usage below the answer.
        chat.status();
        follow();
    });
    // A scroll caused by content changing size (a message re-rendered, an answer growing)
    // says nothing about the user: only follow it when the height stayed the same.
    let last_height = StoredValue::new(0);
    let on_scroll = move |_| {
        if let Some(el) = log.get_untracked() {
            let height = el.scroll_height();
            if height != last_height.get_value() {
                // Not re-sticking here: a smooth wheel scroll passes near the end first.
                last_height.set_value(height);
                if stick.get_untracked() {
                    scroll_to_end();
                }
                return;
            }
            let gap = height - el.scroll_top() - el.client_height();
            stick.set(gap <= STICK_SLACK_PX);
        }
    };
    // Scrolling up by wheel, touch or keys stops following at once, even mid-stream.
    let on_wheel = move |ev: web_sys::WheelEvent| {
        if ev.delta_y() < 0.0 {
            stick.set(false);
        }
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        if matches!(ev.key().as_str(), "ArrowUp" | "PageUp" | "Home") {
            stick.set(false);
        }
    };

    let welcome = move || {
        let welcome = chat.with_config(|c| c.welcome.clone());
        if welcome.is_empty() {
            t.welcome.to_string()
        } else {
            welcome
        }
    };

    view! {
        <div class="cf-log-wrap">
            <div class="cf-log" role="log" aria-label=t.transcript node_ref=log on:scroll=on_scroll
                on:wheel=on_wheel on:keydown=on_key on:touchmove=move |_| stick.set(false) tabindex="0" part="transcript">
                <p class="cf-welcome" dir="auto">{welcome}</p>
                <Show when=move || { hidden() > 0 }>
                    <button type="button" class="cf-earlier" on:click=show_earlier>
                        {move || t.show_earlier.replace("{n}", &hidden().to_string())}
                    </button>
                </Show>
                {move || {
                    // Another conversation: every row anew; within one, rows are keyed by
                    // their id alone and each follows its own message.
                    chat.epoch();
                    view! {
                        <For each=rows key=|id: &NodeId| *id let:id>
                            <MessageItem id=id />
                        </For>
                    }
                }}
            </div>
            <Show when=move || !stick.get()>
                <button type="button" class="cf-jump" part="jump-button"
                    on:click=move |_| { stick.set(true); scroll_to_end(); }>
                    {t.jump_to_latest}
                </button>
            </Show>
        </div>
    }
}
