//! A circuit breaker for an outside system: after `threshold` failed calls in a row it opens and
//! refuses calls for `cooldown`, so a system that is down costs each notice nothing instead of a
//! timeout per attempt; then it lets one call through (half-open) and closes again when that
//! call succeeds.
//!
//! Pure state behind a mutex, with the time passed in, so it is tested without sleeping. It must
//! never be held across an `.await`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Whether a call may go out now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Closed: call.
    Call,
    /// Half-open: this call is the one probe; its outcome decides whether the breaker closes.
    Probe,
    /// Open: do not call; the breaker lets a probe through from `until`.
    Refused { until: Instant },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out since `since`; a probe that never reports (its task was cancelled) is
    /// given up on after one more cool-down, so the breaker cannot stay half-open for ever.
    HalfOpen {
        since: Instant,
    },
}

#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    pub fn cooldown(&self) -> Duration {
        self.cooldown
    }

    /// Asks to call at `now`.
    pub fn permit(&self, now: Instant) -> Permit {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Permit::Call,
            State::Open { until } if now < until => Permit::Refused { until },
            State::HalfOpen { since } if now < since + self.cooldown => Permit::Refused {
                until: since + self.cooldown,
            },
            State::Open { .. } | State::HalfOpen { .. } => {
                *state = State::HalfOpen { since: now };
                Permit::Probe
            }
        }
    }

    /// The call succeeded (the system answered, whatever it said): close.
    pub fn succeeded(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    /// The call failed at `now`; returns true when this failure opened the breaker.
    pub fn failed(&self, now: Instant) -> bool {
        let mut state = self.lock();
        let failures = match *state {
            State::Closed { failures } => failures + 1,
            // A failed probe, or a call that started before the breaker opened: (re)open.
            State::HalfOpen { .. } | State::Open { .. } => self.threshold,
        };
        if failures >= self.threshold {
            let was_open = matches!(*state, State::Open { .. });
            *state = State::Open {
                until: now + self.cooldown,
            };
            !was_open
        } else {
            *state = State::Closed { failures };
            false
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a few plain values; a panic elsewhere cannot leave it half-written.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(30);

    #[test]
    fn it_opens_after_the_threshold_of_failures_in_a_row() {
        let b = CircuitBreaker::new(3, COOL);
        let t = Instant::now();
        assert!(!b.failed(t));
        assert!(!b.failed(t));
        assert_eq!(b.permit(t), Permit::Call);
        assert!(b.failed(t), "the third failure opens it");
        assert_eq!(b.permit(t), Permit::Refused { until: t + COOL });
        assert_eq!(
            b.permit(t + COOL - Duration::from_millis(1)),
            Permit::Refused { until: t + COOL }
        );
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = CircuitBreaker::new(2, COOL);
        let t = Instant::now();
        b.failed(t);
        b.succeeded();
        assert!(!b.failed(t), "one failure after a success does not open it");
        assert_eq!(b.permit(t), Permit::Call);
    }

    #[test]
    fn after_the_cooldown_one_probe_goes_out_and_decides() {
        let b = CircuitBreaker::new(1, COOL);
        let t = Instant::now();
        b.failed(t);
        let later = t + COOL;
        assert_eq!(b.permit(later), Permit::Probe);
        assert!(
            matches!(b.permit(later), Permit::Refused { .. }),
            "only one probe at a time"
        );
        assert!(b.failed(later), "a failed probe opens it again");
        assert!(matches!(
            b.permit(later + Duration::from_secs(1)),
            Permit::Refused { .. }
        ));
        assert_eq!(b.permit(later + COOL), Permit::Probe);
        b.succeeded();
        assert_eq!(b.permit(later + COOL), Permit::Call);
    }

    #[test]
    fn a_probe_that_never_reports_is_given_up_on_after_a_cooldown() {
        let b = CircuitBreaker::new(1, COOL);
        let t = Instant::now();
        b.failed(t);
        assert_eq!(b.permit(t + COOL), Permit::Probe);
        assert_eq!(b.permit(t + COOL + COOL), Permit::Probe);
    }
}
