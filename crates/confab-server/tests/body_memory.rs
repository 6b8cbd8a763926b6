//! `--max-body-memory`: request bodies held at once are bounded over all requests. With a
//! 1 MiB budget, a 700 KiB body being uploaded leaves no room for a second one (503 +
//! `Retry-After`), while a small one still fits and the first completes.

mod common;

use common::*;
use confab_server::Config;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KIB: usize = 1024;

/// A chat request of about `size` bytes.
fn body_of(size: usize) -> Vec<u8> {
    let filler = "x".repeat(size.saturating_sub(60));
    serde_json::to_vec(&json!({"messages": [{"role": "user", "content": filler}]})).unwrap()
}

#[tokio::test]
async fn bodies_beyond_the_memory_budget_get_503_while_one_that_fits_is_served() {
    let server = start(Config {
        max_body: 1024 * KIB,
        max_body_memory: 1024 * KIB,
        ..demo_config()
    })
    .await;
    let big = body_of(700 * KIB);

    // A: declares 700 KiB, sends all but its last KiB and stalls, holding its share.
    let mut a = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        big.len()
    );
    a.write_all(head.as_bytes()).await.unwrap();
    let last = big.len() - KIB;
    a.write_all(&big[..last]).await.unwrap();

    // B: another 700 KiB does not fit next to A's (once A's share is taken).
    let send = |body: Vec<u8>| {
        let url = server.url("/v1/chat/completions");
        async move {
            client()
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let mut refused = None;
    for _ in 0..50 {
        let res = send(big.clone()).await;
        if res.status() == 503 {
            refused = Some(res);
            break;
        }
        assert_eq!(res.status(), 200, "before A's share was taken");
    }
    let refused = refused.expect("a second 700 KiB body was refused");
    assert_eq!(refused.headers()["retry-after"], "2");
    let err: Value = refused.json().await.unwrap();
    assert_eq!(err["error"]["code"], "server_busy");
    assert_eq!(err["error"]["type"], "server_error");

    // C: a small body fits in what is left.
    assert_eq!(send(body_of(KIB)).await.status(), 200);

    // A finishes its upload and is answered.
    a.write_all(&big[last..]).await.unwrap();
    let mut answer = Vec::new();
    a.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{}",
        &answer[..answer.len().min(200)]
    );

    // Its share came back: a 700 KiB body fits again.
    assert_eq!(send(big).await.status(), 200);
}

#[test]
fn the_budget_holds_at_least_one_largest_body() {
    use clap::Parser;
    let parse = |list: &[&str]| {
        let mut v = vec!["confab-server"];
        v.extend_from_slice(list);
        Config::from_args(confab_server::Args::try_parse_from(v).unwrap(), |_| None)
    };
    assert_eq!(parse(&[]).unwrap().max_body_memory, 256 * 1024 * 1024);
    let err = parse(&["--max-body", "25MB", "--max-body-memory", "10MB"]).unwrap_err();
    assert!(
        err.contains("--max-body-memory") && !err.contains('\n'),
        "{err}"
    );
    assert!(parse(&["--max-body", "1MB", "--max-body-memory", "1MB"]).is_ok());
}
