//! The proxy against an in-process fake upstream.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::*;
use confab_server::config::{ApiKey, AuthStyle, Upstream};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Notify;

fn sse(body: impl Into<Body>) -> Response {
    ([("content-type", "text/event-stream")], body.into()).into_response()
}

/// An upstream answering chat completions with a 3-chunk stream, and a model list.
fn simple_upstream() -> Router {
    Router::new()
        .route("/v1/chat/completions", post(|| async { sse(sse_body(3)) }))
        .route(
            "/v1/models",
            get(|| async { Json(json!({"object": "list", "data": [{"id": "up-model"}]})) }),
        )
}

fn chat(stream: bool) -> Value {
    json!({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn streams_through_and_adds_the_key_server_side() {
    let (up, seen) = fake_upstream(simple_upstream()).await;
    let server = start(proxy_config(up)).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .header("authorization", "Bearer client-key")
        .header("api-key", "client-azure-key")
        .header("cookie", "session=1")
        .header("x-forwarded-host", "evil.example")
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let (events, end) = read_sse(res).await;
    assert!(end.is_ok());
    let d = datas(&events);
    assert_eq!(content_of(&d), "w0 w1 w2 ");
    assert_eq!(d.last().unwrap(), "[DONE]");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.path, "/v1/chat/completions");
    assert_eq!(s.headers["authorization"], format!("Bearer {KEY}").as_str());
    assert_eq!(s.headers.get_all("authorization").iter().count(), 1);
    assert!(s.headers.get("api-key").is_none());
    assert!(s.headers.get("cookie").is_none());
    assert!(s.headers.get("x-forwarded-host").is_none());
    assert_eq!(s.json(), chat(true));
}

#[tokio::test]
async fn azure_mode_uses_api_key_header_and_api_version() {
    let (up, seen) = fake_upstream(Router::new().route(
        "/openai/deployments/d1/chat/completions",
        post(|| async { Json(json!({"object": "chat.completion", "choices": []})) }),
    ))
    .await;
    let mut config = proxy_config(up);
    config.upstream = Some(Upstream {
        base: format!("http://{up}/openai/deployments/d1")
            .parse()
            .unwrap(),
        api_key: Some(ApiKey::new(KEY)),
        auth: AuthStyle::Azure {
            api_version: "2024-10-21".into(),
        },
    });
    let server = start(config).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .header("authorization", "Bearer client-key")
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(seen[0].headers["api-key"], KEY);
    assert!(seen[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn chunks_are_relayed_as_they_arrive() {
    let gate = Arc::new(Notify::new());
    let g = gate.clone();
    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let g = g.clone();
            async move {
                let first = Bytes::from(
                    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"first\"}}]}\n\n",
                );
                let stream =
                    futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) })
                        .chain(futures_util::stream::once(async move {
                            g.notified().await;
                            Ok(Bytes::from("data: [DONE]\n\n"))
                        }));
                sse(Body::from_stream(stream))
            }
        }),
    ))
    .await;
    let server = start(proxy_config(up)).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    let mut body = res.bytes_stream();
    // The first chunk arrives while the upstream still holds the rest back.
    let first = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .expect("first chunk relayed before the upstream finished")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("first"));
    gate.notify_one();
    let rest = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(&rest[..], b"data: [DONE]\n\n");
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_stream() {
    let dropped = Arc::new(AtomicBool::new(false));
    let dropped_notify = Arc::new(Notify::new());
    let (d, n) = (dropped.clone(), dropped_notify.clone());
    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let (d, n) = (d.clone(), n.clone());
            async move {
                struct Guard(Arc<AtomicBool>, Arc<Notify>);
                impl Drop for Guard {
                    fn drop(&mut self) {
                        self.0.store(true, Ordering::SeqCst);
                        self.1.notify_one();
                    }
                }
                let guard = Guard(d, n);
                // At most 10 s of chunks, one every 20 ms.
                let stream = futures_util::stream::unfold((guard, 0u32), |(g, i)| async move {
                    if i >= 500 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let chunk = format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{i} \"}}}}]}}\n\n");
                    Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), (g, i + 1)))
                });
                sse(Body::from_stream(stream))
            }
        }),
    ))
    .await;
    let server = start(proxy_config(up)).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    let mut body = res.bytes_stream();
    body.next().await.unwrap().unwrap();
    body.next().await.unwrap().unwrap();
    assert!(!dropped.load(Ordering::SeqCst));
    drop(body);
    tokio::time::timeout(Duration::from_secs(5), async {
        while !dropped.load(Ordering::SeqCst) {
            dropped_notify.notified().await;
        }
    })
    .await
    .expect("the upstream saw its stream dropped after the client left");
}

#[tokio::test]
async fn model_is_pinned_or_checked_and_tokens_clamped() {
    let (up, seen) = fake_upstream(simple_upstream()).await;
    let mut config = proxy_config(up);
    config.model = Some("pinned-model".into());
    config.max_tokens = Some(100);
    let server = start(config).await;
    let body = json!({"model": "gpt-4-expensive", "max_tokens": 5000, "max_completion_tokens": 9000,
                      "temperature": 0.3, "custom_field": {"kept": true},
                      "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}]});
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&json!({"messages": [], "max_tokens": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&json!({"messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    {
        let seen = seen.lock().unwrap();
        let got = seen[0].json();
        assert_eq!(got["model"], "pinned-model");
        assert_eq!(got["max_tokens"], 100);
        assert_eq!(got["max_completion_tokens"], 100);
        assert_eq!(got["temperature"], 0.3);
        // Unknown fields are dropped (see --allow-field); documented parts pass as sent.
        assert!(got.get("custom_field").is_none());
        assert_eq!(got["messages"], body["messages"]);
        assert_eq!(seen[1].json()["max_tokens"], 10);
        assert_eq!(seen[2].json()["max_tokens"], 100);
    }
    // /v1/models answers with the pinned model, without asking the upstream.
    let models: Value = client()
        .get(server.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "pinned-model");
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn models_outside_the_allow_list_get_400() {
    let (up, seen) = fake_upstream(simple_upstream()).await;
    let mut config = proxy_config(up);
    config.allowed_models = vec!["gpt-4o-mini".into(), "gpt-4o".into()];
    let server = start(config).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&json!({"model": "o1-pro", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["type"], "invalid_request_error");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("gpt-4o-mini"));
    assert!(seen.lock().unwrap().is_empty());
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&json!({"messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[1].json()["model"], "gpt-4o-mini");
}

#[tokio::test]
async fn models_are_proxied_without_a_pin() {
    let (up, seen) = fake_upstream(simple_upstream()).await;
    let server = start(proxy_config(up)).await;
    let models: Value = client()
        .get(server.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "up-model");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/v1/models");
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {KEY}").as_str()
    );
}

#[tokio::test]
async fn origins_are_allow_listed_with_correct_preflight() {
    let (up, seen) = fake_upstream(simple_upstream()).await;
    let mut config = proxy_config(up);
    config.allow_origins = vec!["https://good.example".into()];
    let server = start(config).await;
    let c = client();

    let pre = c
        .request(reqwest::Method::OPTIONS, server.url("/v1/chat/completions"))
        .header("origin", "https://good.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "https://good.example");
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert!(h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("content-type"));
    assert!(h["vary"].to_str().unwrap().contains("Origin"));

    let ok = c
        .post(server.url("/v1/chat/completions"))
        .header("origin", "https://good.example")
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://good.example"
    );

    for bad in [
        "https://evil.example",
        "null",
        "https://good.example.evil.example",
        "http://good.example",
    ] {
        let pre = c
            .request(reqwest::Method::OPTIONS, server.url("/v1/chat/completions"))
            .header("origin", bad)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(pre.status(), 403, "{bad}");
        assert!(pre.headers().get("access-control-allow-origin").is_none());
        let res = c
            .post(server.url("/v1/chat/completions"))
            .header("origin", bad)
            .json(&chat(false))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{bad}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "origin_not_allowed");
    }
    // Only the one allowed request reached the upstream.
    assert_eq!(seen.lock().unwrap().len(), 1);

    // The page served by this same loopback server may call it.
    let own = format!("http://{}", server.addr);
    let res = c
        .post(server.url("/v1/chat/completions"))
        .header("origin", &own)
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], own.as_str());
}

#[tokio::test]
async fn never_a_wildcard_origin_when_proxying() {
    let (up, _) = fake_upstream(simple_upstream()).await;
    let server = start(proxy_config(up)).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .header("origin", "https://anyone.example")
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // Without an Origin (curl, a server) the request is not a browser's and goes through.
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let (up, seen) = fake_upstream(simple_upstream()).await;
    let mut config = proxy_config(up);
    config.max_body = 1000;
    let server = start(config).await;
    let big = json!({"messages": [{"role": "user", "content": "x".repeat(2000)}]});
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "request_too_large");
    // Also when streamed without a Content-Length.
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(Bytes::from(serde_json::to_vec(&big).unwrap()))];
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn over_the_rate_gets_429_with_retry_after() {
    let (up, seen) = fake_upstream(simple_upstream()).await;
    let mut config = proxy_config(up);
    config.rate_limit_per_minute = Some(2);
    let server = start(config).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let res = client()
            .post(server.url("/v1/chat/completions"))
            .json(&chat(false))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        last = Some(res);
    }
    assert_eq!(statuses, vec![200, 200, 429]);
    let res = last.unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["type"], "rate_limit_error");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn unreachable_upstream_is_a_502() {
    // A port that was just free: nothing listens there.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let server = start(proxy_config(addr)).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["type"], "upstream_error");
    assert_eq!(err["error"]["code"], "upstream_unreachable");
}

#[tokio::test]
async fn slow_upstream_is_a_504() {
    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    ))
    .await;
    let mut config = proxy_config(up);
    config.upstream_timeout = Duration::from_millis(300);
    let server = start(config).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 504);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "upstream_timeout");
}

#[tokio::test]
async fn a_stalled_stream_ends_with_an_error_event() {
    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let stream = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(Bytes::from(
                    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n",
                ))
            })
            .chain(futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(Bytes::from("data: [DONE]\n\n"))
            }));
            sse(Body::from_stream(stream))
        }),
    ))
    .await;
    let mut config = proxy_config(up);
    config.upstream_timeout = Duration::from_millis(300);
    let server = start(config).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    let (events, _) = read_sse(res).await;
    let d = datas(&events);
    assert_eq!(content_of(&d), "a");
    assert_eq!(d.last().unwrap()["error"]["code"], "upstream_stream_error");
}

#[tokio::test]
async fn upstream_errors_come_back_openai_shaped_without_the_key() {
    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|headers: HeaderMap, body: Bytes| async move {
            let v: Value = serde_json::from_slice(&body).unwrap();
            let auth = headers["authorization"].to_str().unwrap().to_string();
            match v["model"].as_str().unwrap() {
                "401" => (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"error": {"message": format!("Incorrect API key provided: {auth}"), "type": "invalid_request_error", "code": "invalid_api_key"}})),
                )
                    .into_response(),
                "400" => (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": {"message": format!("bad temperature; you sent {auth}"), "type": "invalid_request_error", "code": null}})),
                )
                    .into_response(),
                "429" => (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "7")],
                    Json(json!({"error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded"}})),
                )
                    .into_response(),
                "500" => (StatusCode::INTERNAL_SERVER_ERROR, "<html>oops</html>").into_response(),
                _ => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": {"message": "overloaded", "type": "server_error"}}))).into_response(),
            }
        }),
    ))
    .await;
    let server = start(proxy_config(up)).await;
    let ask = |model: &'static str| {
        let url = server.url("/v1/chat/completions");
        async move {
            let res = client()
                .post(url)
                .json(&json!({"model": model, "messages": []}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let retry = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let text = res.text().await.unwrap();
            assert!(!text.contains(KEY), "{text}");
            assert!(!text.contains("SECRET"), "{text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            assert!(v["error"]["message"].is_string(), "{text}");
            assert!(v["error"]["type"].is_string(), "{text}");
            (status, retry, v)
        }
    };
    let (s, _, v) = ask("401").await;
    assert_eq!(s, 502);
    assert_eq!(v["error"]["code"], "upstream_unauthorized");
    let (s, _, v) = ask("400").await;
    assert_eq!(s, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("bad temperature"));
    let (s, retry, _) = ask("429").await;
    assert_eq!(s, 429);
    assert_eq!(retry.as_deref(), Some("7"));
    let (s, _, v) = ask("500").await;
    assert_eq!(s, 502);
    assert_eq!(v["error"]["type"], "upstream_error");
    let (s, _, v) = ask("503").await;
    assert_eq!(s, 502);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("overloaded"));
}

#[tokio::test]
async fn the_upstream_comes_from_configuration_only() {
    let (up, seen) = fake_upstream(simple_upstream()).await;
    let (evil, evil_seen) = fake_upstream(simple_upstream()).await;
    let server = start(proxy_config(up)).await;
    let body = json!({"model": "m", "messages": [],
        "base_url": format!("http://{evil}/v1"), "api_base": format!("http://{evil}/v1"),
        "url": format!("http://{evil}/v1/chat/completions")});
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .header("host", evil.to_string())
        .header("x-forwarded-host", evil.to_string())
        .header("x-upstream", format!("http://{evil}/v1"))
        .header("forwarded", format!("host={evil}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client()
        .post(format!(
            "http://{}/v1/chat/completions?upstream=http://{evil}/v1",
            server.addr
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert!(evil_seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn nothing_else_is_proxied() {
    let (up, seen) = fake_upstream(Router::new().fallback(|| async { "upstream" })).await;
    let server = start(proxy_config(up)).await;
    for (method, path) in [
        ("POST", "/v1/embeddings"),
        ("POST", "/v1/completions"),
        ("GET", "/v1/files"),
        ("DELETE", "/v1/models/x"),
        ("GET", "/v1/demo/last-request"),
        ("GET", "/v1/chat/completions"),
    ] {
        let res = client()
            .request(method.parse().unwrap(), server.url(path))
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == 404 || res.status() == 405,
            "{method} {path}: {}",
            res.status()
        );
    }
    assert!(seen.lock().unwrap().is_empty());
    let health: Value = client()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["mode"], "proxy");
}

#[tokio::test]
async fn graceful_shutdown_finishes_streams_in_flight() {
    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let stream = futures_util::stream::iter(0..10).then(|i| async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, std::io::Error>(Bytes::from(format!(
                    "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{i}\"}}}}]}}\n\n"
                )))
            });
            let done = futures_util::stream::once(async { Ok(Bytes::from("data: [DONE]\n\n")) });
            sse(Body::from_stream(stream.chain(done)))
        }),
    ))
    .await;
    let mut server = start(proxy_config(up)).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    let stopped = server.shutdown();
    let (events, end) = read_sse(res).await;
    assert!(end.is_ok());
    let d = datas(&events);
    assert_eq!(content_of(&d), "0123456789");
    assert_eq!(d.last().unwrap(), "[DONE]");
    tokio::time::timeout(Duration::from_secs(5), stopped)
        .await
        .expect("server stopped after the stream")
        .unwrap()
        .unwrap();
}
