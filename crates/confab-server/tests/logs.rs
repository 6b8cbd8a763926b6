//! Every log line, at every level, is captured while the proxy works and fails;
//! the key must appear in none of them. (Own test binary: it installs the global subscriber.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_appears_in_no_log_line() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();

    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|headers: HeaderMap, body: Bytes| async move {
            let v: Value = serde_json::from_slice(&body).unwrap();
            let auth = headers["authorization"].to_str().unwrap().to_string();
            if v["model"] == "fail" {
                (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"error": {"message": format!("bad key {auth}"), "type": "x"}})),
                )
                    .into_response()
            } else {
                ([("content-type", "text/event-stream")], sse_body(2)).into_response()
            }
        }),
    ))
    .await;
    let mut config = proxy_config(up);
    config.allow_origins = vec!["https://ok.example".into()];
    config.rate_limit_per_minute = Some(4);
    let debug = format!("{config:?}");
    assert!(!debug.contains(KEY), "{debug}");
    let server = start(config).await;

    let mut bodies = String::new();
    for (model, origin) in [
        ("ok", None),
        ("fail", None),
        ("ok", Some("https://evil.example")),
        ("ok", Some("https://ok.example")),
        ("ok", None),
        ("ok", None),
    ] {
        let mut req = client()
            .post(server.url("/v1/chat/completions"))
            .header("authorization", "Bearer client-key")
            .json(&json!({"model": model, "stream": true, "messages": []}));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let res = req.send().await.unwrap();
        for (name, value) in res.headers() {
            bodies.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("")));
        }
        bodies.push_str(&res.text().await.unwrap());
    }
    // An unreachable upstream too.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let dead_server = start(proxy_config(dead)).await;
    bodies.push_str(
        &client()
            .post(dead_server.url("/v1/chat/completions"))
            .json(&json!({"messages": []}))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("upstream answered"),
        "logs were captured:\n{logs}"
    );
    assert!(logs.contains("origin refused"));
    assert!(!logs.contains(KEY), "the key leaked into the logs:\n{logs}");
    assert!(!logs.contains("SECRET"), "part of the key leaked:\n{logs}");
    assert!(
        !bodies.contains(KEY) && !bodies.contains("SECRET"),
        "{bodies}"
    );
}
