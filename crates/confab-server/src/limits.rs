//! Caps on chat completions in flight, over all clients and per client. A slot is held
//! until the response body ends (a stream holds it for its whole length) and is given
//! back when the body is dropped, also when the client goes away.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::client_key::ClientKey;
use crate::error::openai_error;

/// Seconds a client is told to wait when every slot is taken.
pub const BUSY_RETRY_AFTER_SECS: u64 = 5;

/// The 503 message when a client has all its slots.
pub const CLIENT_BUSY: &str =
    "this client has as many chat completions in flight as it may; wait for one to end";

pub struct StreamSlots {
    global: Arc<Semaphore>,
    global_max: usize,
    per_client_max: usize,
    /// Only clients with a stream open: at most as many entries as global slots.
    per_client: Mutex<HashMap<ClientKey, usize>>,
}

/// One chat completion in flight; dropping it frees the slot.
pub struct StreamSlot {
    _global: OwnedSemaphorePermit,
    slots: Arc<StreamSlots>,
    key: ClientKey,
}

impl StreamSlots {
    pub fn new(global_max: usize, per_client_max: usize) -> Arc<Self> {
        Arc::new(StreamSlots {
            global: Arc::new(Semaphore::new(global_max)),
            global_max,
            per_client_max,
            per_client: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `key`, or the 503 to answer with.
    #[allow(clippy::result_large_err)]
    pub fn try_acquire(self: &Arc<Self>, key: ClientKey) -> Result<StreamSlot, Response> {
        let global = self.try_acquire_global()?;
        let mut per_client = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
        let open = per_client.entry(key).or_insert(0);
        if *open >= self.per_client_max {
            return Err(busy(CLIENT_BUSY));
        }
        *open += 1;
        Ok(StreamSlot {
            _global: global,
            slots: self.clone(),
            key,
        })
    }
}

impl StreamSlots {
    /// A slot under the global cap only (the per-client count is kept elsewhere).
    #[allow(clippy::result_large_err)]
    pub fn try_acquire_global(&self) -> Result<OwnedSemaphorePermit, Response> {
        self.global
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy("this server has as many chat completions in flight as it allows"))
    }

    /// Chat completions in flight now.
    pub fn in_flight(&self) -> usize {
        self.global_max - self.global.available_permits()
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut per_client = self
            .slots
            .per_client
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(open) = per_client.get_mut(&self.key) {
            *open -= 1;
            if *open == 0 {
                per_client.remove(&self.key);
            }
        }
    }
}

pub fn busy(message: &str) -> Response {
    let mut res = openai_error(
        StatusCode::SERVICE_UNAVAILABLE,
        message,
        "server_error",
        Some("too_many_streams"),
    );
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(BUSY_RETRY_AFTER_SECS),
    );
    res
}

/// `res` with `guard` kept alive until its body has been sent or dropped.
pub fn hold_until_body_ends<G: Send + Sync + 'static>(res: Response, guard: G) -> Response {
    let (parts, body) = res.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        let _held = &guard;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_client_and_global_caps_and_slots_come_back() {
        let slots = StreamSlots::new(3, 2);
        let a = ClientKey::V4([10, 0, 0, 1].into());
        let b = ClientKey::V4([10, 0, 0, 2].into());
        let a1 = slots.try_acquire(a).unwrap();
        let _a2 = slots.try_acquire(a).unwrap();
        assert_eq!(slots.try_acquire(a).err().unwrap().status(), 503);
        let _b1 = slots.try_acquire(b).unwrap();
        let full = slots.try_acquire(b).err().unwrap();
        assert_eq!(full.headers()["retry-after"], "5");
        drop(a1);
        assert!(slots.try_acquire(b).is_ok());
        assert_eq!(slots.per_client.lock().unwrap().len(), 2);
    }
}
