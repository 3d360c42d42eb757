//! Re-routing out of the region: when a later notice about an episode that has a case here is
//! routed to a municipality outside the region, the case closes as `moved_out_of_region` (its
//! claims and the municipality's access end with it) and the notice is kept with the case.
//!
//! A later notice routed back into the region reopens the case ([`crate::reopening`]); an
//! out-of-region notice older than one the case already has changes nothing.
//!
//! A separate durable consumer on `routing.out_of_region.*`, because nats-server 2.9 allows one
//! filter subject per consumer. Notices for people without a case here change nothing.

use std::sync::Arc;

use rcn_contracts::NoticeKind;
use rcn_contracts::casework_api::{CaseStatus, CloseReason};
use rcn_contracts::events::{NoticeRouted, RoutingOutcome};
use rcn_runtime::Config;
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};

use crate::closing;
use crate::state::Casework;

pub fn spec(config: &Config) -> ConsumerSpec {
    let s = config.region.subjects();
    let mut spec = ConsumerSpec::new(
        &s,
        s.routing_stream(),
        "casework-out-of-region",
        s.out_of_region_any(),
        "casework",
    );
    spec.batch = config.consumer_batch;
    spec.workers = 1;
    spec
}

/// Closes open cases whose person is now routed outside the region.
pub struct MovedOut(pub Arc<Casework>);

impl std::fmt::Debug for MovedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MovedOut")
    }
}

impl Handler for MovedOut {
    type Message = NoticeRouted;

    async fn handle(&self, batch: &[Delivery<NoticeRouted>]) -> Result<(), HandlerError> {
        let mut tx = self.0.pool.begin().await?;
        for d in batch {
            let routed = &d.message;
            let RoutingOutcome::OutOfRegion { gemeentecode } = &routed.outcome else {
                continue;
            };
            let case = sqlx::query!(
                r#"SELECT case_id, status AS "status: CaseStatus" FROM cases WHERE episode_key = $1 FOR UPDATE"#,
                routed.episode_key,
            )
            .fetch_optional(&mut *tx)
            .await?;
            let Some(case) = case else {
                continue;
            };
            let case_id = case.case_id;
            let applied = sqlx::query!(
                "INSERT INTO case_notices (notice_key, case_id, kind, sent_at, received_at, applied_at)
                 VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (notice_key) DO NOTHING",
                routed.notice_key,
                case_id,
                routed.notice.kind as NoticeKind,
                routed.notice.sent_at,
                routed.received_at,
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if applied == 0 || case.status != CaseStatus::Open {
                continue;
            }
            // Notices take effect in the order they were sent: one the case already has from
            // after this one (routing the person into the region again) has the last word.
            let newer = sqlx::query_scalar!(
                "SELECT 1 FROM case_notices WHERE case_id = $1 AND notice_key <> $2 AND sent_at > $3 LIMIT 1",
                case_id,
                routed.notice_key,
                routed.notice.sent_at,
            )
            .fetch_optional(&mut *tx)
            .await?;
            if newer.is_some() {
                tracing::info!(%case_id, notice_key = %routed.notice_key, "out-of-region notice is older than one already applied; attached without changes");
                continue;
            }
            let by = format!("notice:{}", routed.notice_key);
            let note = format!(
                "routed out of the region to {gemeentecode}: {}",
                routed.reason
            );
            closing::close(
                &mut tx,
                &self.0.subjects,
                case_id,
                CloseReason::MovedOutOfRegion,
                &by,
                Some(&note),
            )
            .await
            .map_err(crate::updates::handler_error)?;
            tracing::info!(%case_id, notice_key = %routed.notice_key, to = %gemeentecode, "case closed: person moved out of the region");
        }
        tx.commit().await?;
        Ok(())
    }
}
