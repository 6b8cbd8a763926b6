//! The built widget as static files.

mod common;

use common::*;

fn dist() -> TempDir {
    TempDir::new()
}

async fn serve(dir: &TempDir) -> Server {
    let mut config = demo_config();
    config.static_dir = dir.0.clone();
    start(config).await
}

#[tokio::test]
async fn index_wasm_and_hashed_files_with_the_right_headers() {
    let d = dist();
    let html = "<!doctype html><title>Confab</title>".repeat(20);
    d.write("index.html", html.as_bytes());
    d.write("confab-0123456789abcdef_bg.wasm", b"\0asm\x01\0\0\0");
    let js = "export function boot() { return 42; }\n".repeat(50);
    d.write("confab-0123456789abcdef.js", js.as_bytes());
    d.write("embed.js", b"console.log('embed')");
    d.write("style-fedcba9876543210.css", b"body{}");
    let server = serve(&d).await;
    let c = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap();

    let res = c.get(server.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.text().await.unwrap(), html);

    let res = c
        .get(server.url("/confab-0123456789abcdef_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/wasm");
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));

    let res = c
        .get(server.url("/confab-0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));

    let res = c.get(server.url("/embed.js")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let res = c
        .get(server.url("/style-fedcba9876543210.css"))
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));

    let res = c.get(server.url("/missing.js")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = c.get(server.url("/../etc/passwd")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn compression_precompressed_and_on_the_fly() {
    let d = dist();
    let js = "export function boot() { return 42; }\n".repeat(200);
    d.write("app.js", js.as_bytes());
    d.write("index.html", b"<!doctype html>");
    d.write("pre.js", js.as_bytes());
    d.write("pre.js.br", b"PRECOMPRESSED-BROTLI");
    let server = serve(&d).await;
    let raw = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap();

    let res = raw
        .get(server.url("/pre.js"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(&res.bytes().await.unwrap()[..], b"PRECOMPRESSED-BROTLI");

    for enc in ["br", "gzip"] {
        let res = raw
            .get(server.url("/app.js"))
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-encoding"], enc);
        let body = res.bytes().await.unwrap();
        assert!(body.len() < js.len() / 4, "{enc}: {}", body.len());
    }
    // A client that decodes gets the original bytes back.
    let res = client()
        .get(server.url("/app.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), js);
    // No encoding asked: none applied.
    let res = raw.get(server.url("/app.js")).send().await.unwrap();
    assert!(res.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn a_missing_widget_explains_how_to_build_it() {
    let server = start(demo_config()).await;
    let res = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let text = res.text().await.unwrap();
    assert!(text.contains("cargo xtask serve"), "{text}");
    // The API still works.
    let res = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
