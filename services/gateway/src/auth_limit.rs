//! Slows partners' failed logins: counts failed authentications per client address and per
//! token id over a sliding window, and once an address has had too many, refuses it (429 with
//! `Retry-After`) without checking what it sends until its failures fall out of the window.
//!
//! Only the client's socket address is used: `X-Forwarded-For` is not trusted (the gateway does
//! not know which proxies are its own). A success from one address never clears another's
//! failures. Memory is bounded: at most [`MAX_KEYS`] keys are kept, the stalest evicted first.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// The most addresses and token ids remembered at once.
pub const MAX_KEYS: usize = 10_000;

/// Whom a failure is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Address(IpAddr),
    TokenId(Uuid),
}

/// The failure counters, shared by all requests.
#[derive(Debug)]
pub struct AuthLimiter {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl AuthLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max: max as usize,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// When `key` has had the most failures the window allows: how long until the oldest of them
    /// falls out of it (at least a second).
    pub fn blocked(&self, key: Key, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let times = failures.get_mut(&key)?;
        self.forget_old(times, now);
        if times.len() < self.max {
            return None;
        }
        let oldest = *times.front()?;
        let left = (oldest + self.window).saturating_duration_since(now);
        Some(left.max(Duration::from_secs(1)))
    }

    /// Records a failed authentication against `key`; returns how many it now has in the window.
    pub fn record_failure(&self, key: Key, now: Instant) -> usize {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if !failures.contains_key(&key) && failures.len() >= MAX_KEYS {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
            if failures.len() >= MAX_KEYS
                && let Some(stalest) = failures
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied())
                    .map(|(k, _)| *k)
            {
                failures.remove(&stalest);
            }
        }
        let times = failures.entry(key).or_default();
        self.forget_old(times, now);
        times.push_back(now);
        // Never more than the limit plus one is needed to know an address is over it.
        while times.len() > self.max + 1 {
            times.pop_front();
        }
        times.len()
    }

    fn forget_old(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(last: u8) -> Key {
        Key::Address(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn an_address_is_refused_after_too_many_failures_until_the_window_passes() {
        let limiter = AuthLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(limiter.blocked(addr(1), t0), None, "failure {i}");
            limiter.record_failure(addr(1), t0);
        }
        let wait = limiter
            .blocked(addr(1), t0 + Duration::from_secs(10))
            .unwrap();
        assert_eq!(wait, Duration::from_secs(50));
        // Another address is not affected.
        assert_eq!(limiter.blocked(addr(2), t0), None);
        // Once the window has passed, the address may try again.
        assert_eq!(limiter.blocked(addr(1), t0 + Duration::from_secs(60)), None);
    }

    #[test]
    fn memory_stays_bounded() {
        let limiter = AuthLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS as u32 + 500) {
            limiter.record_failure(Key::Address(IpAddr::from(i.to_be_bytes())), t0);
        }
        assert!(limiter.failures.lock().unwrap().len() <= MAX_KEYS);
    }
}
