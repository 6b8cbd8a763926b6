//! What the chat keeps in IndexedDB besides the conversation itself: which conversation
//! was shown last (per widget and endpoint) and the unsent draft.

use super::Chat;
use crate::storage::Storage;
use confab_core::conversation::{Conversation, EndpointCheck};
use leptos::prelude::*;

impl Chat {
    pub fn attach_storage(&self, storage: Storage) {
        self.storage.set_value(Some(storage));
    }

    /// The storage key of the conversation this widget showed last.
    fn active_key(&self) -> String {
        self.config.with_value(crate::endpoint_url::active_key)
    }

    /// Remembers the conversation shown as the last one for this widget and endpoint.
    pub fn remember_active(&self) {
        if let Some(storage) = self.storage() {
            let (key, id) = (self.active_key(), self.with_conv(|c| c.id.clone()));
            leptos::task::spawn_local(async move { storage.save_meta(&key, &id).await });
        }
    }

    /// The conversation this widget showed last, if it may go to the configured endpoint.
    /// One saved before conversations were bound is bound to it here: a reload is not a
    /// link (a page opened from a `?endpoint=` link never restores the last conversation).
    pub async fn load_last(&self) -> Option<Conversation> {
        let storage = self.storage()?;
        let id = storage.load_meta(&self.active_key()).await?;
        let mut conv = storage.load_conversation(&id).await?;
        let current = self.endpoint_url();
        if conv.endpoint_check(&current) == EndpointCheck::Unconfirmed {
            conv.rebind_endpoint(&current);
        }
        conv.endpoint_check(&current).may_send().then_some(conv)
    }

    pub fn save_draft(&self, text: String) {
        if let Some(storage) = self.storage() {
            let id = self.with_conv(|c| c.id.clone());
            leptos::task::spawn_local(async move { storage.save_draft(&id, &text).await });
        }
    }
}
