//! Two confab-server instances against one real redis-server and one upstream stub: the
//! rate limit, the per-client stream cap and the token budgets hold for both together, and
//! a Redis outage gives 503 (`closed`) or per-instance limits (`open`), then recovers.
//!
//! Clients are told apart by `X-Forwarded-For` (`trust_forwarded_for`), so each test
//! step can use a fresh client.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::redis_server::RedisServer;
use common::*;
use confab_server::config::RedisFailure;
use confab_server::Config;
use serde_json::{json, Value};

/// Answers every chat with one content chunk; `hold` keeps the stream open after it,
/// `usage` ends with a usage chunk of 10 prompt and 5 completion tokens.
fn upstream() -> Router {
    Router::new().route(
        "/v1/chat/completions",
        post(|Json(body): Json<Value>| async move {
            let said = body["messages"][0]["content"].as_str().unwrap_or("").to_string();
            let chunk = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello\"},\"finish_reason\":null}]}\n\n";
            let end = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
            let usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}\n\n";
            let res: Response = if said == "hold" {
                let first = futures_util::stream::once(async move {
                    Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk))
                });
                let stream = futures_util::StreamExt::chain(first, futures_util::stream::pending());
                ([("content-type", "text/event-stream")], Body::from_stream(stream)).into_response()
            } else {
                let mut text = format!("{chunk}{end}");
                if said == "usage" {
                    text.push_str(usage);
                }
                text.push_str("data: [DONE]\n\n");
                ([("content-type", "text/event-stream")], text).into_response()
            };
            res
        }),
    )
}

fn shared_config(upstream: std::net::SocketAddr, redis: &RedisServer) -> Config {
    Config {
        redis: Some(confab_server::config::RedisUrl::new(redis.url())),
        redis_namespace: "confab:test:".into(),
        trust_forwarded_for: true,
        model: Some("m".into()),
        ..proxy_config(upstream)
    }
}

async fn chat(server: &Server, client_ip: &str, say: &str) -> reqwest::Response {
    client()
        .post(server.url("/v1/chat/completions"))
        .header("x-forwarded-for", client_ip)
        .json(&json!({"stream": true, "messages": [{"role": "user", "content": say}]}))
        .send()
        .await
        .unwrap()
}

/// Status, Retry-After and error code of a finished request.
async fn outcome(res: reqwest::Response) -> (u16, Option<String>, Option<String>) {
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.text().await.unwrap();
    let code = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
    (status, retry, code)
}

async fn redis_get(redis: &RedisServer, key: &str) -> Option<u64> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// Polls `check` every 50 ms until it holds; panics after `limit` (a generous bound).
async fn eventually<F: std::future::Future<Output = bool>>(
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_rate_of_10_a_minute_holds_across_two_instances_together() {
    let redis = RedisServer::start();
    let (up, _) = fake_upstream(upstream()).await;
    let config = Config {
        rate_limit_per_minute: Some(10),
        ..shared_config(up, &redis)
    };
    let a = start(config.clone()).await;
    let b = start(config).await;
    let mut statuses = Vec::new();
    for i in 0..20 {
        let server = if i % 2 == 0 { &a } else { &b };
        statuses.push(outcome(chat(server, "198.51.100.1", "hi").await).await);
    }
    let ok = statuses.iter().filter(|s| s.0 == 200).count();
    assert_eq!(ok, 10, "{statuses:?}");
    assert!(statuses[..10].iter().all(|s| s.0 == 200), "{statuses:?}");
    for (status, retry, code) in &statuses[10..] {
        assert_eq!(*status, 429);
        assert_eq!(code.as_deref(), Some("rate_limit_exceeded"));
        // One request every 6 s after the burst of 10.
        let secs: u64 = retry.as_deref().unwrap().parse().unwrap();
        assert!((1..=6).contains(&secs), "{secs}");
    }
    // Another client has its own bucket, on either instance.
    assert_eq!(outcome(chat(&b, "198.51.100.2", "hi").await).await.0, 200);
}

#[tokio::test]
async fn without_redis_each_instance_allows_the_rate_on_its_own() {
    let (up, _) = fake_upstream(upstream()).await;
    let config = Config {
        rate_limit_per_minute: Some(10),
        trust_forwarded_for: true,
        model: Some("m".into()),
        ..proxy_config(up)
    };
    let a = start(config.clone()).await;
    let b = start(config).await;
    let mut ok = 0;
    for i in 0..22 {
        let server = if i % 2 == 0 { &a } else { &b };
        if outcome(chat(server, "198.51.100.1", "hi").await).await.0 == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 20);
}

#[tokio::test]
async fn the_per_client_stream_cap_counts_streams_on_both_instances() {
    let redis = RedisServer::start();
    let (up, _) = fake_upstream(upstream()).await;
    let config = Config {
        max_streams_per_client: 2,
        ..shared_config(up, &redis)
    };
    let a = start(config.clone()).await;
    let b = start(config).await;
    let first = chat(&a, "198.51.100.7", "hold").await;
    let second = chat(&b, "198.51.100.7", "hold").await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let (status, retry, code) = outcome(chat(&a, "198.51.100.7", "hi").await).await;
    assert_eq!(
        (status, retry.as_deref(), code.as_deref()),
        (503, Some("5"), Some("too_many_streams"))
    );
    assert_eq!(outcome(chat(&b, "198.51.100.7", "hi").await).await.0, 503);
    assert_eq!(outcome(chat(&b, "198.51.100.8", "hi").await).await.0, 200);
    // The client leaves one stream: its slot comes back (released in the background).
    drop(first);
    eventually(Duration::from_secs(10), "the slot comes back", || async {
        outcome(chat(&b, "198.51.100.7", "hi").await).await.0 == 200
    })
    .await;
    drop(second);
}

#[tokio::test]
async fn token_budgets_add_up_across_instances() {
    let redis = RedisServer::start();
    let (up, log) = fake_upstream(upstream()).await;
    let config = Config {
        budget_tokens_per_day: Some(30),
        ..shared_config(up, &redis)
    };
    let a = start(config.clone()).await;
    let b = start(config).await;
    let day = confab_server::budget::today().0;
    let client_key = format!("confab:test:budget:{day}:ip:198.51.100.9");
    assert_eq!(
        outcome(chat(&a, "198.51.100.9", "usage").await).await.0,
        200
    );
    assert_eq!(
        log.lock().unwrap()[0].json()["stream_options"],
        json!({"include_usage": true})
    );
    eventually(Duration::from_secs(10), "15 tokens counted", || async {
        redis_get(&redis, &client_key).await == Some(15)
    })
    .await;
    assert_eq!(
        outcome(chat(&b, "198.51.100.9", "usage").await).await.0,
        200
    );
    eventually(Duration::from_secs(10), "30 tokens counted", || async {
        redis_get(&redis, &client_key).await == Some(30)
    })
    .await;
    for server in [&a, &b] {
        let res = chat(server, "198.51.100.9", "usage").await;
        let until_midnight = confab_server::budget::today().1;
        let (status, retry, code) = outcome(res).await;
        assert_eq!(
            (status, code.as_deref()),
            (429, Some("token_budget_exceeded"))
        );
        let retry: u64 = retry.unwrap().parse().unwrap();
        assert!(
            retry.abs_diff(until_midnight) <= 2,
            "{retry} vs {until_midnight}"
        );
    }
    assert_eq!(
        log.lock().unwrap().len(),
        2,
        "refused requests never reach the upstream"
    );
    // Another client still has its budget; the global count has all 30.
    assert_eq!(outcome(chat(&b, "198.51.100.10", "hi").await).await.0, 200);
    let global = format!("confab:test:budget:{day}:global");
    eventually(Duration::from_secs(10), "global count", || async {
        // "hi" (2 chars) and "hello" (5) estimated at 4 characters a token: 1 + 2
        redis_get(&redis, &global).await == Some(30 + 3)
    })
    .await;
}

#[tokio::test]
async fn the_global_budget_counts_users_named_by_the_operators_header() {
    let redis = RedisServer::start();
    let (up, _) = fake_upstream(upstream()).await;
    let config = Config {
        budget_tokens_per_day: Some(15),
        budget_tokens_per_day_global: Some(30),
        budget_user_header: Some("x-user".parse().unwrap()),
        ..shared_config(up, &redis)
    };
    let a = start(config.clone()).await;
    let b = start(config).await;
    let day = confab_server::budget::today().0;
    let global = format!("confab:test:budget:{day}:global");
    let as_user = |server: &Server, user: &str| {
        client()
            .post(server.url("/v1/chat/completions"))
            .header("x-user", user)
            .json(&json!({"stream": true, "messages": [{"role": "user", "content": "usage"}]}))
            .send()
    };
    assert_eq!(outcome(as_user(&a, "alice").await.unwrap()).await.0, 200);
    eventually(Duration::from_secs(10), "alice counted", || async {
        redis_get(&redis, &global).await == Some(15)
    })
    .await;
    // Same address, another user: alice's budget is spent, bob's is not.
    let (status, _, code) = outcome(as_user(&b, "alice").await.unwrap()).await;
    assert_eq!(
        (status, code.as_deref()),
        (429, Some("token_budget_exceeded"))
    );
    assert_eq!(outcome(as_user(&b, "bob").await.unwrap()).await.0, 200);
    eventually(Duration::from_secs(10), "bob counted", || async {
        redis_get(&redis, &global).await == Some(30)
    })
    .await;
    let (status, _, code) = outcome(as_user(&a, "carol").await.unwrap()).await;
    assert_eq!(
        (status, code.as_deref()),
        (429, Some("global_token_budget_exceeded"))
    );
}

#[tokio::test]
async fn redis_down_and_closed_answers_503_then_recovers_by_itself() {
    let mut redis = RedisServer::start();
    let (up, _) = fake_upstream(upstream()).await;
    let config = Config {
        rate_limit_per_minute: Some(100),
        redis_failure: RedisFailure::Closed,
        ..shared_config(up, &redis)
    };
    let a = start(config).await;
    assert_eq!(outcome(chat(&a, "198.51.100.20", "hi").await).await.0, 200);
    redis.stop();
    let started = Instant::now();
    let (status, retry, code) = outcome(chat(&a, "198.51.100.20", "hi").await).await;
    assert_eq!(
        (status, retry.as_deref(), code.as_deref()),
        (503, Some("5"), Some("limiter_unavailable"))
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a down Redis answers fast"
    );
    redis.resume();
    eventually(
        Duration::from_secs(30),
        "shared limits are back",
        || async { outcome(chat(&a, "198.51.100.20", "hi").await).await.0 == 200 },
    )
    .await;
}

#[tokio::test]
async fn redis_down_and_open_uses_each_instances_own_limits_then_shares_again() {
    let mut redis = RedisServer::start();
    let (up, _) = fake_upstream(upstream()).await;
    let config = Config {
        rate_limit_per_minute: Some(3),
        redis_failure: RedisFailure::Open,
        ..shared_config(up, &redis)
    };
    let a = start(config.clone()).await;
    let b = start(config).await;
    redis.stop();
    // Each instance on its own: 3 on A and 3 on B.
    let mut ok = 0;
    for i in 0..10 {
        let server = if i % 2 == 0 { &a } else { &b };
        if outcome(chat(server, "198.51.100.30", "hi").await).await.0 == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 6);
    redis.resume();
    // Back to shared: a request from a fresh client leaves its bucket in Redis.
    let mut n = 0;
    eventually(Duration::from_secs(30), "shared limits are back", || {
        n += 1;
        let ip = format!("198.51.101.{n}");
        let a = &a;
        let redis = &redis;
        async move {
            let _ = outcome(chat(a, &ip, "hi").await).await;
            let client = redis::Client::open(redis.url()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let found: bool = redis::cmd("EXISTS")
                .arg(format!("confab:test:rl:{ip}"))
                .query_async(&mut conn)
                .await
                .unwrap();
            found
        }
    })
    .await;
    let mut ok = 0;
    for i in 0..10 {
        let server = if i % 2 == 0 { &a } else { &b };
        if outcome(chat(server, "198.51.100.31", "hi").await).await.0 == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 3);
}
