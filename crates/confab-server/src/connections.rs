//! The accept loop: HTTP/1.1 connections served by hyper with the limits axum::serve lacks.
//!
//! * A cap on open connections (`--max-connections`): a semaphore permit is taken before
//!   each accept, so beyond the cap new clients wait in the kernel's listen backlog.
//! * hyper's header-read timeout (`--header-timeout`), whose timer runs whenever the
//!   connection waits for a request head: it closes connections that stall half-way through
//!   their headers, that never send one, and keep-alive connections left idle.
//! * Graceful shutdown: stop accepting, ask every connection to finish its response and
//!   close, and wait until all permits are back.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let (stopping_tx, stopping_rx) = watch::channel(false);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let http = Arc::new(http);
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            p = open.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, mostly: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let http = http.clone();
        let mut stopping = stopping_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move { router.oneshot(req).await }
            });
            let conn = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let mut asked_to_stop = false;
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    _ = stopping.changed(), if !asked_to_stop => {
                        asked_to_stop = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(permit);
        });
    }

    drop(listener);
    let _ = stopping_tx.send(true);
    // Every connection holds a permit until it is closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = open.acquire_many(all).await;
    Ok(())
}
