//! From response bytes to what the UI shows: answer text, reasoning, usage, finish, errors.
//!
//! [`ChatStream`] wraps the SSE decoder, the tolerant chunk types and the `<think>` splitter,
//! and applies the end-of-stream rules:
//! - `data: [DONE]` (exactly) ends the answer; nothing after it is used;
//! - `event: error` or a frame with an `error` member is an error, and nothing follows it;
//! - the stream ending without `[DONE]` is fine after a `finish_reason`, else it was cut off;
//! - an answer with neither text nor reasoning is an error, not an empty success.

mod think;

pub use think::{Piece, ThinkSplitter};

use crate::chunk::{ChatChunk, Completion};
use crate::error::{ApiError, ErrorKind};
use crate::sse::{SseDecoder, SseEvent};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Token counts reported by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default, deserialize_with = "crate::chunk::lenient_u32")]
    pub prompt_tokens: u32,
    #[serde(default, deserialize_with = "crate::chunk::lenient_u32")]
    pub completion_tokens: u32,
    #[serde(default, deserialize_with = "crate::chunk::lenient_u32")]
    pub total_tokens: u32,
}

impl Usage {
    /// Fills `total_tokens` when a server left it out.
    pub fn normalized(mut self) -> Self {
        if self.total_tokens == 0 {
            self.total_tokens = self.prompt_tokens.saturating_add(self.completion_tokens);
        }
        self
    }
}

/// Why the model stopped. Serialized as the wire string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FinishReason {
    Stop,
    /// Hit `max_tokens` or the context limit: the answer is incomplete.
    Length,
    /// The provider's content filter removed the rest.
    ContentFilter,
    ToolCalls,
    /// Anything else (`eos`, `end_turn`, `function_call`, ...), kept as sent.
    Other(String),
}

impl FinishReason {
    pub fn parse(s: &str) -> Self {
        match s {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "content_filter" => FinishReason::ContentFilter,
            "tool_calls" => FinishReason::ToolCalls,
            other => FinishReason::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Other(s) => s,
        }
    }

    /// Whether the answer is complete (not cut by a limit or a filter).
    pub fn is_complete(&self) -> bool {
        !matches!(self, FinishReason::Length | FinishReason::ContentFilter)
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(FinishReason::parse(&String::deserialize(d)?))
    }
}

/// What the UI receives while an answer streams in.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// Answer text to append.
    Content(String),
    /// Reasoning ("thinking") text to append.
    Reasoning(String),
    /// Token counts (usually once, at the end; the latest replaces earlier ones).
    Usage(Usage),
    /// The model's finish reason (once).
    Finish(FinishReason),
    /// The answer failed; no events follow.
    Error(ApiError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// `[DONE]` seen.
    Done,
    /// An error was emitted.
    Failed,
}

/// Incremental decoder of a streamed chat completion.
#[derive(Debug, Clone)]
pub struct ChatStream {
    decoder: SseDecoder,
    think: ThinkSplitter,
    state: State,
    finished: bool,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    saw_content: bool,
    saw_reasoning: bool,
    events: Vec<SseEvent>,
    pieces: Vec<Piece>,
}

impl Default for ChatStream {
    fn default() -> Self {
        Self::new()
    }
}

impl ChatStream {
    pub fn new() -> Self {
        Self::with_decoder(SseDecoder::new())
    }

    /// With a decoder configured by the caller (e.g. another line cap).
    pub fn with_decoder(decoder: SseDecoder) -> Self {
        ChatStream {
            decoder,
            think: ThinkSplitter::new(),
            state: State::Open,
            finished: false,
            finish_reason: None,
            usage: None,
            saw_content: false,
            saw_reasoning: false,
            events: Vec::new(),
            pieces: Vec::new(),
        }
    }

    /// True once `[DONE]` or an error arrived: the caller may stop reading and call
    /// [`finish`](Self::finish).
    pub fn is_done(&self) -> bool {
        self.state != State::Open || self.finished
    }

    /// The finish reason, once one arrived.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.finish_reason.as_ref()
    }

    /// The latest usage, once one arrived.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// Feeds response bytes; returns what they add. Adjacent text events are merged, so
    /// one network chunk gives at most a few events.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        if self.is_done() {
            return out;
        }
        let mut events = std::mem::take(&mut self.events);
        let res = self.decoder.push_into(bytes, &mut events);
        for ev in events.drain(..) {
            self.handle(ev, &mut out);
        }
        self.events = events;
        if let Err(err) = res {
            self.fail(
                ApiError::bad_response(format!("{err} (Confab's limit)")),
                &mut out,
            );
        }
        out
    }

    /// The response body ended. Returns the closing events: held back text, and an error
    /// when the answer was cut off or empty. Calling it again returns nothing.
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        if self.state == State::Open {
            if let Err(err) = self.decoder.finish() {
                self.fail(
                    ApiError::bad_response(format!("{err} (Confab's limit)")),
                    &mut out,
                );
            }
        }
        self.finished = true;
        if self.state == State::Failed {
            return out;
        }
        self.flush_think(&mut out);
        if self.state != State::Done && self.finish_reason.is_none() {
            self.fail(ApiError::truncated(), &mut out);
        } else if !self.saw_content && !self.saw_reasoning {
            let err = empty_answer(self.finish_reason.as_ref());
            self.fail(err, &mut out);
        }
        out
    }

    fn fail(&mut self, err: ApiError, out: &mut Vec<StreamEvent>) {
        if self.state != State::Failed {
            self.state = State::Failed;
            out.push(StreamEvent::Error(err));
        }
    }

    fn handle(&mut self, ev: SseEvent, out: &mut Vec<StreamEvent>) {
        if self.state != State::Open {
            return;
        }
        if ev.event == "error" {
            self.fail(ApiError::from_stream_payload(&ev.data), out);
            return;
        }
        if ev.data == "[DONE]" {
            self.state = State::Done;
            self.flush_think(out);
            return;
        }
        if ev.data.trim().is_empty() {
            return;
        }
        let chunk: ChatChunk = match serde_json::from_str(&ev.data) {
            Ok(c) => c,
            Err(_) => {
                self.fail(
                    ApiError::bad_response(format!(
                        "a piece of the streamed answer is not valid JSON ({})",
                        snippet(&ev.data)
                    )),
                    out,
                );
                return;
            }
        };
        self.apply_chunk(chunk, out);
    }

    fn apply_chunk(&mut self, chunk: ChatChunk, out: &mut Vec<StreamEvent>) {
        if let Some(err) = chunk.error.as_ref().filter(|v| is_error_value(v)) {
            self.fail(ApiError::from_value(ErrorKind::Stream, None, err), out);
            return;
        }
        if let Some(choice) = chunk.first_choice() {
            if let Some(body) = choice.body() {
                if let Some(r) = body.reasoning_text() {
                    self.saw_reasoning = true;
                    push_text(out, StreamEvent::Reasoning(r));
                }
                for text in [&body.content, &body.refusal].into_iter().flatten() {
                    self.think.push(text, &mut self.pieces);
                    self.drain_pieces(out);
                }
            }
            if let Some(reason) = &choice.finish_reason {
                if self.finish_reason.is_none() {
                    self.finish_reason = Some(reason.clone());
                    out.push(StreamEvent::Finish(reason.clone()));
                }
            }
        }
        if let Some(usage) = chunk.usage.map(Usage::normalized) {
            if self.usage != Some(usage) {
                self.usage = Some(usage);
                out.push(StreamEvent::Usage(usage));
            }
        }
    }

    fn flush_think(&mut self, out: &mut Vec<StreamEvent>) {
        self.think.flush(&mut self.pieces);
        self.drain_pieces(out);
    }

    fn drain_pieces(&mut self, out: &mut Vec<StreamEvent>) {
        for piece in self.pieces.drain(..) {
            match piece {
                Piece::Content(t) => {
                    if !t.trim().is_empty() {
                        self.saw_content = true;
                    }
                    push_text(out, StreamEvent::Content(t));
                }
                Piece::Reasoning(t) => {
                    if !t.trim().is_empty() {
                        self.saw_reasoning = true;
                    }
                    push_text(out, StreamEvent::Reasoning(t));
                }
            }
        }
    }
}

/// Appends a text event, merging it into the previous one of the same kind.
fn push_text(out: &mut Vec<StreamEvent>, ev: StreamEvent) {
    match (out.last_mut(), ev) {
        (_, StreamEvent::Content(t) | StreamEvent::Reasoning(t)) if t.is_empty() => {}
        (Some(StreamEvent::Content(a)), StreamEvent::Content(b))
        | (Some(StreamEvent::Reasoning(a)), StreamEvent::Reasoning(b)) => a.push_str(&b),
        (_, ev) => out.push(ev),
    }
}

/// `"error": null`, `false`, `""` or `{}` are not errors (some servers send them).
fn is_error_value(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

fn empty_answer(reason: Option<&FinishReason>) -> ApiError {
    let mut err = ApiError::empty_answer();
    match reason {
        Some(FinishReason::ContentFilter) => {
            err.message = "The provider's content filter blocked the answer.".into();
            err.code = Some("content_filter".into());
        }
        Some(FinishReason::Length) => {
            err.message = "The token limit was reached before the model wrote any answer.".into();
            err.code = Some("length".into());
        }
        Some(FinishReason::ToolCalls) => {
            err.message =
                "The model tried to call a tool instead of answering; Confab does not run tools."
                    .into();
            err.code = Some("tool_calls".into());
        }
        _ => {}
    }
    err
}

fn snippet(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(60) {
        None => format!("it starts with “{s}”"),
        Some((i, _)) => format!("it starts with “{}…”", &s[..i]),
    }
}

/// Reads a non-streaming JSON answer into the same events a stream would give.
///
/// A body that turns out to be an event stream (a server ignoring `stream: false`, or a
/// wrong `Content-Type`) is decoded as one.
pub fn parse_completion_json(body: &str) -> Result<Vec<StreamEvent>, ApiError> {
    let trimmed = body.trim_start_matches('\u{FEFF}').trim_start();
    if trimmed.starts_with("data:") || trimmed.starts_with("event:") || trimmed.starts_with(':') {
        let mut s = ChatStream::new();
        let mut events = s.push(body.as_bytes());
        events.extend(s.finish());
        return match events
            .iter()
            .position(|e| matches!(e, StreamEvent::Error(_)))
        {
            Some(i) => match events.swap_remove(i) {
                StreamEvent::Error(e) => Err(e),
                _ => unreachable!(),
            },
            None => Ok(events),
        };
    }
    let value: Value = serde_json::from_str(trimmed).map_err(|_| {
        if trimmed.is_empty() {
            ApiError::bad_response("the answer was empty")
        } else {
            ApiError::bad_response(format!("the answer is not JSON ({})", snippet(trimmed)))
        }
    })?;
    if let Some(err) = value.get("error").filter(|v| is_error_value(v)) {
        return Err(ApiError::from_value(ErrorKind::Http, None, err));
    }
    if !value.is_object() {
        return Err(ApiError::bad_response(format!(
            "the answer is not a JSON object ({})",
            snippet(trimmed)
        )));
    }
    let completion: Completion = serde_json::from_value(value)
        .map_err(|e| ApiError::bad_response(format!("the answer has an unexpected shape: {e}")))?;
    let mut out = Vec::new();
    let mut saw_text = false;
    let choice = completion.first_choice();
    if let Some(body) = choice.and_then(|c| c.body()) {
        if let Some(r) = body.reasoning_text() {
            saw_text |= !r.trim().is_empty();
            push_text(&mut out, StreamEvent::Reasoning(r));
        }
        let mut think = ThinkSplitter::new();
        let mut pieces = Vec::new();
        for text in [&body.content, &body.refusal].into_iter().flatten() {
            think.push(text, &mut pieces);
        }
        think.flush(&mut pieces);
        // Reasoning first, then content, as a stream would show them.
        pieces.sort_by_key(|p| matches!(p, Piece::Content(_)));
        for p in pieces {
            let ev = match p {
                Piece::Content(t) => StreamEvent::Content(t),
                Piece::Reasoning(t) => StreamEvent::Reasoning(t),
            };
            if let StreamEvent::Content(t) | StreamEvent::Reasoning(t) = &ev {
                saw_text |= !t.trim().is_empty();
            }
            push_text(&mut out, ev);
        }
    }
    let finish = choice.and_then(|c| c.finish_reason.clone());
    if !saw_text {
        return Err(empty_answer(finish.as_ref()));
    }
    if let Some(usage) = completion.usage.map(Usage::normalized) {
        out.push(StreamEvent::Usage(usage));
    }
    if let Some(reason) = finish {
        out.push(StreamEvent::Finish(reason));
    }
    Ok(out)
}

/// Whether a `Content-Type` header announces an event stream (`text/event-stream`, any
/// case, parameters allowed).
pub fn is_event_stream(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("text/event-stream")
}

#[cfg(test)]
mod tests;
