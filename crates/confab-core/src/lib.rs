//! Confab's logic, free of any web dependency so it is tested natively in milliseconds.
//!
//! The widget (`confab`) and the server (`confab-server`) both build on these types.

pub mod protocol;
pub mod widget_config;
pub mod image_check;
pub mod chunk;
pub mod error;
pub mod sse;
pub mod stream;
pub mod conversation;
pub mod estimate;
