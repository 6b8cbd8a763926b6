//! `GET /metrics` on `--metrics-listen` (and not on the public listener), and token
//! budgets counted in memory, from the upstream's usage or estimated without it.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use confab_server::Config;
use serde_json::{json, Value};

/// Streams "hello world!" (12 characters); with usage (7 in, 3 out) when asked for.
fn upstream() -> Router {
    Router::new().route(
        "/v1/chat/completions",
        post(|Json(body): Json<Value>| async move {
            let mut text = String::from(
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hello world!\"},\"finish_reason\":\"stop\"}]}\n\n",
            );
            if body["stream_options"]["include_usage"] == true
                && body["messages"][0]["content"] != "no usage"
            {
                text.push_str("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\n");
            }
            text.push_str("data: [DONE]\n\n");
            ([("content-type", "text/event-stream")], text).into_response()
        }),
    )
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn chat(server: &Server, say: &str) -> reqwest::Response {
    client()
        .post(server.url("/v1/chat/completions"))
        .json(
            &json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": say}]}),
        )
        .send()
        .await
        .unwrap()
}

async fn scrape(addr: SocketAddr) -> String {
    let res = client()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    res.text().await.unwrap()
}

fn value(text: &str, series: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')
            .map(str::to_string)
    })
}

/// Polls the metrics until `series` has `expected` (they are recorded as bodies end).
async fn until_metric(addr: SocketAddr, series: &str, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(addr).await;
        if value(&text, series).as_deref() == Some(expected) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{series} is not {expected} in\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_only() {
    let (up, log) = fake_upstream(upstream()).await;
    let metrics = free_port();
    let server = start(Config {
        rate_limit_per_minute: Some(2),
        metrics_listen: Some(metrics),
        ..proxy_config(up)
    })
    .await;
    let (events, end) = read_sse(chat(&server, "hi").await).await;
    assert_eq!(end, Ok(()));
    assert_eq!(content_of(&datas(&events)), "hello world!");
    assert_eq!(
        log.lock().unwrap()[0].json()["stream_options"],
        json!({"include_usage": true})
    );
    assert_eq!(chat(&server, "hi").await.status(), 200);
    assert_eq!(chat(&server, "hi").await.status(), 429);
    let text = until_metric(metrics, "confab_tokens_total{direction=\"in\"}", "14").await;
    for (series, expected) in [
        (
            "confab_requests_total{route=\"chat_completions\",status=\"200\"}",
            "2",
        ),
        (
            "confab_requests_total{route=\"chat_completions\",status=\"429\"}",
            "1",
        ),
        (
            "confab_limiter_rejections_total{reason=\"rate_limit\"}",
            "1",
        ),
        (
            "confab_limiter_rejections_total{reason=\"too_many_streams\"}",
            "0",
        ),
        ("confab_tokens_total{direction=\"out\"}", "6"),
        ("confab_tokens_estimated_answers_total", "0"),
        ("confab_upstream_latency_seconds_count", "2"),
        ("confab_time_to_first_token_seconds_count", "2"),
        ("confab_active_streams", "0"),
    ] {
        assert_eq!(
            value(&text, series).as_deref(),
            Some(expected),
            "{series} in\n{text}"
        );
    }
    // Not on the public listener.
    let res = client().get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn an_open_stream_is_an_active_stream() {
    let (up, _) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let first = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(
                    b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n",
                ))
            });
            let body = futures_util::StreamExt::chain(first, futures_util::stream::pending());
            (
                [("content-type", "text/event-stream")],
                axum::body::Body::from_stream(body),
            )
        }),
    ))
    .await;
    let metrics = free_port();
    let server = start(Config {
        metrics_listen: Some(metrics),
        ..proxy_config(up)
    })
    .await;
    let open = chat(&server, "hi").await;
    assert_eq!(open.status(), 200);
    until_metric(metrics, "confab_active_streams", "1").await;
    drop(open);
    until_metric(metrics, "confab_active_streams", "0").await;
    // The answer ended with the client: "x" and "hi" estimated, 1 token each.
    let text = until_metric(metrics, "confab_tokens_estimated_answers_total", "1").await;
    assert_eq!(
        value(&text, "confab_tokens_total{direction=\"out\"}").as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn budgets_in_memory_count_usage_or_an_estimate_and_refuse_until_midnight() {
    let (up, log) = fake_upstream(upstream()).await;
    let metrics = free_port();
    let server = start(Config {
        budget_tokens_per_day: Some(16),
        metrics_listen: Some(metrics),
        ..proxy_config(up)
    })
    .await;
    // Usage: 7 + 3 = 10 tokens.
    assert_eq!(chat(&server, "hi").await.status(), 200);
    until_metric(metrics, "confab_tokens_total{direction=\"in\"}", "7").await;
    // No usage: "no usage" (8 characters) is 2 tokens in, "hello world!" (12) 3 out.
    assert_eq!(chat(&server, "no usage").await.status(), 200);
    until_metric(metrics, "confab_tokens_estimated_answers_total", "1").await;
    let text = until_metric(metrics, "confab_tokens_total{direction=\"in\"}", "9").await;
    assert_eq!(
        value(&text, "confab_tokens_total{direction=\"out\"}").as_deref(),
        Some("6")
    );
    // 15 used, under 16: one more passes and brings it to 25.
    assert_eq!(chat(&server, "hi").await.status(), 200);
    until_metric(metrics, "confab_tokens_total{direction=\"in\"}", "16").await;
    let res = chat(&server, "hi").await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry.abs_diff(confab_server::budget::today().1) <= 2);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["type"], "rate_limit_error");
    assert_eq!(err["error"]["code"], "token_budget_exceeded");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("your daily token budget is used up; it resets at 00:00 UTC, in "));
    assert_eq!(log.lock().unwrap().len(), 3);
    let text = scrape(metrics).await;
    assert_eq!(
        value(
            &text,
            "confab_limiter_rejections_total{reason=\"budget_client\"}"
        )
        .as_deref(),
        Some("1")
    );
}
