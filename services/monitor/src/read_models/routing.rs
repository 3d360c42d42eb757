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

use crate::counters::{Family, Figure, Touched};

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

    /// Decodes the whole batch first, then writes it in at most three statements (waits in the
    /// manual queue, decisions, acknowledgements), each reducing the batch's events of one notice
    /// the way one event after another would (earliest wins).
    async fn handle(&self, batch: &[Delivery<serde_json::Value>]) -> Result<(), HandlerError> {
        let mut waits = Rows::default();
        let mut decisions = Rows::default();
        let (mut acked, mut acked_at) = (Vec::new(), Vec::new());
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
                let named = match &decision.outcome {
                    RoutingOutcome::Unroutable => None,
                    RoutingOutcome::Routed { gemeentecode } => {
                        Some((RoutingOutcomeKind::Routed, gemeentecode.clone()))
                    }
                    RoutingOutcome::OutOfRegion { gemeentecode } => {
                        Some((RoutingOutcomeKind::OutOfRegion, gemeentecode.clone()))
                    }
                };
                match named {
                    None => waits.push(decision, None),
                    named @ Some(_) => decisions.push(decision, named),
                }
            } else if event == "forward_acknowledged" {
                let ack: ForwardAcknowledged = serde_json::from_value(d.message.clone())
                    .map_err(|e| super::undecodable("a forward acknowledgement", e))?;
                acked.push(ack.notice_key);
                acked_at.push(ack.acknowledged_at);
            }
        }
        let mut tx = self.pool.begin().await?;
        crate::counters::lock(&mut tx, Family::Notices).await?;
        let mut touched = Touched::default();
        if !waits.keys.is_empty() {
            record_waits(&mut tx, &waits).await?;
            for key in &waits.keys {
                touched.add(key, &Figure::NOTICE);
            }
        }
        if !decisions.keys.is_empty() {
            record_decisions(&mut tx, &decisions).await?;
            for key in &decisions.keys {
                touched.add(key, &Figure::NOTICE);
            }
        }
        // No figure counts acknowledgements (the RCN's list of forwards waiting reads `routing`
        // itself), so they touch no counter.
        if !acked.is_empty() {
            sqlx::query!(
                "INSERT INTO routing (notice_key, acknowledged_at)
                 SELECT notice_key, min(at) FROM unnest($1::text[], $2::timestamptz[]) AS a(notice_key, at)
                 GROUP BY notice_key
                 ON CONFLICT (notice_key) DO UPDATE
                 SET acknowledged_at = LEAST(routing.acknowledged_at, EXCLUDED.acknowledged_at)",
                &acked,
                &acked_at,
            )
            .execute(&mut *tx)
            .await?;
        }
        crate::counters::refresh_notices(&mut tx, touched).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Decisions of a batch, column by column (bound as arrays).
#[derive(Debug, Default)]
struct Rows {
    keys: Vec<String>,
    received_at: Vec<DateTime<Utc>>,
    decided_at: Vec<DateTime<Utc>>,
    event_id: Vec<Uuid>,
    outcome: Vec<RoutingOutcomeKind>,
    gemeentecode: Vec<Gemeentecode>,
    rule: Vec<RoutingRule>,
}

impl Rows {
    /// Adds `d`; `named` is the outcome and municipality of a decision that names one.
    fn push(&mut self, d: Decision, named: Option<(RoutingOutcomeKind, Gemeentecode)>) {
        self.keys.push(d.notice_key);
        self.received_at.push(d.received_at);
        self.decided_at.push(d.decided_at);
        self.event_id.push(d.event_id);
        self.rule.push(d.rule);
        if let Some((outcome, gemeentecode)) = named {
            self.outcome.push(outcome);
            self.gemeentecode.push(gemeentecode);
        }
    }
}

/// Notices that waited in the manual queue: the earliest wait stands.
async fn record_waits(tx: &mut PgConnection, w: &Rows) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO routing (notice_key, received_at, unroutable_at)
         SELECT notice_key, min(received_at), min(unroutable_at)
         FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS w(notice_key, received_at, unroutable_at)
         GROUP BY notice_key
         ON CONFLICT (notice_key) DO UPDATE
         SET received_at = COALESCE(routing.received_at, EXCLUDED.received_at),
             unroutable_at = LEAST(routing.unroutable_at, EXCLUDED.unroutable_at)",
        &w.keys,
        &w.received_at,
        &w.decided_at,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Decisions that name a municipality. The earliest decision stands (by time, then event id): a
/// notice is decided once, but a replay must give the same row whatever order the events come
/// in, so the batch's own decisions of one notice are reduced to their earliest first. Every
/// expression reads the row as it was, so the order of the assignments does not matter.
async fn record_decisions(tx: &mut PgConnection, d: &Rows) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO routing (notice_key, received_at, decided_at, decision_event, outcome, gemeentecode, rule)
         SELECT DISTINCT ON (notice_key) notice_key, received_at, decided_at, decision_event, outcome, gemeentecode, rule
         FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::uuid[], $5::text[], $6::text[], $7::text[])
              AS d(notice_key, received_at, decided_at, decision_event, outcome, gemeentecode, rule)
         ORDER BY notice_key, decided_at, decision_event
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
        &d.keys,
        &d.received_at,
        &d.decided_at,
        &d.event_id,
        &d.outcome as &[RoutingOutcomeKind],
        &d.gemeentecode as &[Gemeentecode],
        &d.rule as &[RoutingRule],
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
