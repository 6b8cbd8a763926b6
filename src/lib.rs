//! The Confab widget: a chat panel for OpenAI-compatible chat APIs.
//!
//! `start` mounts the playground page when the document has `#confab-app`; the embed
//! loader calls `mount` for each widget it creates inside a shadow root.

pub mod chat;
pub mod components;
pub mod endpoint_url;
pub mod i18n;
pub mod image_prep;
pub mod images;
pub mod lazy_module;
pub mod markdown_view;
pub mod math;
pub mod mount;
#[cfg(feature = "playground")]
pub mod playground;
pub mod storage;
pub mod transport;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    // The size build (`-Cpanic=immediate-abort`) traps on a panic without running any hook:
    // there the hook and the formatting it pulls in would only be dead bytes.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    #[cfg(feature = "playground")]
    mount::mount_page_if_present();
}
