//! Proxy benchmark: `cargo run --release -p confab-server --example proxy_bench`
//!
//! Everything runs in this process on loopback: a fake upstream, the proxy, and the clients.
//!
//! 1. Added latency per relayed chunk: the upstream stamps each chunk with the time it sent
//!    it; the client measures arrival minus stamp, once straight from the upstream and once
//!    through the proxy, alternating rounds in the same run. Added = through - direct.
//! 2. Memory: RSS (VmRSS from /proc/self/status) while 1,000 slow streams are open through
//!    the proxy, next to the same streams opened straight to the upstream and the idle baseline.
//!
//! 3. With PROXY_BENCH_REDIS=redis://… : the time of a whole short request (one chunk),
//!    through the proxy with its limits in memory and through one sharing them in that
//!    Redis (rate limit, per-client stream cap, token budgets and metrics on), side by side.
//!
//! The proxy runs with its limits on (see `proxy_config`).
//!
//! Bounded: a few thousand chunks and 1,000 streams of a few seconds; every phase has a
//! time limit. Settings: PROXY_BENCH_CHUNKS (default 500), PROXY_BENCH_STREAMS (1000).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use confab_server::config::{ApiKey, AuthStyle, Upstream};
use confab_server::Config;
use futures_util::StreamExt;
use serde_json::{json, Value};

static EPOCH: OnceLock<Instant> = OnceLock::new();

fn micros_now() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The fake upstream: `bench_chunks` chunks, `bench_interval_ms` apart, each stamped.
async fn upstream_handler(Json(body): Json<Value>) -> impl IntoResponse {
    let n = body["bench_chunks"].as_u64().unwrap_or(10);
    let interval = Duration::from_millis(body["bench_interval_ms"].as_u64().unwrap_or(1));
    let stream = futures_util::stream::unfold(0u64, move |i| async move {
        if i > n {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        let chunk = if i == n {
            "data: [DONE]\n\n".to_string()
        } else {
            format!(
                "data: {{\"t\":{},\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}},\"finish_reason\":null}}]}}\n\n",
                micros_now()
            )
        };
        Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), i + 1))
    });
    (
        [("content-type", "text/event-stream")],
        Body::from_stream(stream),
    )
}

async fn start_upstream() -> SocketAddr {
    let app = Router::new().route("/v1/chat/completions", post(upstream_handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // TCP_NODELAY like real upstreams: else the last small write of a short answer
        // waits 40 ms for a delayed ACK.
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// Latencies (µs) of every chunk of one stream.
async fn one_stream(
    client: &reqwest::Client,
    base: SocketAddr,
    chunks: usize,
    interval_ms: u64,
) -> Vec<u64> {
    let res = client
        .post(format!("http://{base}/v1/chat/completions"))
        .json(&json!({"model": "bench", "stream": true, "messages": [{"role": "user", "content": "hi"}],
                      "bench_chunks": chunks, "bench_interval_ms": interval_ms}))
        .send()
        .await
        .expect("bench request");
    assert!(res.status().is_success(), "status {}", res.status());
    let mut body = res.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut lat = Vec::with_capacity(chunks);
    while let Some(b) = body.next().await {
        let b = b.expect("bench body");
        let now = micros_now();
        buf.extend_from_slice(&b);
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&event);
            if let Some(rest) = text.split("\"t\":").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(t) = digits.parse::<u64>() {
                    lat.push(now.saturating_sub(t));
                }
            }
        }
    }
    lat
}

/// p50 and mean (µs) of `n` whole one-chunk requests to `base`, one after another.
async fn request_times(client: &reqwest::Client, base: SocketAddr, n: usize) -> (u64, f64) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        one_stream(client, base, 1, 0).await;
        times.push(start.elapsed().as_micros() as u64);
    }
    times.sort_unstable();
    let mean = times.iter().sum::<u64>() as f64 / n.max(1) as f64;
    (percentile(&times, 0.5), mean)
}

/// Section 3: the added cost of sharing the limits through Redis, per request.
async fn redis_overhead(
    client: &reqwest::Client,
    upstream: SocketAddr,
    plain: SocketAddr,
    url: &str,
) {
    let config = Config {
        redis: Some(confab_server::config::RedisUrl::new(url)),
        redis_namespace: "confab:bench:".into(),
        budget_tokens_per_day: Some(u64::MAX / 4),
        budget_tokens_per_day_global: Some(u64::MAX / 4),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..proxy_config(upstream)
    };
    let (shared, _server) = confab_server::spawn(config, std::future::pending())
        .await
        .expect("proxy with Redis starts");
    request_times(client, plain, 50).await;
    request_times(client, shared, 50).await;
    let n = env_usize("PROXY_BENCH_REQUESTS", 500);
    let (plain_p50, plain_mean) = request_times(client, plain, n).await;
    let (shared_p50, shared_mean) = request_times(client, shared, n).await;
    println!("request_us_limits_in_memory: p50 {plain_p50}, mean {plain_mean:.1} ({n} one-chunk requests)");
    println!("request_us_limits_in_redis: p50 {shared_p50}, mean {shared_mean:.1} (rate limit, stream cap, budgets, metrics)");
    println!(
        "added_latency_per_request_by_redis_us: p50 {}, mean {:.1} (budget < 2000)",
        shared_p50 as i64 - plain_p50 as i64,
        shared_mean - plain_mean
    );
}

fn rss_kb() -> u64 {
    rss_kb_of(std::process::id())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Opens `n` slow streams at once to `base`; returns the highest RSS seen while they ran.
async fn many_streams(
    client: &reqwest::Client,
    base: SocketAddr,
    n: usize,
    pid: u32,
) -> (u64, usize) {
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            // 10 chunks, 300 ms apart: every stream stays open about 3 s.
            one_stream(&c, base, 10, 300).await.len()
        }));
    }
    let peak = Arc::new(AtomicU64::new(0));
    let p = peak.clone();
    let sampler = tokio::spawn(async move {
        loop {
            p.fetch_max(rss_kb_of(pid), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut complete = 0;
    let all = futures_util::future::join_all(tasks);
    match tokio::time::timeout(Duration::from_secs(60), all).await {
        Ok(results) => {
            for r in results {
                if r.map(|len| len == 10).unwrap_or(false) {
                    complete += 1;
                }
            }
        }
        Err(_) => eprintln!("many_streams: time limit reached"),
    }
    sampler.abort();
    let _ = sampler.await;
    let peak = peak.load(Ordering::Relaxed);
    (peak, complete)
}

fn raise_fd_limit(want: u64) {
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// `proxy_bench --proxy-child UPSTREAM`: only the proxy, in its own process, so its RSS
/// can be read alone. Prints its address, then serves until stdin closes.
fn proxy_child(upstream: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (addr, _server) = confab_server::spawn(
            proxy_config(upstream.parse().unwrap()),
            std::future::pending(),
        )
        .await
        .expect("proxy starts");
        println!("{addr}");
        // Stop when the parent goes away (stdin closes).
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            let _ = std::io::stdin().read_line(&mut sink);
        })
        .await;
    });
}

/// The proxy as it runs in public: model pinned, tokens capped, a rate limit, the stream
/// caps, the typed request. The limits are set high enough for 1,000 streams from one
/// loopback client; the two bench fields are let through with --allow-field.
fn proxy_config(upstream: SocketAddr) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        upstream: Some(Upstream {
            base: format!("http://{upstream}/v1").parse().unwrap(),
            api_key: Some(ApiKey::new("bench-key")),
            auth: AuthStyle::Bearer,
        }),
        static_dir: "/nonexistent".into(),
        upstream_timeout: Duration::from_secs(60),
        model: Some("bench".into()),
        max_tokens: Some(1000),
        rate_limit_per_minute: Some(1_000_000),
        max_streams: 2000,
        max_streams_per_client: 2000,
        max_connections: 4096,
        max_connections_per_client: 4096,
        allow_fields: vec!["bench_chunks".into(), "bench_interval_ms".into()],
        ..Config::default()
    }
}

fn rss_kb_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--proxy-child" {
        raise_fd_limit(8192);
        return proxy_child(&args[2]);
    }
    let chunks = env_usize("PROXY_BENCH_CHUNKS", 500);
    let streams = env_usize("PROXY_BENCH_STREAMS", 1000);
    raise_fd_limit((streams as u64) * 4 + 256);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        micros_now();
        let upstream = start_upstream().await;
        let (proxy, _server) = confab_server::spawn(proxy_config(upstream), std::future::pending())
            .await
            .expect("proxy starts");
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(usize::MAX)
            .build()
            .unwrap();

        // Warm up both paths (connections, allocator).
        one_stream(&client, upstream, 20, 1).await;
        one_stream(&client, proxy, 20, 1).await;

        let mut direct = Vec::new();
        let mut through = Vec::new();
        let start = Instant::now();
        for _ in 0..3 {
            direct.extend(one_stream(&client, upstream, chunks, 1).await);
            through.extend(one_stream(&client, proxy, chunks, 1).await);
        }
        direct.sort_unstable();
        through.sort_unstable();
        let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len().max(1) as f64;
        println!("proxy_bench: {} chunks per path in {:.1} s", direct.len(), start.elapsed().as_secs_f64());
        println!(
            "  direct        p50 {:>6} us  p99 {:>6} us  mean {:>8.1} us",
            percentile(&direct, 0.5),
            percentile(&direct, 0.99),
            mean(&direct)
        );
        println!(
            "  through proxy p50 {:>6} us  p99 {:>6} us  mean {:>8.1} us",
            percentile(&through, 0.5),
            percentile(&through, 0.99),
            mean(&through)
        );
        let added_p50 = percentile(&through, 0.5) as f64 - percentile(&direct, 0.5) as f64;
        let added_mean = mean(&through) - mean(&direct);
        println!("added_latency_per_chunk_us: p50 {added_p50:.0}, mean {added_mean:.1} (budget < 1000)");

        let me = std::process::id();
        let idle = rss_kb();
        let (direct_peak, direct_ok) = many_streams(&client, upstream, streams, me).await;
        let (proxy_peak, proxy_ok) = many_streams(&client, proxy, streams, me).await;
        println!("rss_idle_mb: {:.1}", idle as f64 / 1024.0);
        println!(
            "rss_{streams}_streams_direct_mb: {:.1} ({direct_ok}/{streams} complete; clients and upstream in this process)",
            direct_peak as f64 / 1024.0
        );
        println!(
            "rss_{streams}_streams_in_process_mb: {:.1} ({proxy_ok}/{streams} complete; clients, proxy and upstream in this process)",
            proxy_peak as f64 / 1024.0
        );

        // The proxy alone: the same streams through a proxy in its own process.
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--proxy-child", &upstream.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("proxy child starts");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let child_addr: SocketAddr = line.trim().parse().expect("child prints its address");
        let child_pid = child.id();
        one_stream(&client, child_addr, 20, 1).await;
        let child_idle = rss_kb_of(child_pid);
        let (child_peak, child_ok) = many_streams(&client, child_addr, streams, child_pid).await;
        drop(child.stdin.take());
        let _ = child.kill();
        let _ = child.wait();
        println!(
            "proxy_process_rss_idle_mb: {:.1}",
            child_idle as f64 / 1024.0
        );
        println!(
            "proxy_process_rss_{streams}_streams_mb: {:.1} ({child_ok}/{streams} complete; budget < 100)",
            child_peak as f64 / 1024.0
        );
        if let Ok(url) = std::env::var("PROXY_BENCH_REDIS") {
            redis_overhead(&client, upstream, proxy, &url).await;
        }
    });
}
