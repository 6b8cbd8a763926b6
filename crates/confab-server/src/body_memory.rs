//! `--max-body-memory`: a budget for the request body bytes held at once, over all requests.
//! Each body may be `--max-body` long and each client may have many in flight, so without
//! it N parallel large bodies cost N × `--max-body`.
//!
//! A body takes its share before its bytes are buffered, growing as they arrive (doubling,
//! never past its `Content-Length`), so a client that declares a large body and sends
//! nothing holds next to nothing. A share that cannot be had within [`WAIT`] is a 503 with
//! `Retry-After`; it is given back when the [`Reservation`] is dropped (once the request
//! has been checked and forwarded).

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::openai_error;

/// How long a body waits for room before it is refused.
pub const WAIT: Duration = Duration::from_secs(2);
/// Seconds a refused client is told to wait.
pub const RETRY_AFTER_SECS: u64 = 2;
/// Chunked bodies reserve at least this much at a time.
const STEP: usize = 64 * 1024;

/// The budget, counted in KiB.
#[derive(Clone)]
pub struct BodyMemory {
    kib: Arc<Semaphore>,
}

/// Body bytes this request may hold; dropping it gives them back.
#[derive(Default)]
pub struct Reservation {
    permits: Vec<OwnedSemaphorePermit>,
    bytes: usize,
}

impl BodyMemory {
    pub fn new(bytes: usize) -> Self {
        BodyMemory {
            kib: Arc::new(Semaphore::new(kib(bytes) as usize)),
        }
    }

    /// KiB free now.
    pub fn available_kib(&self) -> usize {
        self.kib.available_permits()
    }

    /// Grows `r` so that it covers at least `needed` bytes (ahead of that, at most `max`), waiting up to
    /// [`WAIT`] for room; `Err` is the 503 to answer.
    #[allow(clippy::result_large_err)]
    pub async fn cover(
        &self,
        r: &mut Reservation,
        needed: usize,
        max: usize,
    ) -> Result<(), Response> {
        if needed <= r.bytes {
            return Ok(());
        }
        let target = needed
            .max(r.bytes.saturating_mul(2))
            .max(STEP)
            .min(max.max(needed));
        let more = kib(target).saturating_sub(kib(r.bytes)).max(1);
        let acquired = tokio::time::timeout(WAIT, self.kib.clone().acquire_many_owned(more)).await;
        match acquired {
            Ok(Ok(permit)) => {
                r.permits.push(permit);
                r.bytes = kib(target) as usize * 1024;
                Ok(())
            }
            _ => Err(busy()),
        }
    }
}

fn kib(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

fn busy() -> Response {
    tracing::warn!("request body refused: --max-body-memory is in use by other bodies");
    let mut res = openai_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "this server is holding as many request bodies as it may; try again shortly",
        "server_error",
        Some("server_busy"),
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_grow_to_what_arrives_and_come_back() {
        let budget = BodyMemory::new(1024 * 1024);
        let mut a = Reservation::default();
        budget.cover(&mut a, 600 * 1024, 25 << 20).await.unwrap();
        assert_eq!(budget.available_kib(), 1024 - 600);
        // Small steps are rounded up to 64 KiB, then doubled.
        let mut b = Reservation::default();
        budget.cover(&mut b, 10, 25 << 20).await.unwrap();
        assert_eq!(budget.available_kib(), 1024 - 600 - 64);
        budget.cover(&mut b, 65 * 1024, 25 << 20).await.unwrap();
        assert_eq!(budget.available_kib(), 1024 - 600 - 128);
        // Room comes back when a reservation is dropped.
        drop(a);
        let mut c = Reservation::default();
        budget.cover(&mut c, 800 * 1024, 25 << 20).await.unwrap();
        assert_eq!(budget.available_kib(), 1024 - 128 - 800);
        drop((b, c));
        assert_eq!(budget.available_kib(), 1024);
    }
}
