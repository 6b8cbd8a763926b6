//! Test helpers: start the app in-process, a recording fake upstream, SSE reading.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use confab_core::sse::{SseDecoder, SseEvent};
use confab_server::config::{ApiKey, AuthStyle, Upstream};
use confab_server::Config;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::oneshot;

pub mod redis_server;

pub const KEY: &str = "sk-test-SECRET-0123456789abcdefXYZ";

/// A running confab-server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Begins the graceful shutdown and returns the task to await.
    pub fn shutdown(&mut self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.handle.take().expect("not shut down yet")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

pub async fn start(mut config: Config) -> Server {
    config.listen = "127.0.0.1:0".parse().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let (addr, handle) = confab_server::spawn(config, async {
        let _ = rx.await;
    })
    .await
    .expect("server starts");
    Server {
        addr,
        stop: Some(tx),
        handle: Some(handle),
    }
}

/// A demo-mode config with a fast pace.
pub fn demo_config() -> Config {
    Config {
        demo_delay: Duration::from_millis(1),
        static_dir: "/nonexistent-confab-dist".into(),
        ..Config::default()
    }
}

/// A proxy config pointing at `upstream` with the test key.
pub fn proxy_config(upstream: SocketAddr) -> Config {
    Config {
        upstream: Some(Upstream {
            base: format!("http://{upstream}/v1").parse().unwrap(),
            api_key: Some(ApiKey::new(KEY)),
            auth: AuthStyle::Bearer,
        }),
        static_dir: "/nonexistent-confab-dist".into(),
        upstream_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// One request as the fake upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("upstream got JSON")
    }
}

pub type Log = Arc<Mutex<Vec<Seen>>>;

/// Serves `router` on a free loopback port, recording every request into the returned log.
pub async fn fake_upstream(router: Router) -> (SocketAddr, Log) {
    let log: Log = Arc::default();
    let rec = log.clone();
    let router = router.layer(middleware::from_fn(move |req: Request, next: Next| {
        let rec = rec.clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            rec.lock().unwrap().push(Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().map(str::to_string),
                headers: parts.headers.clone(),
                body: bytes.clone(),
            });
            let req = Request::from_parts(parts, axum::body::Body::from(bytes));
            let res: Response = next.run(req).await;
            res
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (addr, log)
}

/// An SSE body with `n` content chunks, then a finish chunk and `[DONE]`.
pub fn sse_body(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "data: {{\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    s.push_str("data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    s
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// `GET path` on `server`, as JSON.
pub async fn get_json(server: &Server, path: &str) -> Value {
    client()
        .get(server.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// All SSE events of a response, and whether the body ended cleanly.
pub async fn read_sse(res: reqwest::Response) -> (Vec<SseEvent>, Result<(), String>) {
    let mut dec = SseDecoder::new();
    let mut events = Vec::new();
    let mut stream = res.bytes_stream();
    let mut outcome = Ok(());
    loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
            Err(_) => panic!("stream stalled"),
            Ok(None) => break,
            Ok(Some(Ok(b))) => events.extend(dec.push(&b).unwrap()),
            Ok(Some(Err(e))) => {
                outcome = Err(e.to_string());
                break;
            }
        }
    }
    (events, outcome)
}

/// The `data` of each event parsed as JSON (`[DONE]` as the string "[DONE]").
pub fn datas(events: &[SseEvent]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            if e.data == "[DONE]" {
                Value::String("[DONE]".into())
            } else {
                serde_json::from_str(&e.data).unwrap_or_else(|_| panic!("bad JSON: {}", e.data))
            }
        })
        .collect()
}

/// The content of all chunks, concatenated.
pub fn content_of(datas: &[Value]) -> String {
    datas
        .iter()
        .filter_map(|d| d["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// A throwaway directory under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "confab-static-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    /// Writes `name` (which may contain `/`), creating its directories.
    pub fn write(&self, name: &str, bytes: &[u8]) {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sends `request` as raw bytes on a new connection and returns everything read back
/// until the server closes it (send `Connection: close`).
pub async fn raw_http(addr: SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("the server answered and closed")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}
