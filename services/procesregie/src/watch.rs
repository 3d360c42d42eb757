//! Reads casework's events on CASES into procesregie's own picture of each case
//! (`watched_cases`, `watched_conditions`, `overdue_conditions`): openings, risk flags (their own
//! subject, `risk_flags_noted`), status changes, new release dates, deadline reminders and
//! closures. After each it applies the suggestion rules to the case (`crate::suggestions`). One
//! durable consumer over `rcn.<region>.casework.>` with one worker, so a case's events are
//! applied in order; each message applied once (keyed by its `event_id`) in the batch's
//! transaction. It never reads casework's tables.

use chrono::{DateTime, Utc};
use rcn_contracts::casework_events::{
    CaseClosed, CaseRescheduled, DeadlineKind, RiskFlagsNoted, TaskDeadline, TaskStatusChanged,
};
use rcn_contracts::events::CaseOpened;
use rcn_contracts::{Condition, ConditionStatus};
use rcn_runtime::Config;
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::Procesregie;

/// The durable consumer's name.
pub const DURABLE: &str = "procesregie-cases";

/// Every casework event; one consumer, one filter (nats-server 2.9).
pub fn spec(config: &Config) -> ConsumerSpec {
    let subjects = config.region.subjects();
    let stream = subjects.cases_stream();
    let filter = stream.subjects[0].clone();
    let mut spec = ConsumerSpec::new(&subjects, stream, DURABLE, filter, "procesregie");
    // In order: a status change must not overtake the opening of its case.
    spec.workers = 1;
    spec.batch = config.consumer_batch;
    spec
}

impl Handler for Procesregie {
    type Message = serde_json::Value;

    async fn handle(&self, batch: &[Delivery<serde_json::Value>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        for d in batch {
            self.apply(&mut tx, d).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The event kind: the subject's token after `casework.`.
fn kind(subject: &str) -> &str {
    subject
        .split_once(".casework.")
        .map(|(_, rest)| rest.split('.').next().unwrap_or(rest))
        .unwrap_or("")
}

fn decode<T: DeserializeOwned>(d: &Delivery<serde_json::Value>) -> Result<T, HandlerError> {
    serde_json::from_value(d.message.clone()).map_err(|e| {
        HandlerError::Permanent(anyhow::anyhow!(
            "a {} event does not decode: {e}",
            kind(&d.subject)
        ))
    })
}

impl Procesregie {
    async fn apply(
        &self,
        tx: &mut PgConnection,
        d: &Delivery<serde_json::Value>,
    ) -> Result<(), HandlerError> {
        let Some(event_id) = d
            .message
            .get("event_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "a casework event without an event_id"
            )));
        };
        let first = sqlx::query!(
            "INSERT INTO applied_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING",
            event_id
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !first {
            return Ok(());
        }
        let (case_id, at) = match kind(&d.subject) {
            "case_opened" => {
                let e: CaseOpened = decode(d)?;
                self.case_opened(tx, &e).await?;
                (e.case_id, e.opened_at)
            }
            "risk_flags_noted" => {
                let e: RiskFlagsNoted = decode(d)?;
                watch(tx, e.case_id, &e.episode_key, e.gemeentecode.as_str()).await?;
                // A later notice may bring more flags: the case keeps every flag it was ever
                // noted with (a redelivered event adds nothing).
                sqlx::query!(
                    "UPDATE watched_cases
                     SET risk_flags = (SELECT coalesce(jsonb_agg(DISTINCT f ORDER BY f), '[]'::jsonb)
                                       FROM jsonb_array_elements(risk_flags || $2::jsonb) AS f),
                         person_key = coalesce(person_key, $3)
                     WHERE case_id = $1",
                    e.case_id,
                    Json(&e.risk_flags) as _,
                    &e.person_key,
                )
                .execute(&mut *tx)
                .await?;
                (e.case_id, e.noted_at)
            }
            "task_status_changed" => {
                let e: TaskStatusChanged = decode(d)?;
                watch(tx, e.case_id, &e.episode_key, e.gemeentecode.as_str()).await?;
                condition(tx, e.case_id, e.condition, e.to, e.at).await?;
                (e.case_id, e.at)
            }
            "case_rescheduled" => {
                let e: CaseRescheduled = decode(d)?;
                watch(tx, e.case_id, &e.episode_key, e.gemeentecode.as_str()).await?;
                sqlx::query!(
                    "UPDATE watched_cases SET expected_release_on = $2, spoed = $3 WHERE case_id = $1",
                    e.case_id,
                    e.expected_release_on,
                    e.spoed,
                )
                .execute(&mut *tx)
                .await?;
                (e.case_id, e.at)
            }
            "task_overdue" | "task_due_soon" => {
                let e: TaskDeadline = decode(d)?;
                watch(tx, e.case_id, &e.episode_key, e.gemeentecode.as_str()).await?;
                condition(tx, e.case_id, e.condition, e.status, e.raised_at).await?;
                sqlx::query!(
                    "UPDATE watched_cases SET spoed = spoed OR $2 WHERE case_id = $1",
                    e.case_id,
                    e.spoed,
                )
                .execute(&mut *tx)
                .await?;
                if e.kind == DeadlineKind::Overdue {
                    sqlx::query!(
                        "INSERT INTO overdue_conditions (case_id, condition, due_on, raised_at)
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        e.case_id,
                        e.condition as Condition,
                        e.due_on,
                        e.raised_at,
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                (e.case_id, e.raised_at)
            }
            "case_closed" => {
                let e: CaseClosed = decode(d)?;
                watch(tx, e.case_id, &e.episode_key, e.gemeentecode.as_str()).await?;
                // The closure starts the retention clock (`crate::retention`); the first
                // closure counts, a redelivered one changes nothing.
                sqlx::query!(
                    "UPDATE watched_cases SET open = false, closed_at = $2, closed_reason = $3
                     WHERE case_id = $1 AND open",
                    e.case_id,
                    e.closed_at,
                    e.reason.as_str(),
                )
                .execute(&mut *tx)
                .await?;
                return Ok(());
            }
            // Claims and later notices change nothing the rules look at.
            _ => return Ok(()),
        };
        self.evaluate(tx, case_id, at).await?;
        Ok(())
    }

    /// A case opened, reopened, or moved to another municipality (casework announces a move as
    /// an opening on the new municipality's subject): the case is open and the new
    /// municipality's, and so is what procesregie raised about it. The old municipality's staff
    /// lose the case's suggestions with the case; applications made for the case follow it too
    /// (their applicant keeps them as applicant).
    async fn case_opened(&self, tx: &mut PgConnection, e: &CaseOpened) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "INSERT INTO watched_cases (case_id, episode_key, person_key, gemeentecode, expected_release_on, spoed)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (case_id) DO UPDATE SET gemeentecode = EXCLUDED.gemeentecode,
                 person_key = coalesce(EXCLUDED.person_key, watched_cases.person_key),
                 expected_release_on = EXCLUDED.expected_release_on, spoed = EXCLUDED.spoed, open = true,
                 closed_at = NULL, closed_reason = NULL",
            e.case_id,
            &e.episode_key,
            e.person_key.as_deref(),
            e.gemeentecode.as_str(),
            e.expected_release_on,
            e.spoed,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE suggestions SET gemeentecode = $2 WHERE case_id = $1 AND gemeentecode <> $2",
            e.case_id,
            e.gemeentecode.as_str(),
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE applications SET gemeentecode = $2
             WHERE case_id = $1 AND gemeentecode IS DISTINCT FROM $2",
            e.case_id,
            e.gemeentecode.as_str(),
        )
        .execute(&mut *tx)
        .await?;
        for c in &e.conditions {
            condition(tx, e.case_id, c.condition, c.status, e.opened_at).await?;
        }
        Ok(())
    }
}

/// Makes sure the case is watched (an event may overtake its case's opening after a redelivery).
async fn watch(
    tx: &mut PgConnection,
    case_id: Uuid,
    episode_key: &str,
    gemeentecode: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO watched_cases (case_id, episode_key, gemeentecode) VALUES ($1, $2, $3)
         ON CONFLICT (case_id) DO NOTHING",
        case_id,
        episode_key,
        gemeentecode,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A condition's status as of `at`; an older word never overwrites a newer one.
async fn condition(
    tx: &mut PgConnection,
    case_id: Uuid,
    condition: Condition,
    status: ConditionStatus,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO watched_conditions (case_id, condition, status, changed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (case_id, condition) DO UPDATE SET status = EXCLUDED.status, changed_at = EXCLUDED.changed_at
         WHERE watched_conditions.changed_at <= EXCLUDED.changed_at",
        case_id,
        condition as Condition,
        status as ConditionStatus,
        at,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_kind_is_the_token_after_casework() {
        assert_eq!(
            super::kind("rcn.t1.casework.case_opened.GM0392"),
            "case_opened"
        );
        assert_eq!(
            super::kind("rcn.t1.casework.risk_flags.GM0392"),
            "risk_flags"
        );
        assert_eq!(super::kind("rcn.t1.routing.routed.GM0392"), "");
    }
}
