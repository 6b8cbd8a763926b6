//! The chat as a state machine: the one writer of a conversation.
//!
//! Commands come in (send, stop, regenerate, edit, continue, retry, a stream event, a
//! request settled, a clock tick); what the outside world must do comes out as
//! [`Effect`]s (start a request with its body and endpoint, abort it, save, announce,
//! show new text, count down to a retry). No clock, network or storage lives here: the
//! time is passed in, so every rule runs under `cargo test`, and the widget's `Chat` is a
//! thin binding that executes effects.

use crate::conversation::{Conversation, ImageRef, MessageState, NodeId, Settings};
use crate::error::ApiError;
use crate::protocol::Role;
use crate::stream::{FinishReason, StreamEvent};

mod effect;
mod request;
pub use effect::{Announcement, Effect, Effects, Outcome, Refusal, RunId, Status};

/// Streamed text is shown at most this often (about 30 times a second): a reader gains
/// nothing from more, and each commit costs style, layout and paint.
pub const PUBLISH_INTERVAL_MS: f64 = 33.0;

/// While streaming, the partial answer is saved this often, so a reload keeps it.
pub const STREAM_SAVE_INTERVAL_MS: f64 = 1000.0;

/// What requests are sent with, besides the conversation: set by the site owner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestConfig {
    /// The chat URL, absolute (conversations are bound to it).
    pub endpoint: String,
    /// Used when the conversation names no model.
    pub model: String,
    /// Sent first unless the conversation has its own system prompt.
    pub system_prompt: String,
}

/// The answer in flight.
#[derive(Debug, Clone)]
struct Run {
    id: RunId,
    answer: NodeId,
    /// The request holds the path up to this message.
    upto: NodeId,
    status: Status,
    /// Bytes of the answer's text and reasoning already published.
    shown_text: usize,
    shown_reasoning: usize,
    /// A tick is scheduled for unpublished text.
    tick_due: bool,
}

/// One chat: a conversation, its configuration and the answer in flight.
#[derive(Debug, Clone)]
pub struct Controller {
    conv: Conversation,
    config: RequestConfig,
    run: Option<Run>,
    next_run: RunId,
    last_publish_ms: f64,
    last_save_ms: f64,
    /// A failed answer that may be retried only from this time (HTTP 429 `Retry-After`).
    retry_at: Option<(NodeId, f64)>,
}

impl Controller {
    /// A controller showing `conv`; answers that were streaming when the page went away
    /// become interrupted.
    pub fn new(mut conv: Conversation, config: RequestConfig) -> Self {
        conv.mark_interrupted();
        Controller {
            conv,
            config,
            run: None,
            next_run: 1,
            last_publish_ms: f64::NEG_INFINITY,
            last_save_ms: f64::NEG_INFINITY,
            retry_at: None,
        }
    }

    pub fn conversation(&self) -> &Conversation {
        &self.conv
    }

    pub fn config(&self) -> &RequestConfig {
        &self.config
    }

    pub fn status(&self) -> Status {
        self.run.as_ref().map_or(Status::Ready, |r| r.status)
    }

    pub fn is_busy(&self) -> bool {
        self.run.is_some()
    }

    /// The answer being written, if any.
    pub fn live(&self) -> Option<NodeId> {
        self.run.as_ref().map(|r| r.answer)
    }

    /// Whole seconds until `node` may be retried (0: now).
    pub fn retry_wait_secs(&self, node: NodeId, now_ms: f64) -> u64 {
        match self.retry_at {
            Some((n, at)) if n == node && at > now_ms => ((at - now_ms) / 1000.0).ceil() as u64,
            _ => 0,
        }
    }

    fn ready(&self) -> Result<(), Refusal> {
        if self.is_busy() {
            Err(Refusal::Busy)
        } else {
            Ok(())
        }
    }

    /// Binds an unbound conversation to the configured endpoint; refuses one made with
    /// another endpoint (see `conversation::binding`).
    fn claim_endpoint(&mut self) -> Result<(), Refusal> {
        self.conv
            .claim_endpoint(&self.config.endpoint)
            .map_err(|bound| Refusal::EndpointMoved { bound })
    }

    /// Sends a user message and starts its answer.
    pub fn send(
        &mut self,
        text: String,
        images: Vec<ImageRef>,
        now_ms: f64,
    ) -> Result<Effects, Refusal> {
        self.ready()?;
        if text.trim().is_empty() && images.is_empty() {
            return Err(Refusal::Empty);
        }
        self.claim_endpoint()?;
        let user = self.conv.push_user(text, images, now_ms);
        let answer = self.conv.start_assistant(user, now_ms);
        Ok(self.start(answer, user, now_ms))
    }

    /// A new answer to the same question, kept beside the old one.
    pub fn regenerate(&mut self, assistant: NodeId, now_ms: f64) -> Result<Effects, Refusal> {
        self.ready()?;
        let node = self.conv.node(assistant).ok_or(Refusal::NotFound)?;
        let parent = match (node.role, node.parent) {
            (Role::Assistant, Some(p)) => p,
            _ => return Err(Refusal::NotFound),
        };
        self.claim_endpoint()?;
        let answer = self.conv.regenerate(assistant, now_ms);
        Ok(self.start(answer, parent, now_ms))
    }

    /// Retry of a failed answer: a new answer beside it, refused when sending again cannot
    /// help ([`ApiError::is_retryable`]) or while the server asked to wait.
    pub fn retry(&mut self, failed: NodeId, now_ms: f64) -> Result<Effects, Refusal> {
        self.ready()?;
        let error = self.conv.node(failed).and_then(|n| n.error());
        match error {
            None => return Err(Refusal::NotFound),
            Some(e) if !e.is_retryable() => return Err(Refusal::NotRetryable),
            Some(_) => {}
        }
        let wait = self.retry_wait_secs(failed, now_ms);
        if wait > 0 {
            return Err(Refusal::Waiting { secs: wait });
        }
        self.regenerate(failed, now_ms)
    }

    /// Edits a user message as a new branch (keeping its images) and answers it.
    pub fn edit(&mut self, user: NodeId, text: String, now_ms: f64) -> Result<Effects, Refusal> {
        self.ready()?;
        if text.trim().is_empty() {
            return Err(Refusal::Empty);
        }
        let node = self.conv.node(user).ok_or(Refusal::NotFound)?;
        if node.role != Role::User {
            return Err(Refusal::NotFound);
        }
        let images = node.images.clone();
        self.claim_endpoint()?;
        let edited = self.conv.edit_user(user, text, images, now_ms);
        let answer = self.conv.start_assistant(edited, now_ms);
        Ok(self.start(answer, edited, now_ms))
    }

    /// Asks the model to go on with an answer cut at the length limit; the new text is
    /// appended to the same message.
    pub fn continue_answer(&mut self, id: NodeId, now_ms: f64) -> Result<Effects, Refusal> {
        self.ready()?;
        let node = self.conv.node(id).ok_or(Refusal::NotFound)?;
        if !crate::message_view::can_continue(node) {
            return Err(Refusal::NotFound);
        }
        self.claim_endpoint()?;
        self.conv.resume(id);
        Ok(self.start(id, id, now_ms))
    }

    /// Shows the sibling `delta` places from `id`, with the branch last seen under it.
    pub fn switch_sibling(&mut self, id: NodeId, delta: i32) -> Result<Effects, Refusal> {
        self.ready()?;
        self.conv
            .switch_sibling(id, delta)
            .ok_or(Refusal::NotFound)?;
        Ok(vec![Effect::Path, Effect::Persist])
    }

    /// Stops the answer in flight; its partial text stays once the request has settled.
    pub fn stop(&mut self) -> Effects {
        self.run
            .as_ref()
            .map(|r| Effect::Abort(r.id))
            .into_iter()
            .collect()
    }

    fn start(&mut self, answer: NodeId, upto: NodeId, now_ms: f64) -> Effects {
        let id = self.next_run;
        self.next_run += 1;
        let shown = self
            .conv
            .node(answer)
            .map_or((0, 0), |n| (n.text.len(), n.reasoning.len()));
        self.run = Some(Run {
            id,
            answer,
            upto,
            status: Status::Submitted,
            shown_text: shown.0,
            shown_reasoning: shown.1,
            tick_due: false,
        });
        self.last_save_ms = now_ms;
        let images = self
            .conv
            .path_to(upto)
            .iter()
            .flat_map(|n| n.images.iter().map(|i| i.id.clone()))
            .collect();
        vec![
            Effect::Path,
            Effect::Node(answer),
            Effect::Status(Status::Submitted),
            Effect::Announce(Announcement::Answering),
            Effect::Persist,
            Effect::Start {
                run: id,
                answer,
                endpoint: self.config.endpoint.clone(),
                request: Box::new(self.request_upto(upto, &|_| None)),
                images,
            },
        ]
    }

    /// A decoded stream event of `run`. Events of a run that is no longer current (the
    /// user switched conversations) are dropped.
    pub fn event(&mut self, run: RunId, event: StreamEvent, now_ms: f64) -> Effects {
        let Some(r) = self.run.as_mut().filter(|r| r.id == run) else {
            return Vec::new();
        };
        let answer = r.answer;
        let mut out = Vec::new();
        let text = matches!(event, StreamEvent::Content(_) | StreamEvent::Reasoning(_));
        if text && r.status == Status::Submitted {
            r.status = Status::Streaming;
            out.push(Effect::Status(Status::Streaming));
        }
        self.conv.apply(answer, &event);
        if text {
            out.extend(self.tick(now_ms));
        }
        out
    }

    /// The clock: publishes text that waited for its turn and saves a long answer now and
    /// then. Asks for the next tick with [`Effect::TickAt`] while text is waiting.
    pub fn tick(&mut self, now_ms: f64) -> Effects {
        let mut out = Vec::new();
        let Some(r) = self.run.as_mut() else {
            return out;
        };
        r.tick_due = false;
        if now_ms - self.last_publish_ms >= PUBLISH_INTERVAL_MS {
            out.extend(self.publish(now_ms));
            if now_ms - self.last_save_ms >= STREAM_SAVE_INTERVAL_MS {
                self.last_save_ms = now_ms;
                out.push(Effect::Persist);
            }
        } else if self.unpublished() {
            if let Some(r) = self.run.as_mut() {
                r.tick_due = true;
            }
            out.push(Effect::TickAt(self.last_publish_ms + PUBLISH_INTERVAL_MS));
        }
        out
    }

    fn unpublished(&self) -> bool {
        let Some(r) = &self.run else { return false };
        self.conv
            .node(r.answer)
            .is_some_and(|n| n.text.len() > r.shown_text || n.reasoning.len() > r.shown_reasoning)
    }

    /// Text arrived since the last publish, as one [`Effect::Publish`].
    fn publish(&mut self, now_ms: f64) -> Option<Effect> {
        let r = self.run.as_mut()?;
        let node = self.conv.node(r.answer)?;
        let text = node.text.get(r.shown_text..).unwrap_or_default();
        let reasoning = node.reasoning.get(r.shown_reasoning..).unwrap_or_default();
        if text.is_empty() && reasoning.is_empty() {
            return None;
        }
        let effect = Effect::Publish {
            node: r.answer,
            text: text.to_owned(),
            reasoning: reasoning.to_owned(),
        };
        r.shown_text = node.text.len();
        r.shown_reasoning = node.reasoning.len();
        self.last_publish_ms = now_ms;
        Some(effect)
    }

    /// `run`'s request ended. The rest of its text is shown at once (never behind the
    /// stream at its end), then the message's final state.
    pub fn settled(&mut self, run: RunId, outcome: Outcome, now_ms: f64) -> Effects {
        if self.run.as_ref().is_none_or(|r| r.id != run) {
            return Vec::new();
        }
        let mut out: Effects = self.publish(now_ms).into_iter().collect();
        let Some(r) = self.run.take() else {
            return out;
        };
        let id = r.answer;
        let still_streaming = self.conv.node(id).is_some_and(|n| n.is_streaming());
        if still_streaming {
            match outcome {
                Outcome::Aborted => self.conv.stop(id),
                // The decoder reports a stream cut short; a transport that ended without
                // a word about it leaves nothing that can be called an answer.
                Outcome::Finished => self.conv.fail(id, ApiError::truncated()),
            }
        }
        let error = self.conv.node(id).and_then(|n| n.error()).cloned();
        if let Some(secs) = error.as_ref().and_then(|e| e.retry_after_secs) {
            let at = now_ms + secs as f64 * 1000.0;
            self.retry_at = Some((id, at));
            out.push(Effect::RetryAt {
                node: id,
                at_ms: at,
            });
        }
        out.extend([
            Effect::Node(id),
            Effect::Status(Status::Ready),
            Effect::Announce(if error.is_some() {
                Announcement::Clear
            } else {
                Announcement::Complete
            }),
            Effect::Persist,
            Effect::Settled(id),
        ]);
        out
    }

    /// Shows another conversation (loaded, imported, new). An answer in flight is aborted
    /// and kept as stopped in the conversation it belonged to (saved with `SaveOther`).
    pub fn replace(&mut self, conv: Conversation) -> Effects {
        let mut out = Vec::new();
        if let Some(r) = self.run.take() {
            self.publish(f64::INFINITY);
            self.conv.stop(r.answer);
            out.push(Effect::Abort(r.id));
            out.push(Effect::SaveOther(Box::new(self.conv.clone())));
            out.push(Effect::Status(Status::Ready));
        }
        self.conv = conv;
        self.retry_at = None;
        out.push(Effect::Replaced);
        if self.conv.mark_interrupted() > 0 {
            out.push(Effect::Persist);
        }
        out
    }

    /// A new, empty conversation with `id`; it keeps the settings of the one shown (the
    /// playground's parameters carry over), never its endpoint binding.
    pub fn new_conversation(&mut self, id: String, now_ms: f64) -> Effects {
        let conv = self.conv.successor(id, now_ms);
        let mut out = self.replace(conv);
        out.push(Effect::Persist);
        out
    }

    /// Renames the conversation (a blank title goes back to the default).
    pub fn rename(&mut self, title: &str) -> Effects {
        self.conv.title = title.trim().to_owned();
        vec![Effect::Meta, Effect::Persist]
    }

    /// Changes the conversation's request parameters.
    pub fn update_settings(&mut self, f: impl FnOnce(&mut Settings)) -> Effects {
        let before = self.conv.settings.clone();
        f(&mut self.conv.settings);
        if before == self.conv.settings {
            return Vec::new();
        }
        vec![Effect::Meta, Effect::Persist]
    }

    /// The site owner or the user changed the configuration.
    pub fn set_config(&mut self, config: RequestConfig) {
        self.config = config;
    }

    /// Sends the conversation shown to the configured endpoint from now on (the user's
    /// "Send it to …", the endpoint form, `setConfig({endpoint})`).
    pub fn rebind_endpoint(&mut self) -> Effects {
        if self.conv.endpoint_check(&self.config.endpoint).may_send() {
            return Vec::new();
        }
        self.conv.rebind_endpoint(&self.config.endpoint);
        vec![Effect::Meta, Effect::Persist]
    }
}

impl Conversation {
    /// Takes up an answer stopped at the length limit: streaming again, no finish yet.
    fn resume(&mut self, id: NodeId) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.state = MessageState::Streaming;
            n.finish = None::<FinishReason>;
        }
    }
}

#[cfg(test)]
mod script;
#[cfg(test)]
mod tests;
