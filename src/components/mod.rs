//! Views. Each binds a piece of `Chat` state to the DOM and holds no logic of its own.

pub mod attachments;
pub mod composer;
pub mod edit_box;
pub mod error_notice;
pub mod message;
pub mod message_images;
pub mod message_list;
pub mod panel;
