//! The issue's memory probe: 4 parallel 20 MB bodies of `[0,0,0,…]` must cost the server
//! less than 200 MB. (Its own test binary, so no other test shares the process's RSS.)
//! The body bytes themselves are about 80 MB of that: what is measured is that parsing
//! adds no tree on top (it used to add 1.38 GB).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use common::*;
use serde_json::json;

const MB: usize = 1024 * 1024;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `prefix` + `0,0,…,0` + `suffix`, about `size` bytes.
fn zeros(prefix: &str, size: usize, suffix: &str) -> Bytes {
    let mut b = Vec::with_capacity(size + prefix.len() + suffix.len());
    b.extend_from_slice(prefix.as_bytes());
    b.push(b'0');
    while b.len() < size {
        b.extend_from_slice(b",0");
    }
    b.extend_from_slice(suffix.as_bytes());
    Bytes::from(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_parallel_20_mb_bodies_of_zeros_cost_less_than_200_mb() {
    let (up, seen) = fake_upstream(Router::new().route(
        "/v1/chat/completions",
        post(|| async { Json(json!({"choices": []})) }),
    ))
    .await;
    let mut config = proxy_config(up);
    config.model = Some("m".into());
    config.max_tokens = Some(50);
    config.upstream_timeout = Duration::from_secs(60);
    let server = start(config).await;
    let c = client();

    let shapes = [
        (zeros("[", 20 * MB, "]"), 400),
        (zeros(r#"{"messages":["#, 20 * MB, "]}"), 400),
        (
            zeros(
                r#"{"messages":[{"role":"user","content":"hi"}],"metadata":["#,
                20 * MB,
                "]}",
            ),
            200,
        ),
    ];
    // Warm up: allocator arenas and connections exist before the baseline is read.
    let res = c
        .post(server.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(r#"{"messages":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let baseline = rss_kb();
    let peak = Arc::new(AtomicU64::new(baseline));
    let p = peak.clone();
    let sampler = tokio::spawn(async move {
        loop {
            p.fetch_max(rss_kb(), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    for (body, want) in &shapes {
        let sends = (0..4).map(|_| {
            let c = c.clone();
            let url = server.url("/v1/chat/completions");
            let body = body.clone(); // shares the bytes
            async move {
                c.post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        });
        let statuses = futures_util::future::join_all(sends).await;
        assert_eq!(statuses, vec![*want; 4]);
    }
    sampler.abort();
    let grown_mb = peak.load(Ordering::Relaxed).saturating_sub(baseline) / 1024;
    // The 3 shared request bodies (60 MB) are allocated before the baseline.
    assert!(grown_mb < 200, "RSS grew by {grown_mb} MB");
    // The allowed request went on without the dropped field.
    let forwarded = seen.lock().unwrap();
    assert_eq!(forwarded.len(), 5);
    assert!(forwarded[4].body.len() < 200, "{}", forwarded[4].body.len());
    println!("rss growth: {grown_mb} MB");
}
