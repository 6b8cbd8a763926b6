//! The accept loop: HTTP/1.1 connections served by hyper with the limits axum::serve lacks.
//!
//! * A cap on open connections (`--max-connections`): a semaphore permit is taken before
//!   each accept, so beyond the cap new clients wait in the kernel's listen backlog.
//! * A cap per client (`--max-connections-per-client`, by IPv4 address or IPv6 /64 of the
//!   socket peer, as forwarded headers are not read at accept time): beyond it a client's
//!   new connection is closed at once, so one client cannot hold every slot with
//!   half-sent headers. Off with `--trust-forwarded-for`, where the peers are reverse proxies.
//! * hyper's header-read timeout (`--header-timeout`), whose timer runs whenever the
//!   connection waits for a request head: it closes connections that stall half-way through
//!   their headers, that never send one, and keep-alive connections left idle.
//! * Graceful shutdown: stop accepting, ask every connection to finish its response and
//!   close, and wait until all permits are back.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::client_key::ClientKey;

pub struct ConnectionLimits {
    pub max_connections: usize,
    /// `None`: no cap per client.
    pub max_per_client: Option<usize>,
    pub header_timeout: Duration,
}

/// Open connections per client. Only clients with a connection open have an entry.
pub struct PerClient {
    max: usize,
    open: Mutex<HashMap<ClientKey, usize>>,
}

/// One open connection of a client; dropping it gives the slot back.
pub struct ClientConnection {
    of: Arc<PerClient>,
    key: ClientKey,
}

impl PerClient {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(PerClient {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `key`, or `None` when it has `max` connections open.
    pub fn try_open(self: &Arc<Self>, key: ClientKey) -> Option<ClientConnection> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(ClientConnection {
            of: self.clone(),
            key,
        })
    }

    /// Clients with a connection open.
    pub fn clients(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for ClientConnection {
    fn drop(&mut self) {
        let mut open = self.of.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = limits.max_per_client.map(PerClient::new);
    let mut refused_once = false;
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
        let client_slot = match &per_client {
            None => None,
            Some(pc) => match pc.try_open(ClientKey::from(peer.ip())) {
                Some(slot) => Some(slot),
                None => {
                    if !refused_once {
                        refused_once = true;
                        tracing::warn!(
                            client = %ClientKey::from(peer.ip()),
                            "a client reached --max-connections-per-client: its further \
                             connections are closed (behind a reverse proxy, set \
                             --trust-forwarded-for)"
                        );
                    }
                    drop(stream); // closed at once; the global permit comes back too
                    continue;
                }
            },
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
            drop(client_slot);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_counted_per_client_and_come_back() {
        let pc = PerClient::new(2);
        let a = ClientKey::from(std::net::IpAddr::from([10, 0, 0, 1]));
        let a_v6 = |last: u16| {
            ClientKey::from(std::net::IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, last]))
        };
        let a1 = pc.try_open(a).unwrap();
        let _a2 = pc.try_open(a).unwrap();
        assert!(pc.try_open(a).is_none());
        let _v1 = pc.try_open(a_v6(1)).unwrap();
        let _v2 = pc.try_open(a_v6(2)).unwrap();
        assert!(pc.try_open(a_v6(3)).is_none(), "one /64 is one client");
        drop(a1);
        assert!(pc.try_open(a).is_some());
        assert_eq!(pc.clients(), 2);
    }
}
