//! Confab's logic, free of any web dependency so it is tested natively in milliseconds.
//!
//! The widget (`confab`) and the server (`confab-server`) both build on these types.

pub mod chunk;
pub mod controller;
pub mod conversation;
pub mod error;
pub mod estimate;
pub mod export;
pub mod highlight;
pub mod image_check;
pub mod link;
pub mod markdown;
pub mod mathml;
pub mod message_view;
pub mod protocol;
pub mod search;
pub mod snippets;
pub mod sse;
pub mod stream;
pub mod templates;
pub mod totals;
pub mod widget_config;
