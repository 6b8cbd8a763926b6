//! Daily token budgets (`--budget-tokens-per-day`, `--budget-tokens-per-day-global`): who a
//! request counts against, the UTC day, and the 429 once a budget is spent.
//!
//! A request is let through while its client's and the global count for today are below
//! their budgets; its tokens are added when its answer ends. So a budget can be overshot by
//! the answers in flight when it is reached, never by a new request.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use crate::client_key::ClientKey;
use crate::config::Config;
use crate::error::openai_error;

const DAY_SECS: u64 = 86_400;

/// Who a budget counts against: `ip:203.0.113.7`, `ip:2001:db8::/64` or `user:ID`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetKey(String);

impl BudgetKey {
    /// The `--budget-user-header` value when that flag is set and the header holds a
    /// plausible id (1 to 128 visible ASCII characters), else the client's address.
    pub fn of(config: &Config, headers: &HeaderMap, client: ClientKey) -> BudgetKey {
        let user = config
            .budget_user_header
            .as_ref()
            .and_then(|name| headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| (1..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()));
        match user {
            Some(id) => BudgetKey(format!("user:{id}")),
            None => BudgetKey(format!("ip:{client}")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Days since 1970-01-01 (UTC) and seconds until the next UTC midnight.
pub fn today() -> (u64, u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (now / DAY_SECS, DAY_SECS - now % DAY_SECS)
}

/// Which budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    Client,
    Global,
}

/// `Some` when a budget is spent, given today's counts.
pub fn spent(config: &Config, client_used: u64, global_used: u64) -> Option<Spent> {
    if config
        .budget_tokens_per_day
        .is_some_and(|b| client_used >= b)
    {
        Some(Spent::Client)
    } else if config
        .budget_tokens_per_day_global
        .is_some_and(|b| global_used >= b)
    {
        Some(Spent::Global)
    } else {
        None
    }
}

/// The 429 for a spent budget, with `Retry-After` to the next UTC midnight.
pub fn over_budget(which: Spent, reset_in_secs: u64) -> Response {
    let (h, m) = (reset_in_secs / 3600, (reset_in_secs % 3600).div_ceil(60));
    let (message, code) = match which {
        Spent::Client => (
            format!("your daily token budget is used up; it resets at 00:00 UTC, in {h} h {m} min"),
            "token_budget_exceeded",
        ),
        Spent::Global => (
            format!(
                "this service's daily token budget is used up; it resets at 00:00 UTC, in {h} h {m} min"
            ),
            "global_token_budget_exceeded",
        ),
    };
    let mut res = openai_error(
        StatusCode::TOO_MANY_REQUESTS,
        message,
        "rate_limit_error",
        Some(code),
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(reset_in_secs.max(1)));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_header_counts_only_when_named_and_plausible() {
        let ip = ClientKey::V4([192, 0, 2, 1].into());
        let mut headers = HeaderMap::new();
        headers.insert("x-user", HeaderValue::from_static("alice"));
        let plain = Config::default();
        assert_eq!(BudgetKey::of(&plain, &headers, ip).as_str(), "ip:192.0.2.1");
        let named = Config {
            budget_user_header: Some("x-user".parse().unwrap()),
            ..Config::default()
        };
        assert_eq!(BudgetKey::of(&named, &headers, ip).as_str(), "user:alice");
        headers.insert("x-user", HeaderValue::from_static("a b"));
        assert_eq!(BudgetKey::of(&named, &headers, ip).as_str(), "ip:192.0.2.1");
        let v6 = ClientKey::from("2001:db8:1:2::9".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(
            BudgetKey::of(&plain, &HeaderMap::new(), v6).as_str(),
            "ip:2001:db8:1:2::/64"
        );
    }

    #[test]
    fn over_budget_is_a_429_until_midnight() {
        let res = over_budget(Spent::Global, 3_700);
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()["retry-after"], "3700");
        let (day, left) = today();
        assert!(day > 19_000 && (1..=DAY_SECS).contains(&left));
        let c = Config {
            budget_tokens_per_day: Some(10),
            budget_tokens_per_day_global: Some(100),
            ..Config::default()
        };
        assert_eq!(spent(&c, 9, 99), None);
        assert_eq!(spent(&c, 10, 0), Some(Spent::Client));
        assert_eq!(spent(&c, 0, 100), Some(Spent::Global));
    }
}
