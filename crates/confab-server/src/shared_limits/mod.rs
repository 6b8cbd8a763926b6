//! The limits a request passes, kept in this process or, with `--redis`, shared by every
//! instance: the rate limit, the per-client cap on streams in flight, the token budgets.
//! The global `--max-streams` cap stays per instance: it bounds this process's memory.
//!
//! When Redis cannot be reached, `--redis-failure closed` answers 503 and `open` uses this
//! instance's own limits; either way a warning is logged at most once a minute, and the
//! connection manager reconnects by itself, so the shared limits come back on their own.

// Err is the response to send, as elsewhere in this crate.
#![allow(clippy::result_large_err)]

pub mod memory;
pub mod redis;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::sync::OwnedSemaphorePermit;

use crate::budget::{self, BudgetKey};
use crate::client_key::ClientKey;
use crate::config::{Config, RedisFailure};
use crate::error::openai_error;
use crate::guard::RateLimiter;
use crate::limits::{StreamSlot, StreamSlots};
use crate::metrics::{Metrics, Rejection};

/// Seconds a client is told to wait while the shared limiter is unreachable.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;
/// At most one "Redis unreachable" warning per this interval.
const WARN_EVERY: Duration = Duration::from_secs(60);

pub struct SharedLimits {
    rate_per_minute: Option<u32>,
    per_client_streams: usize,
    /// This instance's rate buckets: the limit without Redis, the fallback with it.
    rate: Option<Arc<RateLimiter>>,
    streams: Arc<StreamSlots>,
    budgets: memory::MemoryBudgets,
    redis: Option<Arc<redis::RedisStore>>,
    failure: RedisFailure,
    last_warning: Mutex<Option<Instant>>,
    metrics: Arc<Metrics>,
}

/// A chat completion in flight; dropping it frees its slots.
pub enum StreamGuard {
    Local(StreamSlot),
    Shared {
        _global: OwnedSemaphorePermit,
        _client: redis::RedisSlot,
    },
}

impl SharedLimits {
    /// Must be called within a Tokio runtime when `--redis` is set (the lease renewer).
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Self {
        let redis = config.redis.as_ref().map(|url| {
            let store = redis::RedisStore::new(url.expose(), &config.redis_namespace)
                .expect("the URL was checked with the flags");
            if tokio::runtime::Handle::try_current().is_ok() {
                redis::spawn_renewer(&store);
            }
            store
        });
        SharedLimits {
            rate_per_minute: config.rate_limit_per_minute,
            per_client_streams: config.max_streams_per_client,
            rate: config
                .rate_limit_per_minute
                .map(|n| Arc::new(RateLimiter::new(n))),
            streams: StreamSlots::new(config.max_streams, config.max_streams_per_client),
            budgets: memory::MemoryBudgets::default(),
            redis,
            failure: config.redis_failure,
            last_warning: Mutex::new(None),
            metrics,
        }
    }

    /// The in-memory rate limiter, for the sweeper.
    pub fn local_rate_limiter(&self) -> Option<&Arc<RateLimiter>> {
        self.rate.as_ref()
    }

    pub fn streams_in_flight(&self) -> usize {
        self.streams.in_flight()
    }

    /// A warning that Redis failed, at most once a minute.
    fn warn_redis(&self, what: &str, error: &str) {
        let warn = {
            let mut last = self.last_warning.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|t| t.elapsed() >= WARN_EVERY);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        let closed = self.failure == RedisFailure::Closed;
        if warn {
            tracing::warn!(
                what,
                error,
                then = if closed {
                    "answering 503 (--redis-failure closed)"
                } else {
                    "using this instance's own limits (--redis-failure open)"
                },
                "Redis is unreachable (logged at most once a minute)"
            );
        }
    }

    /// `Err(answer)` when Redis failed: 503 if closed; `Ok(())` (use local limits) if open.
    fn redis_failed(&self, what: &str, error: &str) -> Result<(), Response> {
        self.warn_redis(what, error);
        if self.failure == RedisFailure::Open {
            return Ok(());
        }
        self.metrics.rejected(Rejection::LimiterUnavailable);
        let mut res = openai_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server cannot reach its shared rate limiter (Redis) and refuses requests \
             until it is back; try again in a few seconds",
            "server_error",
            Some("limiter_unavailable"),
        );
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
        );
        Err(res)
    }

    /// `--rate-limit`: `Err` is the 429 (or the 503 of an unreachable Redis when closed).
    pub async fn check_rate(&self, key: ClientKey) -> Result<(), Response> {
        let Some(per_minute) = self.rate_per_minute else {
            return Ok(());
        };
        if let Some(store) = &self.redis {
            match store.check_rate(key, per_minute).await {
                Ok(None) => return Ok(()),
                Ok(Some(wait)) => return Err(self.rate_limited(wait)),
                Err(e) => self.redis_failed("rate limit", &e)?,
            }
        }
        match self.rate.as_ref().and_then(|l| l.check(key).err()) {
            None => Ok(()),
            Some(wait) => Err(self.rate_limited(wait)),
        }
    }

    fn rate_limited(&self, wait: Duration) -> Response {
        self.metrics.rejected(Rejection::RateLimit);
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut res = openai_error(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit reached for this client: try again in {secs}s"),
            "rate_limit_error",
            Some("rate_limit_exceeded"),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        res
    }

    /// A slot under `--max-streams` (this instance) and `--max-streams-per-client`
    /// (all instances, with Redis); `Err` is the 503.
    pub async fn acquire_stream(&self, key: ClientKey) -> Result<StreamGuard, Response> {
        let refused = |res| {
            self.metrics.rejected(Rejection::TooManyStreams);
            res
        };
        if let Some(store) = &self.redis {
            let global = self.streams.try_acquire_global().map_err(refused)?;
            match store.acquire_stream(key, self.per_client_streams).await {
                Ok(Some(slot)) => {
                    return Ok(StreamGuard::Shared {
                        _global: global,
                        _client: slot,
                    })
                }
                Ok(None) => return Err(refused(crate::limits::busy(crate::limits::CLIENT_BUSY))),
                Err(e) => self.redis_failed("stream count", &e)?,
            }
        }
        self.streams
            .try_acquire(key)
            .map(StreamGuard::Local)
            .map_err(refused)
    }

    /// The daily budgets: `Err` is the 429 once `who`'s or the global budget is spent.
    pub async fn check_budget(&self, config: &Config, who: &BudgetKey) -> Result<(), Response> {
        if !config.has_budgets() {
            return Ok(());
        }
        let (day, reset_in) = budget::today();
        let mut used = None;
        if let Some(store) = &self.redis {
            match store.budget_used(day, who.as_str()).await {
                Ok(u) => used = Some(u),
                Err(e) => self.redis_failed("token budget", &e)?,
            }
        }
        let (client, global) = used.unwrap_or_else(|| self.budgets.used(day, who.as_str()));
        match budget::spent(config, client, global) {
            None => Ok(()),
            Some(which) => {
                self.metrics.rejected(match which {
                    budget::Spent::Client => Rejection::BudgetClient,
                    budget::Spent::Global => Rejection::BudgetGlobal,
                });
                Err(budget::over_budget(which, reset_in))
            }
        }
    }

    /// Adds an answer's tokens to today's counts: in Redis, or here without it (and, when
    /// Redis fails, here too, for the fallback).
    pub async fn record_usage(&self, who: &BudgetKey, tokens: u64) {
        let (day, _) = budget::today();
        if let Some(store) = &self.redis {
            match store.add_usage(day, who.as_str(), tokens).await {
                Ok(()) => return,
                Err(e) => self.warn_redis("token usage", &e),
            }
        }
        self.budgets.add(day, who.as_str(), tokens);
    }
}
