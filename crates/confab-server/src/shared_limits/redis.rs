//! The limits kept in Redis, each one atomic Lua script or pipeline, every key under the
//! configured namespace and expiring on its own:
//!
//! * `NS rl:CLIENT`: the GCRA "theoretical arrival time" of a client (ms, Redis clock),
//!   expiring when the bucket is full again.
//! * `NS streams:CLIENT`: a sorted set of the client's streams in flight, scored by lease
//!   end. Instances renew their leases every [`LEASE_RENEW`], so the streams of an instance
//!   that died free their slots within [`LEASE`].
//! * `NS budget:DAY:WHO` and `NS budget:DAY:global`: tokens used that UTC day, kept two days.
//!
//! Times come from Redis (`TIME`), so instances with skewed clocks agree.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use crate::client_key::ClientKey;

/// How long a stream slot lives in Redis without renewal.
pub const LEASE: Duration = Duration::from_secs(60);
/// How often an instance renews the leases of its streams.
pub const LEASE_RENEW: Duration = Duration::from_secs(20);
/// No Redis call may hold a request longer than this.
pub const OP_TIMEOUT: Duration = Duration::from_millis(1000);
/// Budget counters outlive their day by one, for late answers.
const BUDGET_TTL_SECS: u64 = 2 * 86_400;

const RATE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > interval * burst then
  return new_tat - now - interval * burst
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return 0
";

const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
";

const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[1])
end
return 0
";

pub struct RedisStore {
    conn: ConnectionManager,
    namespace: String,
    rate: Script,
    acquire: Script,
    renew: Script,
    /// Unique per process: members of the stream sets are `INSTANCE:N`.
    instance: String,
    next_slot: AtomicU64,
    /// Slots this instance holds: member -> set key, renewed by [`RedisStore::renew_all`].
    held: Mutex<HashMap<String, String>>,
}

pub type RedisResult<T> = Result<T, String>;

impl RedisStore {
    /// Connects lazily: a Redis that is down at start is a Redis failure like any other,
    /// and the connection manager reconnects by itself.
    pub fn new(url: &str, namespace: &str) -> RedisResult<Arc<Self>> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn =
            ConnectionManager::new_lazy_with_config(client, config).map_err(|e| e.to_string())?;
        let instance = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            format!("{:016x}", h.finish())
        };
        Ok(Arc::new(RedisStore {
            conn,
            namespace: namespace.to_string(),
            rate: Script::new(RATE),
            acquire: Script::new(ACQUIRE),
            renew: Script::new(RENEW),
            instance,
            next_slot: AtomicU64::new(0),
            held: Mutex::new(HashMap::new()),
        }))
    }

    fn key(&self, parts: std::fmt::Arguments) -> String {
        format!("{}{parts}", self.namespace)
    }

    async fn timed<T>(
        &self,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> RedisResult<T> {
        match tokio::time::timeout(OP_TIMEOUT, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", OP_TIMEOUT.as_millis())),
        }
    }

    /// GCRA with `per_minute` requests a minute, burst `per_minute`: `Some(wait)` when over.
    pub async fn check_rate(
        &self,
        client: ClientKey,
        per_minute: u32,
    ) -> RedisResult<Option<Duration>> {
        let interval_ms = 60_000 / u64::from(per_minute.max(1));
        let key = self.key(format_args!("rl:{client}"));
        let mut conn = self.conn.clone();
        let mut call = self.rate.key(key);
        call.arg(interval_ms.max(1)).arg(per_minute.max(1));
        let wait_ms: u64 = self.timed(call.invoke_async(&mut conn)).await?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms)))
    }

    /// A stream slot for `client` if it has fewer than `max` in flight over all instances.
    pub async fn acquire_stream(
        self: &Arc<Self>,
        client: ClientKey,
        max: usize,
    ) -> RedisResult<Option<RedisSlot>> {
        let key = self.key(format_args!("streams:{client}"));
        let member = format!(
            "{}:{}",
            self.instance,
            self.next_slot.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = self.conn.clone();
        let mut call = self.acquire.key(&key);
        call.arg(LEASE.as_millis() as u64).arg(max).arg(&member);
        let got: i64 = self.timed(call.invoke_async(&mut conn)).await?;
        if got == 0 {
            return Ok(None);
        }
        self.held_map().insert(member.clone(), key.clone());
        Ok(Some(RedisSlot {
            store: self.clone(),
            key,
            member,
        }))
    }

    fn held_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Renews the leases of every slot this instance holds (one script call per 500).
    pub async fn renew_all(&self) -> RedisResult<()> {
        let held: Vec<(String, String)> = self
            .held_map()
            .iter()
            .map(|(m, k)| (m.clone(), k.clone()))
            .collect();
        for batch in held.chunks(500) {
            let mut call = self.renew.prepare_invoke();
            call.arg(LEASE.as_millis() as u64);
            for (member, key) in batch {
                call.key(key).arg(member);
            }
            let mut conn = self.conn.clone();
            let _: i64 = self.timed(call.invoke_async(&mut conn)).await?;
        }
        Ok(())
    }

    /// Today's tokens used by `who` and by everyone.
    pub async fn budget_used(&self, day: u64, who: &str) -> RedisResult<(u64, u64)> {
        let keys = [
            self.key(format_args!("budget:{day}:{who}")),
            self.key(format_args!("budget:{day}:global")),
        ];
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("MGET");
        cmd.arg(&keys[..]);
        let used: Vec<Option<u64>> = self.timed(cmd.query_async(&mut conn)).await?;
        Ok((
            used.first().copied().flatten().unwrap_or(0),
            used.get(1).copied().flatten().unwrap_or(0),
        ))
    }

    /// Adds `tokens` to `who`'s and the global count of `day`, atomically.
    pub async fn add_usage(&self, day: u64, who: &str, tokens: u64) -> RedisResult<()> {
        let client = self.key(format_args!("budget:{day}:{who}"));
        let global = self.key(format_args!("budget:{day}:global"));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("INCRBY")
            .arg(&client)
            .arg(tokens)
            .ignore()
            .cmd("EXPIRE")
            .arg(&client)
            .arg(BUDGET_TTL_SECS)
            .ignore()
            .cmd("INCRBY")
            .arg(&global)
            .arg(tokens)
            .ignore()
            .cmd("EXPIRE")
            .arg(&global)
            .arg(BUDGET_TTL_SECS)
            .ignore();
        let mut conn = self.conn.clone();
        self.timed(pipe.query_async::<()>(&mut conn)).await
    }
}

/// A stream slot in Redis; dropping it gives it back (or its lease runs out if Redis is
/// unreachable then).
pub struct RedisSlot {
    store: Arc<RedisStore>,
    key: String,
    member: String,
}

impl Drop for RedisSlot {
    fn drop(&mut self) {
        self.store.held_map().remove(&self.member);
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = self.store.clone();
        let key = std::mem::take(&mut self.key);
        let member = std::mem::take(&mut self.member);
        rt.spawn(async move {
            let mut conn = store.conn.clone();
            let mut cmd = redis::cmd("ZREM");
            cmd.arg(&key).arg(&member);
            let _ = store.timed(cmd.query_async::<i64>(&mut conn)).await;
        });
    }
}

/// Renews this instance's leases every [`LEASE_RENEW`] while `store` lives.
pub fn spawn_renewer(store: &Arc<RedisStore>) {
    let weak = Arc::downgrade(store);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(LEASE_RENEW);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(store) = weak.upgrade() else { return };
            if let Err(e) = store.renew_all().await {
                tracing::warn!(error = %e, "could not renew stream leases in Redis");
            }
        }
    });
}
