//! Response headers of pages and files, the embed page's endpoint list, dotfiles, the Host
//! check and same-origin rules, as a browser or an attacker sees them.

mod common;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use confab_server::Config;
use serde_json::{json, Value};

const MARKER: &str = r#"<meta name="confab-endpoints" content="" />"#;

const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:; \
     connect-src 'self' data: blob: https: http:; font-src 'self' data:; \
     object-src 'none'; base-uri 'none'";

/// `public/embed.html` connects to its own origin only (plus `--embed-endpoint` origins).
const EMBED_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:; \
     connect-src 'self' data: blob:; font-src 'self' data:; \
     object-src 'none'; base-uri 'none'";

fn site() -> TempDir {
    let d = TempDir::new();
    d.write("index.html", b"<!doctype html><title>Playground</title>");
    d.write(
        "public/embed.html",
        format!("<!doctype html><head>{MARKER}<script src=\"embed.js\"></script></head>")
            .as_bytes(),
    );
    d.write("public/embed.js", b"console.log('loader')");
    d.write("widget/confab.js", b"export default function init() {}");
    d.write("widget/confab_bg.wasm", b"\0asm\x01\0\0\0");
    d.write("widget/confab.css", b":host{color:red}");
    d.write(
        "widget/icon.svg",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    );
    d.write("release/manifest.json", b"{}");
    d.write(".env", b"OPENAI_API_KEY=sk-leak");
    d.write("public/.secret/key", b"sk-leak");
    d
}

fn with_site(dir: &TempDir, mut config: Config) -> Config {
    config.static_dir = dir.0.clone();
    config
}

async fn get(server: &Server, path: &str) -> reqwest::Response {
    client().get(server.url(path)).send().await.unwrap()
}

#[tokio::test]
async fn pages_get_a_csp_and_files_are_loadable_from_any_origin() {
    let d = site();
    let mut config = with_site(&d, demo_config());
    config.allow_origins = vec!["https://shop.example".into()];
    let server = start(config).await;

    for path in ["/", "/index.html"] {
        let res = get(&server, path).await;
        let h = res.headers();
        assert_eq!(
            h["content-security-policy"],
            format!("{POLICY}; frame-ancestors 'self'").as_str()
        );
        assert!(h.get("access-control-allow-origin").is_none(), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    }
    let res = get(&server, "/public/embed.html").await;
    assert_eq!(
        res.headers()["content-security-policy"],
        format!("{EMBED_POLICY}; frame-ancestors 'self' https://shop.example").as_str()
    );
    assert!(res.headers().get("access-control-allow-origin").is_none());

    for (path, content_type) in [
        ("/widget/confab.js", "text/javascript; charset=utf-8"),
        ("/widget/confab_bg.wasm", "application/wasm"),
        ("/widget/confab.css", "text/css; charset=utf-8"),
        ("/public/embed.js", "text/javascript; charset=utf-8"),
        ("/widget/icon.svg", "image/svg+xml"),
        ("/release/manifest.json", "application/json"),
    ] {
        let res = client()
            .get(server.url(path))
            .header("origin", "https://other.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers();
        assert_eq!(h["content-type"], content_type, "{path}");
        assert_eq!(h["access-control-allow-origin"], "*", "{path}");
        assert_eq!(h["cross-origin-resource-policy"], "cross-origin", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.get("content-security-policy").is_none(), "{path}");
    }
    // API answers carry the everywhere-headers too.
    let res = get(&server, "/healthz").await;
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        res.headers()["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
}

#[tokio::test]
async fn the_demo_embed_page_may_be_framed_by_anyone_a_proxy_only_by_its_origins() {
    let d = site();
    let server = start(with_site(&d, demo_config())).await;
    let res = get(&server, "/public/embed.html").await;
    assert_eq!(
        res.headers()["content-security-policy"],
        format!("{EMBED_POLICY}; frame-ancestors *").as_str()
    );
    let mut proxy = with_site(&d, proxy_config("127.0.0.1:9".parse().unwrap()));
    proxy.allow_origins = vec!["https://a.example".into(), "https://b.example".into()];
    let server = start(proxy).await;
    let res = get(&server, "/public/embed.html").await;
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .ends_with("; frame-ancestors 'self' https://a.example https://b.example"));
}

/// A crafted `embed.html?endpoint=` link cannot make the browser connect anywhere but this
/// origin and the `--embed-endpoint` origins; the playground keeps any endpoint.
#[tokio::test]
async fn the_embed_page_connects_only_to_its_origin_and_the_embed_endpoints() {
    let d = site();
    let mut config = with_site(&d, demo_config());
    config.allow_origins = vec!["https://shop.example".into()];
    config.embed_endpoints = vec![
        "https://chat.example.com/v1/chat/completions".into(),
        "https://chat.example.com/beta/v1/chat/completions".into(),
        "http://127.0.0.1:9999/v1/chat/completions".into(),
    ];
    let server = start(config).await;
    let res = get(&server, "/public/embed.html").await;
    assert_eq!(
        res.headers()["content-security-policy"],
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:; \
         connect-src 'self' data: blob: https://chat.example.com http://127.0.0.1:9999; \
         font-src 'self' data:; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'self' https://shop.example"
    );
    let res = get(&server, "/").await;
    assert_eq!(
        res.headers()["content-security-policy"],
        format!("{POLICY}; frame-ancestors 'self'").as_str()
    );
}

#[tokio::test]
async fn dotfiles_are_not_served() {
    let d = site();
    let server = start(with_site(&d, demo_config())).await;
    for path in ["/.env", "/public/.secret/key", "/%2eenv", "/%2Eenv"] {
        let res = get(&server, path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert!(!res.text().await.unwrap().contains("sk-leak"), "{path}");
    }
}

#[tokio::test]
async fn the_embed_page_lists_the_configured_endpoints() {
    let d = site();
    let mut config = with_site(&d, demo_config());
    config.embed_endpoints = vec![
        "https://chat.example.com/v1/chat/completions".into(),
        "http://127.0.0.1:9000/v1/chat/completions?a=1&b=\"2\"".into(),
    ];
    let server = start(config).await;
    let html = get(&server, "/public/embed.html")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains(MARKER), "{html}");
    assert!(html.contains(
        r#"<meta name="confab-endpoints" content="https://chat.example.com/v1/chat/completions http://127.0.0.1:9000/v1/chat/completions?a=1&amp;b=&quot;2&quot;" />"#
    ), "{html}");

    // Without the marker the file is served as it is.
    let plain = TempDir::new();
    plain.write("index.html", b"<!doctype html>");
    plain.write("public/embed.html", b"<!doctype html><p>no marker");
    let mut config = with_site(&plain, demo_config());
    config.embed_endpoints = vec!["https://chat.example.com/v1/chat/completions".into()];
    let server = start(config).await;
    let html = get(&server, "/public/embed.html")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(html, "<!doctype html><p>no marker");
}

#[tokio::test]
async fn another_host_name_is_refused() {
    let d = site();
    // A loopback server: a DNS-rebinding page's Host is its own name.
    let server = start(with_site(&d, demo_config())).await;
    let res = raw_http(
        server.addr,
        "GET /v1/demo/last-request HTTP/1.1\r\nHost: rebind.attacker.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 421"), "{res}");

    // --public-host: that name only (health checks excepted).
    let mut config = with_site(&d, demo_config());
    config.public_host = Some("chat.example.com".into());
    let server = start(config).await;
    for (host, want) in [
        ("chat.example.com", "200"),
        ("CHAT.example.com:443", "200"),
        ("evil.example", "421"),
        ("127.0.0.1", "421"),
    ] {
        let res = raw_http(
            server.addr,
            &format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(
            res.starts_with(&format!("HTTP/1.1 {want}")),
            "{host}: {res}"
        );
    }
    let res = raw_http(
        server.addr,
        "GET /healthz HTTP/1.1\r\nHost: 10.0.0.5\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
}

/// A loopback listener behind a reverse proxy that passes the public Host (Caddy's default,
/// the README's nginx sample), started before --public-host existed: pages and widget files
/// are still served; only the API keeps the DNS-rebinding defence.
#[tokio::test]
async fn without_public_host_a_loopback_server_serves_pages_for_any_host_but_not_the_api() {
    let d = site();
    let server = start(with_site(&d, demo_config())).await;
    for path in [
        "/",
        "/public/embed.html",
        "/widget/confab.js",
        "/widget/confab_bg.wasm",
    ] {
        let res = raw_http(
            server.addr,
            &format!("GET {path} HTTP/1.1\r\nHost: chat.shop.example\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(res.starts_with("HTTP/1.1 200"), "{path}: {res}");
    }
    for request in [
        "GET /v1/models HTTP/1.1\r\nHost: chat.shop.example\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: rebind.attacker.example:8787\r\nContent-Type: application/json\r\nContent-Length: 2\r\n",
    ] {
        let res = raw_http(
            server.addr,
            &format!("{request}Connection: close\r\n\r\n{{}}"),
        )
        .await;
        assert!(res.starts_with("HTTP/1.1 421"), "{request}: {res}");
        assert!(res.contains("--public-host"), "{res}");
    }
}

#[tokio::test]
async fn the_public_hosts_own_pages_may_call_the_api() {
    let (up, seen) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|| async { Json(json!({"choices": []})) }),
    ))
    .await;
    let mut config = proxy_config(up);
    config.public_host = Some("chat.example.com".into());
    config.model = Some("m".into());
    let server = start(config).await;
    let send = |origin: &'static str| {
        let url = server.url("/v1/chat/completions");
        async move {
            client()
                .post(url)
                .header("host", "chat.example.com")
                .header("origin", origin)
                .json(&json!({"messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .unwrap()
        }
    };
    let res = send("https://chat.example.com").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://chat.example.com"
    );
    assert_eq!(send("https://evil.example").await.status(), 403);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// A demo server on a public listener has many visitors: `last-request` would hand the last
/// one's prompt to anyone with curl. It is 404 there (the server is served on loopback
/// here, with the config of a `--listen 0.0.0.0:…` server).
#[tokio::test]
async fn last_request_does_not_exist_on_a_public_listener() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        listen: format!("0.0.0.0:{}", addr.port()).parse().unwrap(),
        ..demo_config()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(confab_server::serve(listener, config, async {
        let _ = stopped.await;
    }));
    let url = |path: &str| format!("http://{addr}{path}");
    let res = client()
        .post(url("/v1/chat/completions"))
        .json(&json!({"messages": [{"role": "user", "content": "my secret"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let own = format!("http://{addr}");
    for origin in [None, Some(own.as_str())] {
        let mut req = client().get(url("/v1/demo/last-request"));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 404, "{origin:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unknown_url");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(!body.to_string().contains("secret"));
    }
    let _ = stop.send(());
    served.await.unwrap().unwrap();
}

#[tokio::test]
async fn last_request_is_readable_by_the_servers_own_pages_only() {
    let server = start(demo_config()).await;
    client()
        .post(server.url("/v1/chat/completions"))
        .json(&json!({"messages": [{"role": "user", "content": "my secret"}]}))
        .send()
        .await
        .unwrap();
    let res = client()
        .get(server.url("/v1/demo/last-request"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert!(!res.text().await.unwrap().contains("secret"));

    let own = format!("http://{}", server.addr);
    let res = client()
        .get(server.url("/v1/demo/last-request"))
        .header("origin", &own)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], own.as_str());
    // Without an Origin (a same-origin GET, curl): allowed.
    assert_eq!(get(&server, "/v1/demo/last-request").await.status(), 200);
    // The chat API itself stays open to any origin in demo mode.
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .header("origin", "https://evil.example")
        .json(&json!({"messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn upstream_answers_pass_only_content_type_retry_after_and_the_error_fields() {
    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|body: axum::body::Bytes| async move {
            let v: Value = serde_json::from_slice(&body).unwrap();
            let headers = [
                ("x-request-id", "req-1"),
                ("openai-organization", "acme-corp"),
                ("x-ratelimit-remaining-tokens", "12"),
                ("set-cookie", "__cf_bm=1"),
                ("retry-after", "3"),
            ];
            if v["model"] == "ok" {
                (headers, Json(json!({"choices": []}))).into_response()
            } else {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    headers,
                    Json(json!({"error": {"message": "quota for org acme exceeded", "type": "insufficient_quota",
                        "param": null, "code": "insufficient_quota", "organization": "acme-corp"}})),
                )
                    .into_response()
            }
        }),
    ))
    .await;
    let server = start(proxy_config(up)).await;
    for model in ["ok", "quota"] {
        let res = client()
            .post(server.url("/v1/chat/completions"))
            .json(&json!({"model": model, "messages": []}))
            .send()
            .await
            .unwrap();
        let h = res.headers().clone();
        for gone in [
            "x-request-id",
            "openai-organization",
            "x-ratelimit-remaining-tokens",
            "set-cookie",
        ] {
            assert!(h.get(gone).is_none(), "{model}: {gone}");
        }
        let body: Value = res.json().await.unwrap();
        if model == "quota" {
            assert_eq!(h["retry-after"], "3");
            assert_eq!(
                body,
                json!({"error": {"message": "quota for org acme exceeded", "type": "insufficient_quota",
                    "param": null, "code": "insufficient_quota"}})
            );
        }
    }
}
