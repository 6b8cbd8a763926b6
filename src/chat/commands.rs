//! Every change to the conversation shown: each goes through the controller, which says
//! what to save, send and show; a refused command changes nothing.

use super::{new_id, now_ms, request_config, Chat};
use confab_core::controller::{Controller, Effects, Refusal};
use confab_core::conversation::{Conversation, ImageRef, NodeId, Settings};
use confab_core::widget_config::{ConfigWarning, WidgetConfig};
use leptos::prelude::*;

impl Chat {
    fn command(&self, f: impl FnOnce(&mut Controller) -> Result<Effects, Refusal>) -> bool {
        match self.ctl.try_update_value(f) {
            Some(Ok(effects)) => {
                self.run(effects);
                true
            }
            _ => false,
        }
    }

    /// Sends a user message. False (and nothing changes) while an answer is running,
    /// when there is nothing to send or the conversation belongs to another endpoint.
    pub fn send(&self, text: String, images: Vec<ImageRef>) -> bool {
        self.command(|c| c.send(text, images, now_ms()))
    }

    pub fn regenerate(&self, answer: NodeId) {
        self.command(|c| c.regenerate(answer, now_ms()));
    }

    /// Retry of a failed answer (refused while the server asked to wait).
    pub fn retry(&self, failed: NodeId) {
        self.command(|c| c.retry(failed, now_ms()));
    }

    pub fn edit(&self, user: NodeId, text: String) {
        self.command(|c| c.edit(user, text, now_ms()));
    }

    pub fn continue_answer(&self, id: NodeId) {
        self.command(|c| c.continue_answer(id, now_ms()));
    }

    pub fn switch_sibling(&self, id: NodeId, delta: i32) {
        self.command(|c| c.switch_sibling(id, delta));
    }

    pub fn stop(&self) {
        self.command(|c| Ok(c.stop()));
    }

    pub fn rename(&self, title: &str) {
        self.command(|c| Ok(c.rename(title)));
    }

    pub fn update_settings(&self, f: impl FnOnce(&mut Settings)) {
        self.command(|c| Ok(c.update_settings(f)));
    }

    /// Shows `conv` (loaded, imported, restored) and remembers it as the one shown last.
    pub fn show(&self, conv: Conversation) {
        self.command(|c| Ok(c.replace(conv)));
        self.remember_active();
    }

    /// "New chat": an empty conversation keeping the settings of this one.
    pub fn new_conversation(&self) {
        self.command(|c| Ok(c.new_conversation(new_id(), now_ms())));
        self.remember_active();
    }

    /// The configuration changes (the endpoint form, `setConfig`). With `rebind`, the
    /// conversation shown is sent to the new endpoint from now on.
    pub fn update_config(&self, f: impl FnOnce(&mut WidgetConfig), rebind: bool) {
        self.config.update_value(f);
        let config = self.config.with_value(request_config);
        self.command(|c| {
            c.set_config(config);
            Ok(if rebind {
                c.rebind_endpoint()
            } else {
                Vec::new()
            })
        });
    }

    /// `setConfig({...})` from the page: returns what was refused.
    pub fn apply_config_pairs(&self, pairs: &[(String, String)]) -> Vec<ConfigWarning> {
        let mut warnings = Vec::new();
        self.update_config(
            |c| warnings = c.apply_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            true,
        );
        warnings
    }

    /// The user's "Send it to …": the conversation shown goes to the configured endpoint.
    pub fn rebind_endpoint(&self) {
        self.command(|c| Ok(c.rebind_endpoint()));
    }
}
