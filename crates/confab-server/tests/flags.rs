//! Every flag the READMEs name, by its command-line spelling, proved by its effect on a
//! running server: what the upstream received, the status and error code a client gets,
//! or a connection that is closed. (The limits' finer behaviour has its own tests in
//! connections.rs, request_rules.rs, shared_limits.rs and metrics.rs, which set the same
//! config fields directly.)

mod common;

use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use base64::Engine;
use clap::Parser;
use common::*;
use confab_server::{Args, Config};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The config the binary would build from `flags`, with `OPENAI_API_KEY` set.
fn config(flags: &[&str]) -> Config {
    let mut v = vec!["confab-server"];
    v.extend_from_slice(flags);
    let mut c = Config::from_args(Args::try_parse_from(v).unwrap(), |n| {
        (n == "OPENAI_API_KEY").then(|| KEY.to_string())
    })
    .unwrap();
    c.static_dir = "/nonexistent-confab-dist".into();
    c
}

/// A proxy to the fake upstream at `up` with `flags` added.
fn proxy(up: std::net::SocketAddr, flags: &[&str]) -> Config {
    let base = format!("http://{up}/v1");
    let mut all = vec!["--upstream", base.as_str()];
    all.extend_from_slice(flags);
    config(&all)
}

/// Streams one answer whose usage is 10 tokens.
fn upstream() -> Router {
    Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let text = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\n\
                        data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\n\
                        data: [DONE]\n\n";
            ([("content-type", "text/event-stream")], text).into_response()
        }),
    )
}

async fn chat_with(server: &Server, body: Value, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = client()
        .post(server.url("/v1/chat/completions"))
        .json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn chat(server: &Server, say: &str) -> reqwest::Response {
    let body =
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": say}]});
    chat_with(server, body, &[]).await
}

async fn code_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    (
        status,
        v["error"]["code"].as_str().unwrap_or("").to_string(),
    )
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn azure_and_api_version_send_the_key_as_api_key_with_the_version_on_the_url() {
    let (up, log) = fake_upstream(upstream()).await;
    let server = start(proxy(up, &["--azure", "--api-version", "2024-06-01"])).await;
    assert_eq!(chat(&server, "hi").await.status(), 200);
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.query.as_deref(), Some("api-version=2024-06-01"));
    assert_eq!(header(&seen.headers, "api-key").as_deref(), Some(KEY));
    assert_eq!(header(&seen.headers, "authorization"), None);
}

#[tokio::test]
async fn no_key_sends_no_credentials_upstream() {
    let (up, log) = fake_upstream(upstream()).await;
    let server = start(proxy(up, &["--no-key"])).await;
    assert_eq!(chat(&server, "hi").await.status(), 200);
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(header(&seen.headers, "authorization"), None);
    assert_eq!(header(&seen.headers, "api-key"), None);
    // Without it, the key goes as a bearer token.
    let (up, log) = fake_upstream(upstream()).await;
    let server = start(proxy(up, &[])).await;
    assert_eq!(chat(&server, "hi").await.status(), 200);
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(
        header(&seen.headers, "authorization"),
        Some(format!("Bearer {KEY}"))
    );
}

#[tokio::test]
async fn upstream_timeout_answers_504_when_the_upstream_stays_silent() {
    let silent = Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    );
    let (up, _log) = fake_upstream(silent).await;
    let server = start(proxy(up, &["--upstream-timeout", "1"])).await;
    assert_eq!(
        code_of(chat(&server, "hi").await).await,
        (504, "upstream_timeout".to_string())
    );
}

#[tokio::test]
async fn use_env_proxy_reaches_the_upstream_through_https_proxy_from_the_environment() {
    // A forward proxy on loopback that answers whatever it is asked, recording the request
    // line (absolute-form: the proxy sees the upstream's own URL).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = listener.local_addr().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let _ = tx.send(head.lines().next().unwrap_or("").to_string());
                let body = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"via proxy"},"finish_reason":"stop"}]}"#;
                let res = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(res.as_bytes()).await;
            });
        }
    });
    // Only this test in this file reads the variable: the others' clients ignore it.
    std::env::set_var("HTTP_PROXY", format!("http://{proxy_addr}"));
    let upstream = ["--upstream", "http://upstream.invalid/v1"];
    let with = start(config(&[&upstream[..], &["--use-env-proxy"]].concat())).await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let res = chat_with(&with, body.clone(), &[]).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["choices"][0]["message"]["content"], "via proxy");
    assert_eq!(
        rx.recv().await.unwrap(),
        "POST http://upstream.invalid/v1/chat/completions HTTP/1.1"
    );
    // Without the flag the environment is ignored: the made-up host cannot be reached.
    let without = start(config(&upstream)).await;
    assert_eq!(chat_with(&without, body, &[]).await.status(), 502);
    assert!(rx.try_recv().is_err(), "nothing went through the proxy");
}

#[tokio::test]
async fn header_timeout_closes_a_connection_that_never_finishes_its_headers() {
    let server = start(config(&["--header-timeout", "1"])).await;
    let mut sock = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    sock.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    // Closed (EOF or reset) well before this generous bound; never answered.
    let read = tokio::time::timeout(Duration::from_secs(20), sock.read(&mut buf)).await;
    // A reset (Err) counts as closed too.
    if let Ok(n) = read.expect("the stalled connection is closed") {
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    }
}

#[tokio::test]
async fn body_timeout_answers_408_when_the_body_stops_arriving() {
    let server = start(config(&["--body-timeout", "1"])).await;
    let mut sock = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    sock.write_all(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"messages\":",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), sock.read(&mut buf))
        .await
        .expect("answered")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}

fn image_request(url: &str) -> Value {
    json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": url}}
    ]}]})
}

#[tokio::test]
async fn image_hosts_let_listed_hosts_through_and_max_image_size_caps_inline_images() {
    let (up, log) = fake_upstream(upstream()).await;
    let server = start(proxy(
        up,
        &[
            "--image-hosts",
            "img.example.com",
            "--max-image-size",
            "1KB",
        ],
    ))
    .await;
    let listed = "https://img.example.com/cat.png";
    assert_eq!(
        chat_with(&server, image_request(listed), &[])
            .await
            .status(),
        200
    );
    assert_eq!(
        log.lock().unwrap()[0].json()["messages"][0]["content"][1]["image_url"]["url"],
        listed
    );
    let (status, _) = code_of(
        chat_with(
            &server,
            image_request("https://other.example.com/cat.png"),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);

    let png = |len: usize| {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.resize(len, 0);
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    };
    assert_eq!(
        chat_with(&server, image_request(&png(900)), &[])
            .await
            .status(),
        200
    );
    let (status, code) = code_of(chat_with(&server, image_request(&png(2048)), &[]).await).await;
    assert_eq!((status, code.as_str()), (400, "invalid_image_url"));
    assert_eq!(
        log.lock().unwrap().len(),
        2,
        "refused requests went nowhere"
    );
}

/// Starts `/demo long` on a slow demo server and leaves it streaming.
async fn open_stream(server: &Server, ip: &str) -> reqwest::Response {
    let body = json!({"stream": true, "messages": [{"role": "user", "content": "/demo long"}]});
    chat_with(server, body, &[("x-forwarded-for", ip)]).await
}

#[tokio::test]
async fn max_streams_and_max_streams_per_client_answer_503_beyond_them() {
    let slow = ["--demo-delay-ms", "200", "--trust-forwarded-for"];
    let server = start(config(
        &[&slow[..], &["--max-streams-per-client", "1"]].concat(),
    ))
    .await;
    let first = open_stream(&server, "203.0.113.7").await;
    assert_eq!(first.status(), 200);
    let (status, code) = code_of(open_stream(&server, "203.0.113.7").await).await;
    assert_eq!((status, code.as_str()), (503, "too_many_streams"));
    assert_eq!(
        open_stream(&server, "203.0.113.8").await.status(),
        200,
        "another client"
    );
    drop(first);

    let server = start(config(&[&slow[..], &["--max-streams", "1"]].concat())).await;
    let first = open_stream(&server, "203.0.113.7").await;
    assert_eq!(first.status(), 200);
    let res = open_stream(&server, "203.0.113.8").await;
    assert_eq!(header(res.headers(), "retry-after").as_deref(), Some("5"));
    let (status, code) = code_of(res).await;
    assert_eq!((status, code.as_str()), (503, "too_many_streams"));
    drop(first);
}

#[tokio::test]
async fn budget_tokens_per_day_and_the_user_header_refuse_once_usage_is_spent() {
    let (up, _log) = fake_upstream(upstream()).await;
    let server = start(proxy(
        up,
        &[
            "--budget-tokens-per-day",
            "15",
            "--budget-user-header",
            "x-user",
        ],
    ))
    .await;
    let ask = |user: &'static str| {
        let server = &server;
        async move {
            let body = json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
            let res = chat_with(server, body, &[("x-user", user)]).await;
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            // Usage is counted when the answer ends, just after its last byte.
            tokio::time::sleep(Duration::from_millis(300)).await;
            (status, text)
        }
    };
    assert_eq!(ask("alice").await.0, 200); // 10 of 15
    assert_eq!(ask("alice").await.0, 200); // 20: over from now on
    let (status, text) = ask("alice").await;
    assert_eq!(status, 429);
    assert!(text.contains("token_budget_exceeded"), "{text}");
    assert_eq!(ask("bob").await.0, 200, "another user has their own budget");
}

#[tokio::test]
async fn budget_tokens_per_day_global_counts_every_client_together() {
    let (up, _log) = fake_upstream(upstream()).await;
    let server = start(proxy(
        up,
        &[
            "--budget-tokens-per-day-global",
            "15",
            "--trust-forwarded-for",
            "--open-proxy",
        ],
    ))
    .await;
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let res = chat_with(
            &server,
            json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
            &[("x-forwarded-for", ip)],
        )
        .await;
        assert_eq!(res.status(), 200);
        res.text().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let res = chat_with(
        &server,
        json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        &[("x-forwarded-for", "203.0.113.3")],
    )
    .await;
    assert_eq!(
        code_of(res).await,
        (429, "global_token_budget_exceeded".to_string())
    );
}

#[tokio::test]
async fn redis_flags_name_the_store_its_keys_and_what_happens_when_it_is_down() {
    // Port 1 on loopback: nothing listens, so Redis is down from the start.
    let down = ["--redis", "redis://127.0.0.1:1/", "--rate-limit", "100"];
    let c = config(&[&down[..], &["--redis-prefix", "shop"]].concat());
    assert_eq!(c.redis.as_ref().unwrap().expose(), "redis://127.0.0.1:1/");
    assert_eq!(c.redis_namespace, "confab:shop:");

    let closed = start(config(
        &[&down[..], &["--redis-failure", "closed"]].concat(),
    ))
    .await;
    let res = chat(&closed, "/demo short").await;
    assert_eq!(header(res.headers(), "retry-after").as_deref(), Some("5"));
    assert_eq!(code_of(res).await, (503, "limiter_unavailable".to_string()));
    let open = start(config(&[&down[..], &["--redis-failure", "open"]].concat())).await;
    assert_eq!(
        chat(&open, "hello").await.status(),
        200,
        "open: this instance's own limits apply"
    );
}
