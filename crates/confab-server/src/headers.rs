//! Response headers for pages and files, and the Host check.
//!
//! * Every response: `X-Content-Type-Options: nosniff` and `Referrer-Policy`. Not
//!   `no-referrer`: under it browsers send `Origin: null` on same-origin POSTs, which the
//!   API guard must refuse.
//! * HTML pages: a Content-Security-Policy the widget runs under, with `frame-ancestors`
//!   `'self'` for the playground and the allowed origins for `public/embed.html`.
//! * Files that are not pages (js, wasm, css, svg, json…): public and credential-free, so
//!   any site may load them: `Access-Control-Allow-Origin: *` and
//!   `Cross-Origin-Resource-Policy: cross-origin`.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::error::openai_error;
use crate::AppState;

pub const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";

/// What every page allows, around `connect-src` and before `frame-ancestors`. Scripts:
/// own files and wasm only. Images: data:, blob: and, after a click, remote ones.
const POLICY_HEAD: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:";
const POLICY_TAIL: &str = "font-src 'self' data:; object-src 'none'; base-uri 'none'";

/// The playground's connections: any http(s) endpoint (it talks to endpoints the user picks).
const PAGE_CONNECT: &str = "'self' data: blob: https: http:";

fn policy(connect_src: &str, frame_ancestors: &str) -> String {
    format!(
        "{POLICY_HEAD}; connect-src {connect_src}; {POLICY_TAIL}; frame-ancestors {frame_ancestors}"
    )
}

/// The CSP of pages that only this site may frame (the playground, examples, errors).
pub fn page_csp() -> String {
    policy(PAGE_CONNECT, "'self'")
}

/// The CSP of `public/embed.html`: the sites allowed to call the API may frame it (the
/// demo model with no `--allow-origin` lets anyone, as its CORS does), and it connects
/// only to its own origin and those of the `--embed-endpoint` URLs, so the browser itself
/// refuses any other endpoint a crafted link might smuggle in.
pub fn embed_csp(config: &Config) -> String {
    let ancestors = if config.is_demo() && config.allow_origins.is_empty() {
        "*".to_string()
    } else {
        std::iter::once("'self'")
            .chain(config.allow_origins.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut connect = vec!["'self'".to_string(), "data:".into(), "blob:".into()];
    for origin in config
        .embed_endpoints
        .iter()
        .filter_map(|e| url::Url::parse(e).ok())
        .map(|u| u.origin().ascii_serialization())
    {
        if !connect.contains(&origin) {
            connect.push(origin);
        }
    }
    policy(&connect.join(" "), &ancestors)
}

/// `nosniff` and the referrer policy on every response.
pub fn everywhere() -> (
    SetResponseHeaderLayer<HeaderValue>,
    SetResponseHeaderLayer<HeaderValue>,
) {
    (
        SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static(REFERRER_POLICY),
        ),
    )
}

/// Marks a static file that is not a page as loadable from any origin.
pub fn set_cross_origin_file(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
}

/// Which Host headers are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRule {
    /// `--public-host`: that name (and port, when given) only.
    Public { host: String, port: Option<u16> },
    /// Listening on loopback: the API answers loopback names only, so a DNS-rebinding page
    /// (whose Host is its own name) cannot call it; pages and files answer any name.
    Loopback,
    /// A public listener without `--public-host`.
    Any,
}

impl HostRule {
    pub fn of(config: &Config) -> Self {
        if let Some(ph) = &config.public_host {
            let (host, port) = split_host(ph).unwrap_or((ph.clone(), None));
            HostRule::Public { host, port }
        } else if config.listen.ip().is_loopback() {
            HostRule::Loopback
        } else {
            HostRule::Any
        }
    }

    pub fn allows(&self, host_header: Option<&str>) -> bool {
        let parsed = host_header.and_then(split_host);
        match self {
            HostRule::Any => true,
            HostRule::Loopback => parsed.is_some_and(|(h, _)| is_loopback_host(&h)),
            HostRule::Public { host, port } => parsed.is_some_and(|(h, p)| {
                h == *host
                    && match (port, p) {
                        (None, _) => true,
                        (Some(want), Some(got)) => *want == got,
                        (Some(want), None) => *want == 80 || *want == 443,
                    }
            }),
        }
    }
}

/// `Example.com:8080` → (`example.com`, Some(8080)); `[::1]` → (`[::1]`, None).
pub(crate) fn split_host(raw: &str) -> Option<(String, Option<u16>)> {
    let url = url::Url::parse(&format!("http://{raw}/")).ok()?;
    if !url.username().is_empty() || url.path() != "/" {
        return None;
    }
    let host = url.host_str()?.to_string();
    // `Url` hides the scheme's default port: read it from the text.
    let port = match raw.rsplit_once(':') {
        Some((_, p)) if !raw.ends_with(']') => Some(p.parse().ok()?),
        _ => None,
    };
    Some((host, port))
}

pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl HostRule {
    /// Whether `path` is checked at all. `/healthz` never is (load balancers probe by IP
    /// address). The loopback rule guards the API only: pages and widget files are public
    /// anyway, and a server on loopback behind a reverse proxy that passes the public Host
    /// (Caddy's default, the README's nginx sample) must keep serving them.
    pub fn applies_to(&self, path: &str) -> bool {
        match self {
            _ if path == "/healthz" => false,
            HostRule::Loopback => path == "/v1" || path.starts_with("/v1/"),
            _ => true,
        }
    }

    /// What to tell the operator the first time a request is refused.
    pub fn refusal_hint(&self, host: &str) -> String {
        let shown: String = host.chars().take(100).collect();
        match self {
            HostRule::Public { host: public, .. } => format!(
                "a request for Host {shown:?} was refused: only --public-host {public} is \
                 served (further refusals are logged at info level)"
            ),
            _ => format!(
                "a request for Host {shown:?} was refused on /v1: on a loopback listener the \
                 API answers only for loopback names (DNS rebinding). Behind a reverse proxy, \
                 start confab-server with --public-host {}",
                split_host(host).map_or_else(
                    || "HOST".to_string(),
                    |(h, p)| match p {
                        Some(p) => format!("{h}:{p}"),
                        None => h,
                    }
                )
            ),
        }
    }
}

/// Set once the first refusal has been explained in the log.
static HINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Refuses requests for another Host with 421 where [`HostRule::applies_to`] says so.
pub async fn check_host(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let rule = &st.inner.host_rule;
    if !rule.applies_to(req.uri().path()) || rule.allows(host) {
        return next.run(req).await;
    }
    if !HINTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!("{}", rule.refusal_hint(host.unwrap_or("")));
    }
    tracing::info!(host = %host.unwrap_or("-").chars().take(100).collect::<String>(), "host refused");
    openai_error(
        StatusCode::MISDIRECTED_REQUEST,
        "this server does not answer for this host name (see --public-host)",
        "invalid_request_error",
        Some("wrong_host"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_rules() {
        let public = HostRule::Public {
            host: "chat.example.com".into(),
            port: None,
        };
        assert!(public.allows(Some("chat.example.com")));
        assert!(public.allows(Some("Chat.Example.com:8443")));
        assert!(!public.allows(Some("evil.example")));
        assert!(!public.allows(Some("chat.example.com.evil.example")));
        assert!(!public.allows(None));
        let with_port = HostRule::Public {
            host: "chat.example.com".into(),
            port: Some(443),
        };
        assert!(with_port.allows(Some("chat.example.com")));
        assert!(!with_port.allows(Some("chat.example.com:8443")));
        let lo = HostRule::Loopback;
        for ok in [
            "127.0.0.1:8787",
            "localhost:8787",
            "[::1]:8787",
            "127.0.0.2",
        ] {
            assert!(lo.allows(Some(ok)), "{ok}");
        }
        for bad in ["rebind.attacker.example:8787", "10.0.0.1", "", "a b"] {
            assert!(!lo.allows(Some(bad)), "{bad}");
        }
        assert!(HostRule::Any.allows(Some("anything")));
    }

    #[test]
    fn the_loopback_rule_guards_the_api_only_and_the_hint_names_public_host() {
        let lo = HostRule::Loopback;
        for api in [
            "/v1",
            "/v1/chat/completions",
            "/v1/demo/last-request",
            "/v1/x/..",
        ] {
            assert!(lo.applies_to(api), "{api}");
        }
        for page in [
            "/",
            "/index.html",
            "/public/embed.html",
            "/widget/confab.js",
            "/v1x",
        ] {
            assert!(!lo.applies_to(page), "{page}");
        }
        let public = HostRule::Public {
            host: "chat.example.com".into(),
            port: None,
        };
        assert!(public.applies_to("/") && public.applies_to("/v1/models"));
        assert!(!public.applies_to("/healthz") && !lo.applies_to("/healthz"));
        let hint = lo.refusal_hint("Chat.Example.com:8443");
        assert!(
            hint.ends_with("start confab-server with --public-host chat.example.com:8443"),
            "{hint}"
        );
        assert!(public
            .refusal_hint("evil.example")
            .contains("--public-host chat.example.com"));
    }

    #[test]
    fn embed_frame_ancestors_follow_the_allowed_origins() {
        let mut c = Config::default();
        assert!(embed_csp(&c).ends_with("frame-ancestors *"));
        c.allow_origins = vec!["https://shop.example".into()];
        assert!(embed_csp(&c).ends_with("frame-ancestors 'self' https://shop.example"));
        assert!(page_csp().ends_with("frame-ancestors 'self'"));
        assert!(page_csp().contains("; connect-src 'self' data: blob: https: http:;"));
        c.embed_endpoints = vec![
            "https://chat.example.com/v1/chat/completions".into(),
            "http://localhost:8080/v1/chat/completions".into(),
            "https://chat.example.com/other/v1/chat/completions".into(),
        ];
        assert!(embed_csp(&c).contains(
            "; connect-src 'self' data: blob: https://chat.example.com http://localhost:8080; "
        ));
    }
}
