//! A scripted transport and clock for the controller's tests: it executes effects the way
//! the widget does, replaying response bodies through the real SSE and stream decoders.

use super::*;
use crate::error::parse_error_body;
use crate::protocol::ChatRequest;
use crate::stream::ChatStream;
use std::collections::HashMap;

pub const ENDPOINT: &str = "http://127.0.0.1:8794/v1/chat/completions";

/// One `data:` event carrying answer text.
pub fn content(text: &str) -> String {
    let delta = serde_json::json!({"choices":[{"index":0,"delta":{"content":text}}]});
    format!("data: {delta}\n\n")
}

pub fn reasoning(text: &str) -> String {
    let delta = serde_json::json!({"choices":[{"index":0,"delta":{"reasoning_content":text}}]});
    format!("data: {delta}\n\n")
}

pub fn finish(reason: &str) -> String {
    let chunk = serde_json::json!({"choices":[{"index":0,"delta":{},"finish_reason":reason}],
        "usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}});
    format!("data: {chunk}\n\ndata: [DONE]\n\n")
}

/// A whole answer in deltas of `size` bytes (ASCII text), ending normally.
pub fn answer_in_deltas(text: &str, size: usize) -> Vec<String> {
    let mut out: Vec<String> = text
        .as_bytes()
        .chunks(size)
        .map(|c| content(std::str::from_utf8(c).unwrap()))
        .collect();
    out.push(finish("stop"));
    out
}

/// The controller plus what the widget around it would do with its effects.
pub struct Harness {
    pub ctl: Controller,
    pub now: f64,
    /// Every effect, in order.
    pub log: Vec<Effect>,
    /// Requests started: (run, endpoint, body).
    pub requests: Vec<(RunId, String, ChatRequest)>,
    pub aborted: Vec<RunId>,
    /// The conversation as last persisted.
    pub saved: Option<Conversation>,
    pub saves: usize,
    /// The text shown for the live answer, built only from `Publish` effects.
    pub shown: String,
    pub publishes: usize,
    tick_at: Option<f64>,
    decoders: HashMap<RunId, ChatStream>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(Conversation::new("c1".into(), 0.0))
    }

    pub fn with(conv: Conversation) -> Self {
        let config = RequestConfig {
            endpoint: ENDPOINT.into(),
            ..Default::default()
        };
        Harness {
            ctl: Controller::new(conv, config),
            now: 1000.0,
            log: Vec::new(),
            requests: Vec::new(),
            aborted: Vec::new(),
            saved: None,
            saves: 0,
            shown: String::new(),
            publishes: 0,
            tick_at: None,
            decoders: HashMap::new(),
        }
    }

    pub fn run(&mut self, effects: Effects) {
        for effect in effects {
            match &effect {
                Effect::Start {
                    run,
                    endpoint,
                    request,
                    ..
                } => {
                    self.requests
                        .push((*run, endpoint.clone(), (**request).clone()));
                    self.decoders.insert(*run, ChatStream::new());
                    self.shown.clear();
                }
                Effect::Abort(run) => self.aborted.push(*run),
                Effect::Persist => {
                    self.saved = Some(self.ctl.conversation().clone());
                    self.saves += 1;
                }
                Effect::Publish { text, .. } => {
                    self.shown.push_str(text);
                    self.publishes += 1;
                }
                Effect::TickAt(at) => self.tick_at = Some(*at),
                _ => {}
            }
            self.log.push(effect);
        }
    }

    /// The run of the last request started.
    pub fn last_run(&self) -> RunId {
        self.requests.last().expect("a request was started").0
    }

    pub fn send(&mut self, text: &str) -> RunId {
        let effects = self.ctl.send(text.into(), vec![], self.now).expect("sent");
        self.run(effects);
        self.last_run()
    }

    /// Advances the clock, firing a due tick the way the widget's timer would.
    pub fn advance(&mut self, ms: f64) {
        self.now += ms;
        if self.tick_at.is_some_and(|at| at <= self.now) {
            self.tick_at = None;
            let effects = self.ctl.tick(self.now);
            self.run(effects);
        }
    }

    /// Network bytes for `run`, through the real decoders, `step_ms` apart.
    pub fn feed(&mut self, run: RunId, chunks: &[String], step_ms: f64) {
        for chunk in chunks {
            self.advance(step_ms);
            let events = self
                .decoders
                .get_mut(&run)
                .map(|d| d.push(chunk.as_bytes()))
                .unwrap_or_default();
            for ev in events {
                let effects = self.ctl.event(run, ev, self.now);
                self.run(effects);
            }
        }
    }

    /// The body ended: the decoder's closing events, then the request settles.
    pub fn end(&mut self, run: RunId) {
        let events = self
            .decoders
            .get_mut(&run)
            .map(ChatStream::finish)
            .unwrap_or_default();
        for ev in events {
            let effects = self.ctl.event(run, ev, self.now);
            self.run(effects);
        }
        self.settle(run, Outcome::Finished);
    }

    pub fn settle(&mut self, run: RunId, outcome: Outcome) {
        let effects = self.ctl.settled(run, outcome, self.now);
        self.run(effects);
    }

    /// The answer to a request with an HTTP error status, as the transport reports it.
    pub fn http_error(&mut self, run: RunId, status: u16, body: &str, retry_after: Option<&str>) {
        let error = parse_error_body(status, body, retry_after);
        let effects = self.ctl.event(run, StreamEvent::Error(error), self.now);
        self.run(effects);
        self.settle(run, Outcome::Finished);
    }

    /// A whole answer, streamed and ended.
    pub fn answer(&mut self, run: RunId, text: &str) {
        self.feed(run, &answer_in_deltas(text, 4), 5.0);
        self.end(run);
    }

    pub fn leaf(&self) -> &crate::conversation::Node {
        let c = self.ctl.conversation();
        c.active_leaf()
            .and_then(|id| c.node(id))
            .expect("a message")
    }

    pub fn path_texts(&self) -> Vec<String> {
        let c = self.ctl.conversation();
        c.active_path().iter().map(|n| n.text.clone()).collect()
    }

    pub fn count(&self, f: impl Fn(&Effect) -> bool) -> usize {
        self.log.iter().filter(|e| f(e)).count()
    }
}
