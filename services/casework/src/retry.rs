//! Retrying a request whose transaction PostgreSQL aborted to break a deadlock (SQLSTATE 40P01)
//! or a serialization failure (40001).
//!
//! Casework locks a case's tasks in one order everywhere (case id, then condition name), so its
//! own requests should not deadlock; but PostgreSQL may still abort a transaction to resolve a
//! conflict it cannot order, and such an abort says nothing about the request: run again, it
//! succeeds or is refused for a real reason. So every API request is retried a few times with a
//! short growing pause; when the conflict persists the caller is told to try again
//! ([`crate::error::CaseworkError::to_api`]), never that something broke.

use std::future::Future;
use std::time::Duration;

use crate::error::Result;

/// How often a request is run at most.
pub const ATTEMPTS: u32 = 5;

/// Runs `attempt` until it succeeds, fails for a reason other than a transient conflict, or has
/// run [`ATTEMPTS`] times. Each attempt must be a whole transaction of its own.
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Err(e) if e.is_transient_conflict() && n < ATTEMPTS => {
                tracing::debug!(attempt = n, error = %e, "transient database conflict; trying again");
                tokio::time::sleep(pause(n)).await;
                n += 1;
            }
            outcome => return outcome,
        }
    }
}

/// 10, 20, 40, 80 ms, each plus up to as much again at random, so the requests that collided do
/// not collide again in step.
fn pause(attempt: u32) -> Duration {
    let base = 10u64 << (attempt - 1).min(4);
    let jitter = u64::from(uuid::Uuid::new_v4().as_u128() as u16) % base.max(1);
    Duration::from_millis(base + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CaseworkError, refuse};
    use rcn_contracts::casework_api::ErrorCode;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn pauses_grow_and_stay_short() {
        for n in 1..ATTEMPTS {
            let p = pause(n).as_millis() as u64;
            let base = 10u64 << (n - 1);
            assert!((base..2 * base).contains(&p), "attempt {n}: {p} ms");
        }
    }

    #[tokio::test]
    async fn a_refusal_is_answered_at_once() {
        let runs = AtomicU32::new(0);
        let out: Result<()> = retrying(|| async {
            runs.fetch_add(1, Ordering::SeqCst);
            Err(refuse(ErrorCode::BadRequest, "no"))
        })
        .await;
        assert!(matches!(out, Err(CaseworkError::Refused(_))));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
