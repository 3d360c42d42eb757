//! Retrying a request whose transaction PostgreSQL aborted to break a deadlock (SQLSTATE 40P01)
//! or a serialization failure (40001).
//!
//! Casework locks a case's tasks in one order everywhere (case id, then condition name), so its
//! own requests should not deadlock; but PostgreSQL may still abort a transaction to resolve a
//! conflict it cannot order, and such an abort says nothing about the request: run again, it
//! succeeds or is refused for a real reason. So every API request is retried a few times with a
//! short growing pause; when the conflict persists the caller is told to try again
//! ([`crate::error::CaseworkError::to_problem`]), never that something broke.

use std::future::Future;

use rcn_runtime::backoff::{Retryable, TRANSIENT_CONFLICT};

use crate::error::{CaseworkError, Result};

/// How often a request is run at most.
pub const ATTEMPTS: u32 = match TRANSIENT_CONFLICT.retries {
    Some(retries) => retries as u32 + 1,
    None => u32::MAX,
};

/// Runs `attempt` until it succeeds, fails for a reason other than a transient conflict, or has
/// run [`ATTEMPTS`] times, pausing as [`TRANSIENT_CONFLICT`] says (10, 20, 40, 80 ms, each plus
/// up to as much again at random, so the requests that collided do not collide again in step).
/// Each attempt must be a whole transaction of its own.
pub async fn retrying<T, F, Fut>(attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    attempt
        .retry(TRANSIENT_CONFLICT.builder())
        .when(CaseworkError::is_transient_conflict)
        .notify(|e, pause| {
            tracing::debug!(error = %e, ?pause, "transient database conflict; trying again");
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CaseworkError, refuse};
    use rcn_contracts::casework_api::ErrorCode;
    use std::sync::atomic::{AtomicU32, Ordering};

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
