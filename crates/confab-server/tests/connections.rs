//! Hostile connections: stalled headers, idle keep-alive, the connection cap, the caps on
//! chat completions in flight, and rate-limit keys. Timeouts are set short here; the
//! assertions only bound them generously.

mod common;

use std::time::Duration;

use common::*;
use confab_server::Config;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (EOF or reset); panics after `limit`.
async fn closed_within(s: &mut TcpStream, limit: Duration) {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closed the connection");
}

fn short_timeouts() -> Config {
    Config {
        header_timeout: Duration::from_secs(1),
        ..demo_config()
    }
}

#[tokio::test]
async fn normal_requests_work_while_300_stalled_connections_are_open_and_those_are_closed() {
    let server = start(short_timeouts()).await;
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
            .await
            .unwrap();
        stalled.push(s);
    }
    // Another client: the stalled one has reached its own connection cap.
    let other = client_from([127, 0, 0, 2]);
    let res = other.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = other
        .post(server.url("/v1/chat/completions"))
        .json(&json!({"messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // 1 s header timeout; 30 s is only a generous bound for a busy machine.
    for s in &mut stalled {
        closed_within(s, Duration::from_secs(30)).await;
    }
}

#[tokio::test]
async fn idle_keep_alive_and_silent_connections_are_closed() {
    let server = start(short_timeouts()).await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    closed_within(&mut kept, Duration::from_secs(30)).await;
    closed_within(&mut silent, Duration::from_secs(30)).await;
}

#[tokio::test]
async fn beyond_the_connection_cap_clients_wait_until_a_connection_closes() {
    let mut config = demo_config();
    config.max_connections = 2;
    let server = start(config).await;
    let held = [
        TcpStream::connect(server.addr).await.unwrap(),
        TcpStream::connect(server.addr).await.unwrap(),
    ];
    let quick = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let waiting = quick.get(server.url("/healthz")).send().await;
    assert!(waiting.is_err(), "a third connection is not served yet");
    drop(held);
    let res = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .unwrap()
}

async fn open_slow_stream(c: &reqwest::Client, server: &Server) -> reqwest::Response {
    c.post(server.url("/v1/chat/completions"))
        .json(&json!({"stream": true, "messages": [{"role": "user", "content": "/demo slow"}]}))
        .send()
        .await
        .unwrap()
}

/// One client cannot hold every connection slot with half-sent headers: beyond
/// `--max-connections-per-client` its new connections are closed at once (the header
/// timeout here is far longer than the bound waited), while another client is served and
/// a closed connection gives its slot back.
#[tokio::test]
async fn beyond_its_connection_cap_a_clients_new_connection_is_closed_and_others_are_served() {
    let config = Config {
        max_connections_per_client: 3,
        header_timeout: Duration::from_secs(600),
        ..demo_config()
    };
    let server = start(config).await;
    let half_header = |from: [u8; 4]| {
        let addr = server.addr;
        async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket
                .bind((std::net::Ipv4Addr::from(from), 0).into())
                .unwrap();
            let mut s = socket.connect(addr).await.unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
                .await
                .unwrap();
            s
        }
    };
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(half_header([127, 0, 0, 1]).await);
    }
    let mut extra = half_header([127, 0, 0, 1]).await;
    closed_within(&mut extra, Duration::from_secs(30)).await;

    let other = client_from([127, 0, 0, 2]);
    let res = other.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);

    // A connection closed by the client frees its slot.
    drop(held.pop());
    let mut served = false;
    for _ in 0..100 {
        let res = client_from([127, 0, 0, 1])
            .get(server.url("/healthz"))
            .send()
            .await;
        if res.is_ok_and(|r| r.status() == 200) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the slot came back after the connection closed");
    // The three held connections were never closed by the server.
    for s in &mut held {
        let mut buf = [0u8; 16];
        assert!(
            tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf))
                .await
                .is_err(),
            "still open"
        );
    }
}

#[tokio::test]
async fn streams_in_flight_are_capped_per_client_and_overall_with_503_and_retry_after() {
    let mut config = demo_config();
    config.max_streams = 3;
    config.max_streams_per_client = 2;
    let server = start(config).await;
    let a = client_from([127, 0, 0, 1]);
    let b = client_from([127, 0, 0, 2]);

    let a1 = open_slow_stream(&a, &server).await;
    let _a2 = open_slow_stream(&a, &server).await;
    assert_eq!(a1.status(), 200);
    let refused = open_slow_stream(&a, &server).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    let err: Value = refused.json().await.unwrap();
    assert_eq!(err["error"]["code"], "too_many_streams");

    // Another client still gets the last global slot, then the server is full.
    let _b1 = open_slow_stream(&b, &server).await;
    assert_eq!(_b1.status(), 200);
    assert_eq!(open_slow_stream(&b, &server).await.status(), 503);

    // A client that leaves frees its slot (the server notices at its next chunk).
    let mut body = a1.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    let mut freed = false;
    for _ in 0..100 {
        let res = open_slow_stream(&b, &server).await;
        if res.status() == 200 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "the slot came back after the client left");
}

#[tokio::test]
async fn rate_limit_keys_are_ipv4_addresses_or_ipv6_64s_from_trusted_forwarded_headers() {
    let mut config = demo_config();
    config.rate_limit_per_minute = Some(1);
    config.trust_forwarded_for = true;
    let server = start(config).await;
    let ask = |xff: &'static str, header: &'static str| {
        let url = server.url("/v1/models");
        async move {
            client()
                .get(url)
                .header(header, xff)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let xff = "x-forwarded-for";
    assert_eq!(ask("1.1.1.1, 203.0.113.7:4711", xff).await, 200);
    assert_eq!(ask("203.0.113.7", xff).await, 429);
    assert_eq!(ask("203.0.113.8", xff).await, 200);
    assert_eq!(ask("[2001:db8:0:1::1]:443", xff).await, 200);
    assert_eq!(ask("2001:db8:0:1:ffff::2", xff).await, 429, "same /64");
    assert_eq!(ask("2001:db8:0:2::1", xff).await, 200, "another /64");
    assert_eq!(
        ask("for=\"[2001:db8:0:3::1]:80\";proto=https", "forwarded").await,
        200
    );
    assert_eq!(ask("for=2001:db8:0:3::9", "forwarded").await, 429);
}

#[tokio::test]
async fn forwarded_headers_are_ignored_unless_trusted() {
    let mut config = demo_config();
    config.rate_limit_per_minute = Some(1);
    let server = start(config).await;
    let mut statuses = Vec::new();
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let res = client()
            .get(server.url("/v1/models"))
            .header("x-forwarded-for", ip)
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 429]);
}
