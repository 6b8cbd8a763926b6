//! Views. Each binds a piece of `Chat` state to the DOM and holds no logic of its own.

pub mod attachments;
pub mod composer;
pub mod edit_box;
pub mod error_notice;
pub mod live_body;
pub mod message;
pub mod message_images;
pub mod message_list;
pub mod panel;

use leptos::prelude::*;

/// Copies `text` to the clipboard and sets `copied` for a moment, so a Copy button can say
/// "Copied".
pub fn copy_with_feedback(text: &str, copied: RwSignal<bool>) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
        copied.set(true);
        set_timeout(
            move || copied.set(false),
            std::time::Duration::from_millis(1500),
        );
    }
}
