//! The built widget, served from `--static-dir`.
//!
//! * MIME types from the extension (`.wasm` is `application/wasm`).
//! * `name.br` / `name.gz` next to a file are served when the client accepts them;
//!   otherwise brotli or gzip is applied on the fly.
//! * Hashed names (`name-<16 hex>.js`, `name-<16 hex>_bg.wasm`) are cached forever
//!   (`immutable`); everything else, `index.html` first, is revalidated (`no-cache`).
//! * With no built widget, `/` explains how to build it.
//! * Pages get a CSP ([`crate::headers`]); every other file may be loaded from any origin.
//! * Dotfiles (any path segment starting with `.`) are 404.
//! * `public/embed.html` gets the `--embed-endpoint` list written into its
//!   `confab-endpoints` meta tag.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

pub type StaticService = BoxCloneSyncService<Request<Body>, Response, Infallible>;

/// The page that the `--embed-endpoint` list is written into.
pub const EMBED_PAGE: &str = "/public/embed.html";
/// The exact text replaced in it.
pub const ENDPOINTS_MARKER: &str = r#"<meta name="confab-endpoints" content="" />"#;

pub struct StaticConfig {
    pub dir: PathBuf,
    pub page_csp: HeaderValue,
    pub embed_csp: HeaderValue,
    pub embed_endpoints: Vec<String>,
}

impl StaticConfig {
    pub fn of(config: &crate::Config) -> Self {
        let value = |csp: String| HeaderValue::from_str(&csp).expect("origins are header-safe");
        StaticConfig {
            dir: config.static_dir.clone(),
            page_csp: value(crate::headers::page_csp()),
            embed_csp: value(crate::headers::embed_csp(config)),
            embed_endpoints: config.embed_endpoints.clone(),
        }
    }
}

pub fn service(config: StaticConfig) -> StaticService {
    let config = Arc::new(config);
    let inner = tower::service_fn(move |req: Request<Body>| {
        let config = config.clone();
        async move {
            let path = req.uri().path().to_string();
            let mut res = serve(&config, req).await;
            set_headers(&config, &path, &mut res);
            Ok::<_, Infallible>(res)
        }
    });
    BoxCloneSyncService::new(
        ServiceBuilder::new()
            .layer(CompressionLayer::new())
            .service(inner)
            .map_response(|res| res.map(Body::new)),
    )
}

async fn serve(config: &StaticConfig, req: Request<Body>) -> Response {
    let dir = &config.dir;
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut res = (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n").into_response();
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let path = req.uri().path().to_string();
    if !dir.join("index.html").is_file() && (path == "/" || path == "/index.html") {
        return not_built(dir);
    }
    if has_dotfile_segment(&path) {
        return not_found(&path);
    }
    if path == EMBED_PAGE && !config.embed_endpoints.is_empty() {
        if let Some(res) = embed_page(config).await {
            return res;
        }
    }
    let served = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true)
        .oneshot(req)
        .await;
    let mut res = match served {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    if res.status() == StatusCode::NOT_FOUND {
        return not_found(&path);
    }
    let cache = if is_hashed_name(&path) && res.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

fn not_found(path: &str) -> Response {
    let mut nf = (
        StatusCode::NOT_FOUND,
        Html(format!(
            "<!doctype html><meta charset=utf-8><title>Not found</title>\
             <p>Nothing at <code>{}</code>.</p>",
            escape_html(path)
        )),
    )
        .into_response();
    nf.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    nf
}

/// `/.git/config`, `/a/.env`, `/%2egit/`: a segment that starts with a dot once decoded.
fn has_dotfile_segment(path: &str) -> bool {
    path.split('/').any(|seg| {
        seg.starts_with('.') || seg.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("%2e"))
    })
}

/// `public/embed.html` with the endpoint list in its meta tag; `None` when it is missing.
async fn embed_page(config: &StaticConfig) -> Option<Response> {
    let file = config.dir.join(EMBED_PAGE.trim_start_matches('/'));
    let html = tokio::fs::read_to_string(&file).await.ok()?;
    let list = escape_html(&config.embed_endpoints.join(" "));
    let filled = html.replacen(
        ENDPOINTS_MARKER,
        &format!(r#"<meta name="confab-endpoints" content="{list}" />"#),
        1,
    );
    let mut res = Html(filled).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(res)
}

/// Pages get their CSP; other files may be loaded cross-origin, with exact content types
/// for the ones a module import, a streaming wasm compile or a stylesheet check.
fn set_headers(config: &StaticConfig, path: &str, res: &mut Response) {
    let h = res.headers_mut();
    let is_page = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map_or(path.ends_with('/') || path.ends_with(".html"), |ct| {
            ct.starts_with("text/html")
        });
    if is_page {
        let csp = if path == EMBED_PAGE {
            &config.embed_csp
        } else {
            &config.page_csp
        };
        h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        return;
    }
    crate::headers::set_cross_origin_file(h);
    let exact_type = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => Some("text/javascript; charset=utf-8"),
        Some("css") => Some("text/css; charset=utf-8"),
        Some("wasm") => Some("application/wasm"),
        _ => None,
    };
    if let Some(t) = exact_type.filter(|_| h.contains_key(header::CONTENT_TYPE)) {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(t));
    }
}

/// `confab-0123456789abcdef.js`, `confab-0123456789abcdef_bg.wasm`, `style-...css`:
/// a dash, exactly 16 hex digits, then `.` or `_`.
pub fn is_hashed_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let b = name.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'-'
            && b.len() > i + 17
            && b[i + 1..i + 17].iter().all(u8::is_ascii_hexdigit)
            && matches!(b[i + 17], b'.' | b'_')
    })
}

fn not_built(dir: &std::path::Path) -> Response {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Confab: widget not built</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}\
         code{{background:#eee;padding:.1em .3em;border-radius:3px}}</style>\
         <h1>The Confab widget is not built yet</h1>\
         <p>This server found no <code>index.html</code> in <code>{}</code>.</p>\
         <p>From the repository, run <code>cargo xtask serve</code>: it builds the widget and \
         starts this server on it. Or build it with <code>cargo xtask dist</code> and pass \
         <code>--static-dir</code> pointing at the output.</p>\
         <p>The API is up meanwhile: <code>POST /v1/chat/completions</code>, \
         <code>GET /v1/models</code>, <code>GET /healthz</code>.</p>",
        escape_html(&dir.display().to_string())
    );
    let mut res = (StatusCode::NOT_FOUND, Html(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotfile_segments_are_found_also_encoded() {
        for p in [
            "/.env",
            "/.git/config",
            "/a/.hidden/x.js",
            "/%2egit/HEAD",
            "/%2Eenv",
        ] {
            assert!(has_dotfile_segment(p), "{p}");
        }
        for p in ["/", "/index.html", "/widget/confab.js", "/a.b/c", "/x/..."] {
            assert_eq!(has_dotfile_segment(p), p == "/x/...", "{p}");
        }
    }

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed_name("/confab-0123456789abcdef.js"));
        assert!(is_hashed_name("/x/confab-0123456789abcdef_bg.wasm"));
        assert!(is_hashed_name("/style-ABCDEF0123456789.css"));
        assert!(!is_hashed_name("/index.html"));
        assert!(!is_hashed_name("/embed.js"));
        assert!(!is_hashed_name("/confab-0123456789abcde.js"));
        assert!(!is_hashed_name("/confab-0123456789abcdefg.js"));
        assert!(!is_hashed_name("/confab-0123456789abcdef"));
    }
}
