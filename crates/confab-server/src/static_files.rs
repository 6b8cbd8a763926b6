//! The built widget, served from `--static-dir`.
//!
//! * MIME types from the extension (`.wasm` is `application/wasm`).
//! * `name.br` / `name.gz` next to a file are served when the client accepts them;
//!   otherwise brotli or gzip is applied on the fly.
//! * Hashed names (`name-<16 hex>.js`, `name-<16 hex>_bg.wasm`) are cached forever
//!   (`immutable`); everything else, `index.html` first, is revalidated (`no-cache`).
//! * With no built widget, `/` explains how to build it.

use std::convert::Infallible;
use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

pub type StaticService = BoxCloneSyncService<Request<Body>, Response, Infallible>;

pub fn service(dir: PathBuf) -> StaticService {
    let inner = tower::service_fn(move |req: Request<Body>| {
        let dir = dir.clone();
        async move { Ok::<_, Infallible>(serve(dir, req).await) }
    });
    BoxCloneSyncService::new(
        ServiceBuilder::new()
            .layer(CompressionLayer::new())
            .service(inner)
            .map_response(|res| res.map(Body::new)),
    )
}

async fn serve(dir: PathBuf, req: Request<Body>) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut res = (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n").into_response();
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let path = req.uri().path().to_string();
    if !dir.join("index.html").is_file() && (path == "/" || path == "/index.html") {
        return not_built(&dir);
    }
    let served = ServeDir::new(&dir)
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
        let mut nf = (
            StatusCode::NOT_FOUND,
            Html(format!(
                "<!doctype html><meta charset=utf-8><title>Not found</title>\
                 <p>Nothing at <code>{}</code>.</p>",
                escape_html(&path)
            )),
        )
            .into_response();
        nf.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return nf;
    }
    let cache = if is_hashed_name(&path) && res.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
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
