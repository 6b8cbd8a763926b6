//! Token budgets counted in this process: used without `--redis`, and as the fallback
//! while Redis is unreachable with `--redis-failure open`. The counts of a day are
//! dropped when the next UTC day begins.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryBudgets {
    inner: Mutex<Day>,
}

#[derive(Default)]
struct Day {
    day: u64,
    /// One entry per client that used tokens today.
    used: HashMap<String, u64>,
    global: u64,
}

impl MemoryBudgets {
    fn on_day(&self, day: u64) -> std::sync::MutexGuard<'_, Day> {
        let mut d = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if d.day != day {
            *d = Day {
                day,
                ..Day::default()
            };
        }
        d
    }

    /// Today's tokens used by `who` and by everyone.
    pub fn used(&self, day: u64, who: &str) -> (u64, u64) {
        let d = self.on_day(day);
        (d.used.get(who).copied().unwrap_or(0), d.global)
    }

    pub fn add(&self, day: u64, who: &str, tokens: u64) {
        let mut d = self.on_day(day);
        d.global = d.global.saturating_add(tokens);
        match d.used.get_mut(who) {
            Some(n) => *n = n.saturating_add(tokens),
            None => {
                d.used.insert(who.to_string(), tokens);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_client_and_in_total_and_forget_yesterday() {
        let b = MemoryBudgets::default();
        b.add(10, "ip:a", 5);
        b.add(10, "ip:b", 7);
        b.add(10, "ip:a", 1);
        assert_eq!(b.used(10, "ip:a"), (6, 13));
        assert_eq!(b.used(11, "ip:a"), (0, 0));
    }
}
