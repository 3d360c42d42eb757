//! The one back-off policy of rcn, on the `backon` crate: wait a first delay, double it after
//! every further failure up to a cap, optionally for a bounded number of retries, with jitter
//! where several retriers may collide. Every retry loop in the services and the runtime takes
//! its delays from a [`Backoff`] named here, so the constants are read in one place rather than
//! picked per loop.
//!
//! Two ways to use it: a closure retried with [`Retryable::retry`] and [`Backoff::builder`]
//! (casework's transient conflicts, the address register, connecting at start-up), or, in a loop
//! that must also watch for shutdown, the delays one by one from [`Backoff::delays`].
//!
//! It is not a circuit breaker: the router's `breaker.rs` stops asking a register that keeps
//! failing, which no back-off does.

use std::time::Duration;

pub use backon::{BackoffBuilder, ExponentialBuilder, Retryable};

/// Exponential delays: `first`, then doubling up to `max`; `retries` of them at most (without
/// limit when `None`), each plus up to as much again at random when `jitter` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub retries: Option<usize>,
    pub jitter: bool,
}

impl Backoff {
    /// Delays from `first` doubling up to `max`, without limit and without jitter.
    pub const fn exponential(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            retries: None,
            jitter: false,
        }
    }

    /// At most `retries` delays (so `retries + 1` attempts).
    pub const fn retries(self, retries: usize) -> Self {
        Self {
            retries: Some(retries),
            ..self
        }
    }

    /// Each delay plus up to as much again at random, so retriers that collided do not collide
    /// again in step.
    pub const fn with_jitter(self) -> Self {
        Self {
            jitter: true,
            ..self
        }
    }

    /// The policy as backon's builder, for [`Retryable::retry`].
    pub fn builder(self) -> ExponentialBuilder {
        let b = ExponentialBuilder::new()
            .with_min_delay(self.first)
            .with_max_delay(self.max)
            .with_factor(2.0);
        let b = match self.retries {
            Some(n) => b.with_max_times(n),
            None => b.without_max_times(),
        };
        if self.jitter { b.with_jitter() } else { b }
    }

    /// The delays one by one; `None` once the retries are used up.
    pub fn delays(self) -> impl Iterator<Item = Duration> + Send {
        self.builder().build()
    }
}

/// Connecting to NATS or PostgreSQL while a service starts (within its patience) or while
/// PostgreSQL comes back during migrations.
pub const STARTUP: Backoff =
    Backoff::exponential(Duration::from_millis(100), Duration::from_secs(2));

/// Creating a stream another service is creating at the same moment: the loser updates on its
/// second try.
pub const STREAM_RACE: Backoff =
    Backoff::exponential(Duration::from_millis(50), Duration::from_millis(50)).retries(1);

/// Opening a durable consumer again after the server refused or lost it.
pub const CONSUMER_OPEN: Backoff =
    Backoff::exponential(Duration::from_millis(200), Duration::from_secs(5));

/// The outbox relay after a round in which the broker did not take its events.
pub const OUTBOX_RELAY: Backoff =
    Backoff::exponential(Duration::from_millis(200), Duration::from_secs(5));

/// A transaction PostgreSQL aborted to resolve a deadlock or serialization failure: 10, 20, 40,
/// 80 ms (plus jitter), four retries, then the caller is told to try again.
pub const TRANSIENT_CONFLICT: Backoff =
    Backoff::exponential(Duration::from_millis(10), Duration::from_millis(80))
        .retries(4)
        .with_jitter();

/// An outside HTTP register (the router's address register): from 100 ms, doubling; the number
/// of retries is the register's setting.
pub const OUTSIDE_REGISTER: Backoff =
    Backoff::exponential(Duration::from_millis(100), Duration::from_secs(10));

/// Waiting for something another task is about to write (intake's receipt of a resend that
/// raced its first copy): every 100 ms, 20 times.
pub const SHORT_POLL: Backoff =
    Backoff::exponential(Duration::from_millis(100), Duration::from_millis(100)).retries(20);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stop_after_the_retries() {
        let d: Vec<_> =
            Backoff::exponential(Duration::from_millis(100), Duration::from_millis(500))
                .retries(5)
                .delays()
                .collect();
        let ms: Vec<u128> = d.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 200, 400, 500, 500]);
        assert_eq!(STARTUP.delays().take(100).count(), 100, "no limit");
        assert_eq!(SHORT_POLL.delays().count(), 20);
        assert!(SHORT_POLL.delays().all(|d| d == Duration::from_millis(100)));
    }

    #[test]
    fn jitter_stays_within_as_much_again() {
        for _ in 0..50 {
            let d: Vec<u128> = TRANSIENT_CONFLICT.delays().map(|d| d.as_millis()).collect();
            assert_eq!(d.len(), 4);
            for (got, base) in d.iter().zip([10u128, 20, 40, 80]) {
                assert!((base..=2 * base).contains(got), "{got} ms for {base} ms");
            }
        }
    }

    #[tokio::test]
    async fn a_closure_is_retried_only_while_the_error_says_so() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let runs = AtomicU32::new(0);
        let quick =
            Backoff::exponential(Duration::from_millis(1), Duration::from_millis(2)).retries(3);
        let out: Result<(), &str> = (|| async {
            runs.fetch_add(1, Ordering::SeqCst);
            Err("again")
        })
        .retry(quick.builder())
        .await;
        assert_eq!((out, runs.load(Ordering::SeqCst)), (Err("again"), 4));
        runs.store(0, Ordering::SeqCst);
        let out: Result<(), &str> = (|| async {
            runs.fetch_add(1, Ordering::SeqCst);
            Err("final")
        })
        .retry(quick.builder())
        .when(|e| *e == "again")
        .await;
        assert_eq!((out, runs.load(Ordering::SeqCst)), (Err("final"), 1));
    }
}
