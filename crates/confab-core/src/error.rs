//! Errors as the user sees them: what went wrong, in a sentence, with what the server said.
//!
//! [`parse_error_body`] reads the error bodies of the servers Confab talks to: OpenAI
//! (`{"error":{"message","type","code"}}`), Azure OpenAI (`{"error":{"code","message",
//! "innererror"}}`), Ollama (`{"error":"text"}`), vLLM / FastAPI (`{"message"}`,
//! `{"detail"}`), and plain text or HTML pages from proxies.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Longest server message kept, in characters; proxies like to send whole HTML pages.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// What kind of failure, which decides the sentence shown and whether retrying may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request never got an answer (offline, DNS, CORS, connection reset).
    Network,
    /// The server answered with an HTTP error status.
    Http,
    /// HTTP 429: too many requests or quota exceeded.
    RateLimited,
    /// The server reported an error in the middle of a streamed answer.
    Stream,
    /// The stream ended before the answer was finished.
    Truncated,
    /// The server finished without any answer text.
    EmptyAnswer,
    /// No answer in time (client timeout, HTTP 408 or 504).
    Timeout,
    /// The answer was not in a shape Confab can read.
    BadResponse,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Network => "network",
            ErrorKind::Http => "http",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Stream => "stream",
            ErrorKind::Truncated => "truncated",
            ErrorKind::EmptyAnswer => "empty_answer",
            ErrorKind::Timeout => "timeout",
            ErrorKind::BadResponse => "bad_response",
        }
    }
}

/// The `code` confab-server answers (HTTP 400) when a request reaches its proxy without
/// a model and the server was started without `--model`.
pub const MODEL_REQUIRED: &str = "model_required";

/// The code confab-server gives when the provider refused the server's own API key (an
/// upstream 401, passed on as a 502).
pub const UPSTREAM_UNAUTHORIZED: &str = "upstream_unauthorized";

/// A cause the widget explains in its own words, in the user's language, instead of
/// showing the server's message: recognised by the error's `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KnownCause {
    /// No model was chosen ([`MODEL_REQUIRED`]): set `data-model` on the widget or start
    /// confab-server with `--model`.
    ModelRequired,
    /// The provider refused the chat server's key ([`UPSTREAM_UNAUTHORIZED`]): only the
    /// server's operator can fix it, so Retry would fail again.
    ServerKeyRefused,
}

/// A failed request or answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// HTTP status, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What the server (or Confab) said, trimmed and capped; may be empty.
    #[serde(default)]
    pub message: String,
    /// The server's machine-readable code (`invalid_api_key`, `content_filter`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Seconds to wait before retrying, from a `Retry-After` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            status: None,
            message: message.into(),
            code: None,
            retry_after_secs: None,
        }
    }

    /// The request could not reach the server; `detail` is what the browser said.
    pub fn network(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Network, detail)
    }

    pub fn timeout() -> Self {
        Self::new(ErrorKind::Timeout, "")
    }

    pub fn truncated() -> Self {
        Self::new(
            ErrorKind::Truncated,
            "The answer was cut off before it finished.",
        )
    }

    pub fn empty_answer() -> Self {
        Self::new(
            ErrorKind::EmptyAnswer,
            "The model finished without answering.",
        )
    }

    pub fn bad_response(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadResponse, detail)
    }

    /// Whether sending the same request again may work, and so whether Retry is offered.
    ///
    /// Yes for failures of the moment: no connection, a cut or stalled stream, an error in
    /// the middle of an answer, an empty answer, HTTP 408, 409, 429 (after its countdown)
    /// and 5xx. No when the request itself is wrong and would fail the same way again:
    /// HTTP 400, 401, 403, 404, 422 and every other 4xx, an answer Confab cannot read, and
    /// any error whose code is a [`KnownCause`] (e.g. `model_required`). Those show what
    /// to fix instead.
    pub fn is_retryable(&self) -> bool {
        if self.known_cause().is_some() {
            return false;
        }
        match self.kind {
            ErrorKind::Network
            | ErrorKind::RateLimited
            | ErrorKind::Stream
            | ErrorKind::Truncated
            | ErrorKind::EmptyAnswer
            | ErrorKind::Timeout => true,
            ErrorKind::Http => matches!(self.status, Some(500..=599) | Some(409)),
            ErrorKind::BadResponse => false,
        }
    }

    /// The cause the widget explains itself, when the server's `code` names one.
    pub fn known_cause(&self) -> Option<KnownCause> {
        match self.code.as_deref() {
            Some(MODEL_REQUIRED) => Some(KnownCause::ModelRequired),
            Some(UPSTREAM_UNAUTHORIZED) => Some(KnownCause::ServerKeyRefused),
            _ => None,
        }
    }

    /// A short title for the error, e.g. for a banner heading.
    pub fn title(&self) -> &'static str {
        match self.kind {
            ErrorKind::Network => "Could not reach the server",
            ErrorKind::Http => match self.status {
                Some(401) | Some(403) => "Not authorized",
                Some(404) => "Not found",
                Some(413) => "Request too large",
                Some(400..=499) => "Request rejected",
                _ => "Server error",
            },
            ErrorKind::RateLimited => "Too many requests",
            ErrorKind::Stream => "The model stopped with an error",
            ErrorKind::Truncated => "Answer cut off",
            ErrorKind::EmptyAnswer => "Empty answer",
            ErrorKind::Timeout => "Timed out",
            ErrorKind::BadResponse => "Unreadable answer",
        }
    }

    /// An error the server reported inside a stream: the `data` of an `event: error`, or
    /// the `error` member of a data frame (pass it as JSON text or use [`from_value`]).
    ///
    /// [`from_value`]: Self::from_value
    pub fn from_stream_payload(data: &str) -> Self {
        let mut err = match serde_json::from_str::<Value>(data) {
            Ok(v) => Self::from_value(ErrorKind::Stream, None, &v),
            Err(_) => Self::new(ErrorKind::Stream, clean_text(data)),
        };
        if err.message.is_empty() && err.code.is_none() {
            err.message = clean_text(data);
        }
        err
    }

    /// Reads an error out of a JSON value: `{"error": ...}`, the error object itself, a
    /// string, or an array of those (Gemini's compatibility layer wraps errors in one).
    pub fn from_value(kind: ErrorKind, status: Option<u16>, value: &Value) -> Self {
        let mut err = Self::new(kind, "");
        err.status = status;
        fill_from_value(&mut err, value, 0);
        err.message = cap(err.message.trim());
        err
    }
}

fn fill_from_value(err: &mut ApiError, value: &Value, depth: u8) {
    if depth > 4 {
        return;
    }
    match value {
        Value::String(s) if err.message.is_empty() => err.message = s.clone(),
        Value::String(_) => {}
        Value::Array(items) => {
            if let Some(first) = items.first() {
                fill_from_value(err, first, depth + 1);
            }
        }
        Value::Object(map) => {
            if let Some(inner) = map.get("error").filter(|v| !v.is_null()) {
                fill_from_value(err, inner, depth + 1);
            }
            if err.message.is_empty() {
                for key in ["message", "msg", "error_message", "detail"] {
                    if let Some(v) = map.get(key) {
                        match v {
                            Value::String(s) if !s.trim().is_empty() => {
                                err.message = s.clone();
                                break;
                            }
                            // FastAPI validation errors: {"detail":[{"msg":...}]}
                            Value::Array(_) | Value::Object(_) => {
                                fill_from_value(err, v, depth + 1);
                                if !err.message.is_empty() {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            if err.code.is_none() {
                // OpenAI puts the specific reason in `code` and the category in `type`;
                // vLLM puts the HTTP status number in `code`: prefer a string.
                let code = map
                    .get("code")
                    .and_then(Value::as_str)
                    .or_else(|| map.get("type").and_then(Value::as_str))
                    .filter(|s| !s.is_empty());
                err.code = code.map(str::to_owned);
            }
            // Azure explains content filtering in `innererror.code`.
            if let Some(inner) = map.get("innererror").and_then(|v| v.get("code")) {
                if let Some(s) = inner.as_str() {
                    if err.code.is_none() {
                        err.code = Some(s.to_owned());
                    }
                }
            }
        }
        _ => {}
    }
}

/// Builds the error for a non-2xx HTTP answer from its status, body and `Retry-After`.
pub fn parse_error_body(status: u16, body: &str, retry_after_header: Option<&str>) -> ApiError {
    let kind = match status {
        429 => ErrorKind::RateLimited,
        408 | 504 => ErrorKind::Timeout,
        _ => ErrorKind::Http,
    };
    let mut err = match serde_json::from_str::<Value>(body.trim()) {
        Ok(v @ (Value::Object(_) | Value::Array(_) | Value::String(_))) => {
            ApiError::from_value(kind, Some(status), &v)
        }
        _ => {
            let mut e = ApiError::new(kind, clean_text(body));
            e.status = Some(status);
            e
        }
    };
    if err.message.is_empty() {
        err.message = reason_phrase(status).to_owned();
    }
    err.retry_after_secs = retry_after_header.and_then(parse_retry_after);
    err
}

/// `Retry-After` in seconds. An HTTP-date is not understood and gives `None`.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Absurdly many digits: wait "a very long time" rather than overflow.
    Some(v.parse::<u64>().unwrap_or(u64::MAX))
}

/// Text or HTML from a server, reduced to something that fits in a sentence: the page
/// `<title>` or its tags stripped, whitespace collapsed, capped.
fn clean_text(body: &str) -> String {
    let trimmed = body.trim();
    let looks_html = trimmed.starts_with('<')
        && (trimmed.len() > 1)
        && (contains_ignore_case(trimmed, "<html")
            || contains_ignore_case(trimmed, "<!doctype")
            || contains_ignore_case(trimmed, "<body")
            || contains_ignore_case(trimmed, "<title")
            || contains_ignore_case(trimmed, "<h1"));
    let text = if looks_html {
        html_text(trimmed)
    } else {
        trimmed.to_owned()
    };
    cap(&collapse_whitespace(&text))
}

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn find_ignore_case(hay: &str, needle: &str, from: usize) -> Option<usize> {
    hay.as_bytes()
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        .map(|i| i + from)
}

fn html_text(html: &str) -> String {
    // nginx and friends: <title>502 Bad Gateway</title>. A title says it best.
    if let Some(start) = find_ignore_case(html, "<title", 0) {
        if let Some(gt) = html[start..].find('>') {
            let from = start + gt + 1;
            if let Some(end) = find_ignore_case(html, "</title", from) {
                let title = collapse_whitespace(&html[from..end]);
                if !title.is_empty() {
                    return title;
                }
            }
        }
    }
    // Otherwise the visible text: drop tags, scripts and styles.
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        out.push(' ');
        let after = &rest[lt..];
        let skip_to = if after.len() > 7 && after[..7].eq_ignore_ascii_case("<script") {
            find_ignore_case(after, "</script", 0)
        } else if after.len() > 6 && after[..6].eq_ignore_ascii_case("<style") {
            find_ignore_case(after, "</style", 0)
        } else {
            Some(0)
        };
        let Some(skip_to) = skip_to else {
            rest = "";
            break;
        };
        match after[skip_to..].find('>') {
            Some(gt) => rest = &after[skip_to + gt + 1..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cap(s: &str) -> String {
    match s.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => s.to_owned(),
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
    }
}

/// The standard reason phrase, for bodies that say nothing.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = self.message.trim();
        let status = match self.status {
            Some(s) => format!(" (HTTP {s})"),
            None => String::new(),
        };
        // A server message that only repeats the reason phrase adds nothing.
        let detail = if msg.is_empty() || Some(msg) == self.status.map(reason_phrase) {
            ""
        } else {
            msg
        };
        let mut s = match self.kind {
            ErrorKind::Network => {
                let mut s =
                    "Could not reach the server. Check the connection and the endpoint address"
                        .to_owned();
                if !detail.is_empty() {
                    s.push_str(&format!(" ({detail})"));
                }
                s
            }
            ErrorKind::Http => {
                let lead = match self.status {
                    Some(401) | Some(403) => "The server refused the request: check the API key",
                    Some(404) => {
                        "The server does not know this address or model: check the endpoint and model name"
                    }
                    Some(413) => "The request is too large for the server",
                    Some(400..=499) => "The server rejected the request",
                    Some(_) => "The server had a problem answering",
                    None => "The server answered with an error",
                };
                with_detail(format!("{lead}{status}"), detail)
            }
            ErrorKind::RateLimited => {
                let mut s = with_detail(format!("Too many requests{status}"), detail);
                end_sentence(&mut s);
                match self.retry_after_secs {
                    Some(1) => s.push_str(" Try again in 1 second."),
                    Some(n) if n < 120 => s.push_str(&format!(" Try again in {n} seconds.")),
                    Some(n) if n < u64::MAX => {
                        s.push_str(&format!(" Try again in {} minutes.", n.div_ceil(60)))
                    }
                    _ => s.push_str(" Wait a moment and try again."),
                }
                s
            }
            ErrorKind::Stream => {
                let s = "The model stopped with an error".to_owned();
                match (&self.code, detail.is_empty()) {
                    (Some(code), true) => format!("{s} ({code})"),
                    _ => with_detail(s, detail),
                }
            }
            ErrorKind::Truncated if msg.is_empty() => ApiError::truncated().message,
            ErrorKind::EmptyAnswer if msg.is_empty() => ApiError::empty_answer().message,
            ErrorKind::Truncated | ErrorKind::EmptyAnswer => msg.to_owned(),
            ErrorKind::Timeout => with_detail(
                format!("The server took too long to answer{status}"),
                detail,
            ),
            ErrorKind::BadResponse => with_detail(
                "The server sent an answer Confab could not read".to_owned(),
                detail,
            ),
        };
        end_sentence(&mut s);
        f.write_str(&s)
    }
}

fn with_detail(mut lead: String, detail: &str) -> String {
    if !detail.is_empty() {
        lead.push_str(": ");
        lead.push_str(detail);
    }
    lead
}

fn end_sentence(s: &mut String) {
    if !s.ends_with(['.', '!', '?', '…']) {
        s.push('.');
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests;
