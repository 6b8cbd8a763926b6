//! The proxy to the configured upstream: the request is checked and clamped, the key is
//! added here and only here, and the answer flows back chunk by chunk as it arrives.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};

use crate::budget::BudgetKey;
use crate::config::{AuthStyle, Config, Upstream};
use crate::error::openai_error;
use crate::usage::UsageTap;
use crate::AppState;

/// The HTTP client for the upstream. Redirects are not followed (a redirect must never
/// carry the key to another host) and environment proxies are ignored unless
/// `--use-env-proxy` is given.
pub fn client(config: &Config) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("confab-server/", env!("CARGO_PKG_VERSION")));
    if !config.use_env_proxy {
        b = b.no_proxy();
    }
    b.build()
        .expect("the HTTP client builds with static settings")
}

fn authorize(req: reqwest::RequestBuilder, up: &Upstream) -> reqwest::RequestBuilder {
    let Some(key) = &up.api_key else {
        return req;
    };
    let (name, value) = match &up.auth {
        AuthStyle::Bearer => (
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {}", key.expose())),
        ),
        AuthStyle::Azure { .. } => (
            HeaderName::from_static("api-key"),
            HeaderValue::from_str(key.expose()),
        ),
    };
    match value {
        Ok(mut v) => {
            v.set_sensitive(true);
            req.header(name, v)
        }
        // Checked at startup in practice: a key with control characters cannot be sent.
        Err(_) => req,
    }
}

/// `who`: the client the answer's tokens count against (with budgets).
pub async fn chat(
    st: AppState,
    client_headers: &HeaderMap,
    body: Bytes,
    who: Option<BudgetKey>,
) -> Response {
    let config = st.config();
    let up = config
        .upstream
        .as_ref()
        .expect("proxy mode has an upstream");
    let prepared = match crate::policy::prepare_body(&st, body).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let streaming = prepared.stream;
    let prompt_chars = prepared.prompt_chars;
    let out = prepared.json;
    let accept = client_headers
        .get(header::ACCEPT)
        .filter(|v| v.len() < 200)
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_static(if streaming {
                "text/event-stream"
            } else {
                "application/json"
            })
        });
    let http = st.inner.http.as_ref().expect("proxy mode has a client");
    let req = authorize(
        http.post(up.url("chat/completions"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(out),
        up,
    );
    let counting = Counting {
        st: st.clone(),
        who,
        prompt_chars,
    };
    send_and_relay(config, up, req, "chat/completions", Some(counting)).await
}

/// A chat completion whose latency and tokens are counted.
struct Counting {
    st: AppState,
    who: Option<BudgetKey>,
    prompt_chars: usize,
}

pub async fn models(st: AppState) -> Response {
    let config = st.config();
    if config.model.is_some() || !config.allowed_models.is_empty() {
        return crate::demo::models(&st);
    }
    let up = config
        .upstream
        .as_ref()
        .expect("proxy mode has an upstream");
    let http = st.inner.http.as_ref().expect("proxy mode has a client");
    let req = authorize(
        http.get(up.url("models"))
            .header(header::ACCEPT, "application/json"),
        up,
    );
    send_and_relay(config, up, req, "models", None).await
}

async fn send_and_relay(
    config: &Config,
    up: &Upstream,
    req: reqwest::RequestBuilder,
    what: &str,
    counting: Option<Counting>,
) -> Response {
    let start = Instant::now();
    let res = match tokio::time::timeout(config.upstream_timeout, req.send()).await {
        Err(_) => {
            tracing::warn!(
                path = what,
                secs = config.upstream_timeout.as_secs(),
                "upstream timed out"
            );
            return openai_error(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "the upstream did not answer within {} s",
                    config.upstream_timeout.as_secs()
                ),
                "upstream_error",
                Some("upstream_timeout"),
            );
        }
        Ok(Err(e)) => {
            let why = describe(&e);
            tracing::warn!(path = what, error = %why, "upstream request failed");
            let (status, code) = if e.is_timeout() {
                (StatusCode::GATEWAY_TIMEOUT, "upstream_timeout")
            } else {
                (StatusCode::BAD_GATEWAY, "upstream_unreachable")
            };
            return openai_error(
                status,
                format!("could not reach the upstream: {why}"),
                "upstream_error",
                Some(code),
            );
        }
        Ok(Ok(r)) => r,
    };
    let status = res.status();
    tracing::info!(
        path = what,
        status = status.as_u16(),
        ms = start.elapsed().as_millis() as u64,
        "upstream answered"
    );
    if let Some(c) = &counting {
        c.st.metrics().upstream_latency.observe(start.elapsed());
    }
    if !status.is_success() {
        return relay_error(up, res).await;
    }

    let content_type = res.headers().get(header::CONTENT_TYPE).cloned();
    let sse = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
    // Only the content type passes: quota, organization and request-id headers stay here.
    let relayed = relay(res.bytes_stream(), config.upstream_timeout, sse);
    let body = match counting.filter(|c| c.st.config().counts_usage()) {
        None => Body::from_stream(relayed),
        Some(c) => {
            let mut tap = UsageTap::new(c.st, c.who, c.prompt_chars, sse, start);
            Body::from_stream(relayed.map(move |item| {
                if let Ok(bytes) = &item {
                    tap.see(bytes);
                }
                item
            }))
        }
    };
    let mut out = Response::new(body);
    *out.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::OK);
    let h = out.headers_mut();
    if let Some(ct) = content_type {
        h.insert(header::CONTENT_TYPE, ct);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if sse {
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    out
}

/// The upstream's body, chunk by chunk as it arrives. A chunk that takes longer than
/// `idle` or a broken upstream ends the stream: with an SSE error event when the stream is
/// between two events, else by dropping the connection (the client sees it truncated).
fn relay(
    upstream: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    idle: Duration,
    sse: bool,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    struct State<S> {
        upstream: std::pin::Pin<Box<S>>,
        tail: Vec<u8>,
        done: bool,
    }
    let state = State {
        upstream: Box::pin(upstream),
        tail: Vec::new(),
        done: false,
    };
    futures_util::stream::unfold(state, move |mut st| async move {
        if st.done {
            return None;
        }
        let why = match tokio::time::timeout(idle, st.upstream.next()).await {
            Ok(Some(Ok(bytes))) => {
                st.tail
                    .extend_from_slice(&bytes[bytes.len().saturating_sub(4)..]);
                let cut = st.tail.len().saturating_sub(4);
                st.tail.drain(..cut);
                return Some((Ok(bytes), st));
            }
            Ok(None) => return None,
            Ok(Some(Err(e))) => format!("the upstream stream broke: {}", describe(&e)),
            Err(_) => format!("the upstream sent nothing for {} s", idle.as_secs()),
        };
        tracing::warn!(error = %why, "relay ended early");
        st.done = true;
        let boundary = st.tail.is_empty()
            || st.tail.ends_with(b"\n\n")
            || st.tail.ends_with(b"\r\n\r\n")
            || st.tail.ends_with(b"\r\r");
        if sse && boundary {
            let event = json!({"error": {"message": why, "type": "upstream_error", "param": null, "code": "upstream_stream_error"}});
            Some((Ok(Bytes::from(format!("data: {event}\n\n"))), st))
        } else {
            Some((Err(std::io::Error::other(why)), st))
        }
    })
}

/// An upstream error, passed on as only its `message`, `type` and `code` (scrubbed of the
/// key) and `Retry-After`; nothing else of the upstream's body or headers.
/// 401 from the upstream means the server's key is wrong: that is a 502 for the client,
/// whose own credentials play no part. 5xx become 502 (504 stays 504).
async fn relay_error(up: &Upstream, res: reqwest::Response) -> Response {
    let status = res.status().as_u16();
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let mut raw = Vec::new();
    let mut stream = res.bytes_stream();
    let read = async {
        while let Some(Ok(chunk)) = stream.next().await {
            raw.extend_from_slice(&chunk);
            if raw.len() > 64 * 1024 {
                raw.truncate(64 * 1024);
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    let mut text = String::from_utf8_lossy(&raw).into_owned();
    if let Some(key) = &up.api_key {
        text = text.replace(key.expose(), "[redacted]");
    }

    if status == 401 {
        return openai_error(
            StatusCode::BAD_GATEWAY,
            "the upstream refused this server's API key (HTTP 401): the server's key needs fixing",
            "upstream_error",
            Some("upstream_unauthorized"),
        );
    }
    let out_status = match status {
        504 => StatusCode::GATEWAY_TIMEOUT,
        500..=599 => StatusCode::BAD_GATEWAY,
        s => StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY),
    };
    let parsed = serde_json::from_str::<UpstreamError>(&text).ok();
    let mut out = match parsed {
        Some(UpstreamError { error: e }) if status < 500 => openai_error(
            out_status,
            e.message.chars().take(2000).collect::<String>(),
            &e.kind.unwrap_or_else(|| "invalid_request_error".into()),
            e.code.as_deref(),
        ),
        Some(UpstreamError { error: e }) => openai_error(
            out_status,
            format!(
                "the upstream failed (HTTP {status}): {}",
                e.message.chars().take(2000).collect::<String>()
            ),
            "upstream_error",
            Some("upstream_error"),
        ),
        None => {
            let kind = if status < 500 {
                "invalid_request_error"
            } else {
                "upstream_error"
            };
            openai_error(
                out_status,
                format!("the upstream answered HTTP {status}"),
                kind,
                Some("upstream_error"),
            )
        }
    };
    if let Some(ra) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, ra);
    }
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}

/// The part of an upstream error body that is passed on.
#[derive(serde::Deserialize)]
struct UpstreamError {
    error: UpstreamErrorFields,
}

#[derive(serde::Deserialize)]
struct UpstreamErrorFields {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    /// A string code, or a number some providers send.
    #[serde(default, deserialize_with = "code_as_text")]
    code: Option<String>,
}

fn code_as_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize;
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// A reqwest error in words, without the URL (which is ours anyway, but stays out of
/// client-facing text) and never with headers.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body error"
    } else if e.is_request() {
        "request error"
    } else {
        "error"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}
