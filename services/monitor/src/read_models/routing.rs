//! ROUTING → `routing`: per notice, when it was received, when it first waited in the manual
//! queue, the first decision that named a municipality (by the router or by hand), and when its
//! forward was acknowledged. Merged with LEAST / earliest-wins, so the events of one notice may
//! arrive in any order, and more than once. Other events on `routing.>` are skipped.

use chrono::{DateTime, Utc};
use rcn_contracts::Gemeentecode;
use rcn_contracts::events::{RoutingOutcome, RoutingOutcomeKind, RoutingRule};
use rcn_contracts::forwarding::ForwardAcknowledged;
use rcn_runtime::consumer::{Delivery, Handler, HandlerError};
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The part of a `NoticeRouted` the monitor keeps (the notice it carries is not decoded).
#[derive(Debug, Deserialize)]
struct Decision {
    event_id: Uuid,
    notice_key: String,
    #[serde(flatten)]
    outcome: RoutingOutcome,
    rule: RoutingRule,
    decided_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct Routing {
    pub pool: PgPool,
    /// `rcn.<region>.routing.`
    pub prefix: String,
}

impl Handler for Routing {
    type Message = serde_json::Value;

    async fn handle(&self, batch: &[Delivery<serde_json::Value>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        crate::counters::lock(&mut tx).await?;
        let mut keys = Vec::with_capacity(batch.len());
        for d in batch {
            let Some(event) = d.subject.strip_prefix(&self.prefix) else {
                continue;
            };
            if event == "unroutable"
                || event.starts_with("routed.")
                || event.starts_with("out_of_region.")
            {
                let decision: Decision = serde_json::from_value(d.message.clone())
                    .map_err(|e| super::undecodable("a routing decision", e))?;
                record_decision(&mut tx, &decision).await?;
                keys.push(decision.notice_key);
            } else if event == "forward_acknowledged" {
                let ack: ForwardAcknowledged = serde_json::from_value(d.message.clone())
                    .map_err(|e| super::undecodable("a forward acknowledgement", e))?;
                sqlx::query!(
                    "INSERT INTO routing (notice_key, acknowledged_at) VALUES ($1, $2)
                     ON CONFLICT (notice_key) DO UPDATE
                     SET acknowledged_at = LEAST(routing.acknowledged_at, EXCLUDED.acknowledged_at)",
                    &ack.notice_key,
                    ack.acknowledged_at,
                )
                .execute(&mut *tx)
                .await?;
                keys.push(ack.notice_key);
            }
        }
        keys.sort_unstable();
        keys.dedup();
        crate::counters::refresh_notices(&mut tx, &keys).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn record_decision(tx: &mut PgConnection, d: &Decision) -> Result<(), sqlx::Error> {
    let (outcome, gemeentecode) = match &d.outcome {
        RoutingOutcome::Unroutable => {
            sqlx::query!(
                "INSERT INTO routing (notice_key, received_at, unroutable_at) VALUES ($1, $2, $3)
                 ON CONFLICT (notice_key) DO UPDATE
                 SET received_at = COALESCE(routing.received_at, EXCLUDED.received_at),
                     unroutable_at = LEAST(routing.unroutable_at, EXCLUDED.unroutable_at)",
                &d.notice_key,
                d.received_at,
                d.decided_at,
            )
            .execute(&mut *tx)
            .await?;
            return Ok(());
        }
        RoutingOutcome::Routed { gemeentecode } => (RoutingOutcomeKind::Routed, gemeentecode),
        RoutingOutcome::OutOfRegion { gemeentecode } => {
            (RoutingOutcomeKind::OutOfRegion, gemeentecode)
        }
    };
    // The earliest decision stands (by time, then event id): a notice is decided once, but a
    // replay must give the same row whatever order the events come in. Every expression reads
    // the row as it was, so the order of the assignments does not matter.
    sqlx::query!(
        "INSERT INTO routing (notice_key, received_at, decided_at, decision_event, outcome, gemeentecode, rule)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (notice_key) DO UPDATE
         SET received_at = COALESCE(routing.received_at, EXCLUDED.received_at),
             outcome = CASE WHEN (routing.decided_at IS NULL OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (routing.decided_at, routing.decision_event))
                 THEN EXCLUDED.outcome ELSE routing.outcome END,
             gemeentecode = CASE WHEN (routing.decided_at IS NULL OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (routing.decided_at, routing.decision_event))
                 THEN EXCLUDED.gemeentecode ELSE routing.gemeentecode END,
             rule = CASE WHEN (routing.decided_at IS NULL OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (routing.decided_at, routing.decision_event))
                 THEN EXCLUDED.rule ELSE routing.rule END,
             decision_event = CASE WHEN (routing.decided_at IS NULL OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (routing.decided_at, routing.decision_event))
                 THEN EXCLUDED.decision_event ELSE routing.decision_event END,
             decided_at = CASE WHEN (routing.decided_at IS NULL OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (routing.decided_at, routing.decision_event))
                 THEN EXCLUDED.decided_at ELSE routing.decided_at END",
        &d.notice_key,
        d.received_at,
        d.decided_at,
        d.event_id,
        outcome as RoutingOutcomeKind,
        gemeentecode as &Gemeentecode,
        d.rule as RoutingRule,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
