//! The rules in front of the API routes: browser origins (CORS), rate limit, body cap.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::normalize_origin;
use crate::error::openai_error;
use crate::AppState;

/// Origin check and CORS for `/v1/*`, then the per-client rate limit.
///
/// * No `Origin` header (curl, server-side callers): allowed; CORS guards browsers only.
/// * An origin in `--allow-origin`: allowed, answered with that exact origin (never `*`).
/// * The page's own origin when it is served from a loopback host (`http://127.0.0.1:8787`
///   calling `127.0.0.1:8787`): allowed. Other hosts must be listed, which also keeps
///   DNS-rebinding pages (whose Host is their own name) out.
/// * Demo mode with no `--allow-origin`: any origin, as `*` (there is no key to protect).
/// * Anything else: 403, preflight included, and the request goes nowhere.
pub async fn api_guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let config = st.config();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let is_preflight = req.method() == Method::OPTIONS;

    let allow_origin: Option<HeaderValue> = match &origin {
        None => None,
        Some(raw) => {
            let normalized = normalize_origin(raw);
            let listed = normalized
                .as_ref()
                .is_some_and(|o| config.allow_origins.iter().any(|a| a == o));
            let same_loopback = normalized
                .as_deref()
                .is_some_and(|o| is_same_loopback_origin(o, req.headers()));
            if listed || same_loopback {
                normalized.and_then(|o| HeaderValue::from_str(&o).ok())
            } else if config.is_demo() && config.allow_origins.is_empty() {
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

    let mut res = if is_preflight {
        preflight(req.headers())
    } else if let Some(retry_after) = st
        .inner
        .limiter
        .as_ref()
        .and_then(|l| l.check(client_ip(&req, config.trust_forwarded_for)).err())
    {
        let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
        let mut res = openai_error(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit reached for this client: try again in {secs}s"),
            "rate_limit_error",
            Some("rate_limit_exceeded"),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        res
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
            HeaderValue::from_static("Retry-After, X-Request-Id"),
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

/// `http://127.0.0.1:8787` calling a server whose Host is `127.0.0.1:8787`.
fn is_same_loopback_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Some(host_origin) = normalize_origin(&format!("http://{host}")) else {
        return false;
    };
    let same = origin == host_origin
        || normalize_origin(&format!("https://{host}")).is_some_and(|o| o == origin);
    if !same {
        return false;
    }
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn client_ip(req: &Request, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for {
        if let Some(ip) = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
        {
            return ip;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// Token bucket per client IP: `per_minute` requests of burst, refilled continuously.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when the client is over its rate.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.check_at(ip, Instant::now())
    }

    fn check_at(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let capacity = self.per_minute as f64;
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= 10_000 {
            // Forget clients whose bucket has refilled: they are as good as new.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * per_sec < capacity
            });
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(capacity);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_sec))
        }
    }
}

/// Reads the request body up to `max` bytes; over it, a 413 in the OpenAI shape.
pub async fn read_body(req: Request, max: usize) -> Result<Bytes, Response> {
    let too_large = || {
        openai_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than this server accepts ({max} bytes)"),
            "invalid_request_error",
            Some("request_too_large"),
        )
    };
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > max as u64 {
            return Err(too_large());
        }
    }
    let body: Body = req.into_body();
    match axum::body::to_bytes(body, max).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(err) = source {
                if err.is::<http_body_util::LengthLimitError>() {
                    return Err(too_large());
                }
                source = err.source();
            }
            Err(openai_error(
                StatusCode::BAD_REQUEST,
                "could not read the request body",
                "invalid_request_error",
                Some("bad_body"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_the_burst_then_refills() {
        let l = RateLimiter::new(3);
        let ip = IpAddr::from([10, 0, 0, 1]);
        let t = Instant::now();
        assert!(l.check_at(ip, t).is_ok());
        assert!(l.check_at(ip, t).is_ok());
        assert!(l.check_at(ip, t).is_ok());
        let wait = l.check_at(ip, t).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
        // Another client is not affected.
        assert!(l.check_at(IpAddr::from([10, 0, 0, 2]), t).is_ok());
        assert!(l.check_at(ip, t + Duration::from_secs(20)).is_ok());
    }
}
