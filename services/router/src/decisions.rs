//! The router's consumer: one decision per accepted notice, recorded with its rule, inputs and
//! reason, and announced on ROUTING in the same transaction (outbox).

use chrono::Utc;
use rcn_contracts::events::{NoticeAccepted, NoticeRouted, RoutingOutcome};
use rcn_contracts::region::RegionTable;
use rcn_contracts::{SCHEMA_VERSION, Subjects};
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use rcn_runtime::{Ctx, outbox};
use sqlx::PgPool;
use uuid::Uuid;

use crate::rules;

pub fn spec(ctx: &Ctx) -> ConsumerSpec {
    let s = ctx.subjects();
    let mut spec = ConsumerSpec::new(&s, s.notices_stream(), "router", s.notice_accepted(), "router");
    spec.batch = ctx.config.consumer_batch;
    spec.workers = ctx.config.consumer_workers;
    spec
}

pub struct Router {
    pub pool: PgPool,
    pub region: RegionTable,
    pub subjects: Subjects,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").field("region", &self.region.name).finish_non_exhaustive()
    }
}

impl Handler for Router {
    type Message = NoticeAccepted;

    async fn handle(&self, batch: &[Delivery<NoticeAccepted>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        for d in batch {
            let accepted = &d.message;
            let decision = rules::decide(&self.region, &accepted.notice);
            let (outcome, gemeentecode, subject) = match &decision.outcome {
                RoutingOutcome::Routed { gemeentecode } => ("routed", Some(gemeentecode), self.subjects.routed(gemeentecode)),
                RoutingOutcome::OutOfRegion { gemeentecode } => {
                    ("out_of_region", Some(gemeentecode), self.subjects.out_of_region(gemeentecode))
                }
                RoutingOutcome::Unroutable => ("unroutable", None, self.subjects.unroutable()),
            };
            let decided_at = Utc::now();
            // The notice key makes this idempotent: a redelivered notice finds its decision and
            // produces no second event.
            let inserted = sqlx::query(
                "INSERT INTO decisions (notice_key, episode_key, outcome, gemeentecode, rule, reason, ambiguous,
                                        inputs, decided_at, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (notice_key) DO NOTHING",
            )
            .bind(&accepted.notice_key)
            .bind(&accepted.episode_key)
            .bind(outcome)
            .bind(gemeentecode.map(|g| g.as_str()))
            .bind(decision.rule.as_str())
            .bind(&decision.reason)
            .bind(decision.ambiguous)
            .bind(sqlx::types::Json(inputs(accepted)))
            .bind(decided_at)
            .bind(accepted.received_at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !inserted {
                continue;
            }
            let event = NoticeRouted {
                schema_version: SCHEMA_VERSION,
                event_id: Uuid::now_v7(),
                notice_key: accepted.notice_key.clone(),
                person_key: accepted.person_key.clone(),
                episode_key: accepted.episode_key.clone(),
                outcome: decision.outcome.clone(),
                rule: decision.rule,
                reason: decision.reason.clone(),
                ambiguous: decision.ambiguous,
                decided_at,
                received_at: accepted.received_at,
                notice: accepted.notice.clone(),
            };
            outbox::enqueue(
                &mut tx,
                outbox::Event { event_id: event.event_id, subject, payload: &event, trace_id: d.trace_id.as_deref() },
            )
            .await?;
            tracing::info!(notice_key = %accepted.notice_key, trace_id = d.trace_id.as_deref(), outcome,
                gemeentecode = gemeentecode.map(|g| g.as_str()), rule = decision.rule.as_str(), "notice routed");
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The inputs the rules looked at, kept with the decision so it can be explained later. No BSN,
/// no name: only what routing uses.
fn inputs(accepted: &NoticeAccepted) -> serde_json::Value {
    let p = &accepted.notice.person;
    serde_json::json!({
        "brp_municipality": p.brp_municipality,
        "postcode": p.address.as_ref().map(|a| a.postcode.as_str()),
        "house_number": p.address.as_ref().map(|a| a.house_number),
        "no_fixed_abode": p.no_fixed_abode,
        "notice_kind": accepted.notice.kind.as_str(),
    })
}
