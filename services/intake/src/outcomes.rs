//! What became of each notice: a second durable consumer, on the ROUTING stream, records the
//! router's latest decision per notice key, so a sender can ask (see [`crate::status`]).
//!
//! It keeps no personal data (outcome, municipality code, rule, time), and must never fail on a
//! message on `routing.>` that is not a decision: those are skipped, so the router may add
//! events there without intake dead-lettering them.

use chrono::{DateTime, Utc};
use rcn_contracts::events::{RoutingOutcome, RoutingOutcomeKind, RoutingRule};
use rcn_runtime::Config;
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use serde::Deserialize;
use sqlx::PgPool;

/// The durable name of intake's ROUTING consumer.
pub const DURABLE: &str = "intake-outcomes";

pub fn spec(config: &Config) -> ConsumerSpec {
    let s = config.region.subjects();
    let stream = s.routing_stream();
    // One filter subject per consumer (nats-server 2.9): the whole routing area.
    let filter = stream.subjects[0].clone();
    let mut spec = ConsumerSpec::new(&s, stream, DURABLE, filter, "intake");
    spec.batch = config.consumer_batch;
    spec.workers = 1;
    spec
}

/// The part of a `NoticeRouted` event intake needs; the notice itself is not read.
#[derive(Debug, Deserialize)]
struct Decision {
    event_id: uuid::Uuid,
    notice_key: String,
    #[serde(flatten)]
    outcome: RoutingOutcome,
    rule: RoutingRule,
    decided_at: DateTime<Utc>,
}

pub struct Outcomes {
    pub pool: PgPool,
    pub subjects: rcn_contracts::Subjects,
}

impl Outcomes {
    /// Whether `subject` carries a routing decision (routed / out of region / unroutable).
    fn is_decision(&self, subject: &str) -> bool {
        let prefix = format!("rcn.{}.routing.", self.subjects.region());
        subject.strip_prefix(&prefix).is_some_and(|rest| {
            rest == "unroutable"
                || rest.starts_with("routed.")
                || rest.starts_with("out_of_region.")
        })
    }
}

impl Handler for Outcomes {
    type Message = serde_json::Value;

    async fn handle(&self, batch: &[Delivery<serde_json::Value>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        for d in batch {
            if !self.is_decision(&d.subject) {
                tracing::debug!(subject = %d.subject, "not a routing decision; skipped");
                continue;
            }
            let decision: Decision = serde_json::from_value(d.message.clone()).map_err(|e| {
                HandlerError::Permanent(anyhow::anyhow!(
                    "a routing decision that does not decode: {e}"
                ))
            })?;
            // The latest decision wins: a notice first waiting in the manual queue is later
            // decided by hand. A redelivered older decision changes nothing.
            sqlx::query!(
                "INSERT INTO notice_outcomes (notice_key, outcome, gemeentecode, rule, decided_at, event_id)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (notice_key) DO UPDATE
                 SET outcome = EXCLUDED.outcome, gemeentecode = EXCLUDED.gemeentecode, rule = EXCLUDED.rule,
                     decided_at = EXCLUDED.decided_at, event_id = EXCLUDED.event_id
                 WHERE notice_outcomes.decided_at < EXCLUDED.decided_at",
                decision.notice_key,
                decision.outcome.kind() as RoutingOutcomeKind,
                decision.outcome.gemeentecode().map(|g| g.as_str()),
                decision.rule as RoutingRule,
                decision.decided_at,
                decision.event_id,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl std::fmt::Debug for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outcomes")
    }
}
