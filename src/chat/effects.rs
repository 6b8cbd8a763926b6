//! Runs what the controller asks: requests, aborts, saves, announcements, the streaming
//! text and the clock ticks that pace it.

use super::{now_ms, Chat, LiveDoc};
use crate::transport::{send_chat, Abort};
use confab_core::controller::{Announcement, Effect, Effects, RunId};
use confab_core::conversation::{Conversation, NodeId};
use confab_core::protocol::ChatRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

impl Chat {
    pub(super) fn run(&self, effects: Effects) {
        for effect in effects {
            self.apply(effect);
        }
    }

    fn apply(&self, effect: Effect) {
        match effect {
            Effect::Start {
                run,
                answer,
                endpoint,
                request,
                images,
            } => self.start(run, answer, endpoint, *request, images),
            Effect::Abort(run) => {
                if let Some(abort) = self.aborts.with_value(|a| a.get(&run).cloned()) {
                    abort.abort();
                }
            }
            Effect::Persist => {
                self.saved.update(|n| *n += 1);
                let conv = self.with_conv(Conversation::clone);
                self.save(conv);
            }
            Effect::SaveOther(conv) => self.save(*conv),
            Effect::Announce(a) => {
                let t = self.lang.t();
                self.announce.set(match a {
                    Announcement::Answering => t.answering.to_string(),
                    Announcement::Complete => t.answer_complete.to_string(),
                    Announcement::Clear => String::new(),
                });
            }
            Effect::Status(s) => self.status.set(s),
            Effect::Path => self.sync_path(),
            Effect::Node(id) => self.version(id).update(|v| *v += 1),
            Effect::Meta => self.meta.update(|n| *n += 1),
            Effect::Replaced => {
                self.finish_live();
                self.versions.update_value(|m| m.clear());
                self.sync_path();
                self.epoch.update(|n| *n += 1);
            }
            Effect::Publish {
                node,
                text,
                reasoning,
            } => {
                if let Some(live) = self.live_doc(node) {
                    live.append(&text, &reasoning);
                }
            }
            Effect::TickAt(at) => self.tick_at(at),
            // The error notice reads the wait when it is drawn (after this run of effects).
            Effect::RetryAt { .. } => {}
            Effect::Settled(id) => {
                self.finish_live();
                if let Some(hook) = self.hook {
                    hook.0.try_with_value(|f| f(*self, Some(id)));
                }
            }
        }
    }

    fn sync_path(&self) {
        let ids: Vec<NodeId> = self.with_conv(|c| c.active_path().iter().map(|n| n.id).collect());
        if self.path.with_untracked(|p| *p != ids) {
            self.path.set(ids);
        }
    }

    fn save(&self, conv: Conversation) {
        if let Some(storage) = self.storage() {
            spawn_local(async move { storage.save_conversation(&conv).await });
        }
    }

    fn finish_live(&self) {
        if let Some(live) = self.live_doc.get_value() {
            live.done.set(true);
        }
        self.live_doc.set_value(None);
        self.live.set(None);
    }

    fn start(
        &self,
        run: RunId,
        answer: NodeId,
        endpoint: String,
        request: ChatRequest,
        images: Vec<String>,
    ) {
        let (text, reasoning) = self.with_conv(|c| {
            c.node(answer)
                .map(|n| (n.text.clone(), n.reasoning.clone()))
                .unwrap_or_default()
        });
        self.live_doc
            .set_value(Some(LiveDoc::new(answer, &text, reasoning)));
        self.live.set(Some((answer, run)));
        let abort = Abort::new();
        self.aborts.update_value(|a| {
            a.insert(run, abort.clone());
        });
        let headers = self.with_config(|c| c.headers.clone());
        let chat = *self;
        spawn_local(async move {
            let mut request = request;
            if !images.is_empty() {
                chat.load_path_images().await;
                let rebuilt = chat.ctl.with_value(|c| {
                    c.request_for(run, &|img| crate::images::data_url_for(&img.id))
                });
                match rebuilt {
                    Some(r) => request = r,
                    None => return, // aborted while the images loaded
                }
            }
            let outcome = send_chat(&endpoint, &headers, &request, &abort, |ev| {
                let effects = chat
                    .ctl
                    .try_update_value(|c| c.event(run, ev, now_ms()))
                    .unwrap_or_default();
                chat.run(effects);
            })
            .await;
            chat.aborts.update_value(|a| {
                a.remove(&run);
            });
            let effects = chat
                .ctl
                .try_update_value(|c| c.settled(run, outcome, now_ms()))
                .unwrap_or_default();
            chat.run(effects);
        });
    }

    /// Publishes waiting text at `at`, on an animation frame (at most one pending).
    fn tick_at(&self, at: f64) {
        if self.tick_pending.get_value() {
            return;
        }
        self.tick_pending.set_value(true);
        let chat = *self;
        let wait = (at - now_ms()).max(0.0) as u64;
        set_timeout(
            move || {
                request_animation_frame(move || {
                    if chat.tick_pending.try_set_value(false).is_some() {
                        return; // the chat is gone
                    }
                    let effects = chat
                        .ctl
                        .try_update_value(|c| c.tick(now_ms()))
                        .unwrap_or_default();
                    chat.run(effects);
                });
            },
            Duration::from_millis(wait),
        );
    }
}
