//! The rules in front of the API routes: browser origins (CORS), rate limit, body cap.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use http_body_util::BodyExt;

use crate::body_memory::{BodyMemory, Reservation};
use crate::client_key::{client_key, ClientKey};
use crate::config::{normalize_origin, Config};
use crate::error::openai_error;
use crate::AppState;

/// The one route that shows a visitor's last prompt: never readable by another site.
const SAME_ORIGIN_ONLY: &str = "/v1/demo/last-request";

/// Origin check and CORS for `/v1/*`, then the per-client rate limit.
///
/// * No `Origin` header (curl, server-side callers): allowed; CORS guards browsers only.
/// * An origin in `--allow-origin`: allowed, answered with that exact origin (never `*`).
/// * The page's own origin, when it is served from a loopback host (`http://127.0.0.1:8787`
///   calling `127.0.0.1:8787`) or from `--public-host`: allowed. Other hosts must be listed,
///   which also keeps DNS-rebinding pages (whose Host is their own name) out.
/// * Demo mode with no `--allow-origin`: any origin, as `*` (there is no key to protect),
///   except for `/v1/demo/last-request`, which only the server's own pages may read.
/// * Anything else: 403, preflight included, and the request goes nowhere.
///
/// The client's [`ClientKey`] is put into the request's extensions for the handlers.
pub async fn api_guard(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let config = st.config();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let is_preflight = req.method() == Method::OPTIONS;
    let same_origin_only = req.uri().path() == SAME_ORIGIN_ONLY;

    let allow_origin: Option<HeaderValue> = match &origin {
        None => None,
        Some(raw) => {
            let normalized = normalize_origin(raw);
            let own = normalized
                .as_deref()
                .is_some_and(|o| is_own_origin(o, req.headers(), config));
            let listed = normalized
                .as_ref()
                .is_some_and(|o| config.allow_origins.iter().any(|a| a == o));
            if own || (listed && !same_origin_only) {
                normalized.and_then(|o| HeaderValue::from_str(&o).ok())
            } else if config.is_demo() && config.allow_origins.is_empty() && !same_origin_only {
                Some(HeaderValue::from_static("*"))
            } else {
                tracing::info!(origin = %raw.chars().take(200).collect::<String>(), "origin refused");
                return openai_error(
                    StatusCode::FORBIDDEN,
                    "this origin is not allowed to call this server (see --allow-origin)",
                    "invalid_request_error",
                    Some("origin_not_allowed"),
                );
            }
        }
    };

    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let key = client_key(req.headers(), peer, config.trust_forwarded_for);
    req.extensions_mut().insert(key);

    let mut res = if is_preflight {
        preflight(req.headers())
    } else if let Err(refused) = st.limits().check_rate(key).await {
        refused
    } else {
        next.run(req).await
    };

    if let Some(value) = allow_origin {
        let h = res.headers_mut();
        if value != "*" {
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
    res
}

fn preflight(headers: &HeaderMap) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    // Any requested header may be sent: the proxy forwards none of them upstream.
    let requested = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|n| {
                    !n.is_empty()
                        && n.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "content-type".into());
    if let Ok(v) = HeaderValue::from_str(&requested) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    );
    res
}

/// The origin of this server's own pages: the Host it was reached at when that is a
/// loopback name, or `--public-host` (which the Host check enforces).
fn is_own_origin(origin: &str, headers: &HeaderMap, config: &Config) -> bool {
    let as_origins = |host: &str| -> Vec<String> {
        ["http", "https"]
            .into_iter()
            .filter_map(|scheme| normalize_origin(&format!("{scheme}://{host}")))
            .collect()
    };
    if let Some(public) = &config.public_host {
        if as_origins(public).iter().any(|o| o == origin) {
            return true;
        }
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    if !as_origins(host).iter().any(|o| o == origin) {
        return false;
    }
    url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(crate::headers::is_loopback_host))
        .unwrap_or(false)
}

/// `--rate-limit`: a GCRA bucket per [`ClientKey`] (burst = the per-minute rate). Idle
/// keys are swept by a background task ([`RateLimiter::sweep`]), never per request.
pub struct RateLimiter {
    inner: DefaultKeyedRateLimiter<ClientKey>,
    clock: DefaultClock,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).expect("at least 1");
        RateLimiter {
            inner: governor::RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the client is over its rate.
    pub fn check(&self, key: ClientKey) -> Result<(), Duration> {
        self.inner
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets clients whose bucket is full again (they are as good as new).
    pub fn sweep(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

/// Sweeps the rate limiter once a minute while the server lives.
pub fn spawn_sweeper(limiter: &Arc<RateLimiter>) {
    let weak = Arc::downgrade(limiter);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            match weak.upgrade() {
                Some(l) => l.sweep(),
                None => return,
            }
        }
    });
}

/// Reads the request body up to `max` bytes within `timeout`: over the size a 413, over
/// the time a 408, both in the OpenAI shape. The buffer grows with what arrives (a
/// Content-Length is trusted only up to `max`), so memory is what was actually sent, and
/// every byte is covered by a share of `memory` first (a 503 when there is no room): the
/// [`Reservation`] returned holds it.
pub async fn read_body(
    req: Request,
    max: usize,
    timeout: Duration,
    memory: &BodyMemory,
) -> Result<(Bytes, Reservation), Response> {
    let too_large = || {
        openai_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than this server accepts ({max} bytes)"),
            "invalid_request_error",
            Some("request_too_large"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    // Shares grow with what arrives, never past what was declared: a client that declares
    // 25 MB and sends nothing holds next to nothing.
    let mut reservation = Reservation::default();
    let share_limit = declared.map_or(max, |len| len as usize);
    let mut body: Body = req.into_body();
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(max as u64) as usize);
    let read = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Unreadable)?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > max {
                    return Err(BodyError::TooLarge);
                }
                memory
                    .cover(&mut reservation, buf.len() + data.len(), share_limit)
                    .await
                    .map_err(BodyError::Busy)?;
                buf.extend_from_slice(&data);
            }
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(())) => Ok((Bytes::from(buf), reservation)),
        Ok(Err(BodyError::TooLarge)) => Err(too_large()),
        Ok(Err(BodyError::Busy(res))) => Err(res),
        Ok(Err(_)) => Err(openai_error(
            StatusCode::BAD_REQUEST,
            "could not read the request body",
            "invalid_request_error",
            Some("bad_body"),
        )),
        Err(_) => Err(openai_error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                timeout.as_secs()
            ),
            "invalid_request_error",
            Some("body_timeout"),
        )),
    }
}

enum BodyError {
    TooLarge,
    Unreadable,
    Busy(Response),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_per_client_and_say_how_long_to_wait() {
        let l = RateLimiter::new(3);
        let a = ClientKey::V4([10, 0, 0, 1].into());
        for _ in 0..3 {
            assert!(l.check(a).is_ok());
        }
        let wait = l.check(a).unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(l.check(ClientKey::V4([10, 0, 0, 2].into())).is_ok());
        assert_eq!(l.len(), 2);
    }
}
