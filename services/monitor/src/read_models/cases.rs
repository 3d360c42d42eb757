//! CASES → `cases`, `task_statuses`, `task_claims`, `task_dues`. History rows are keyed by the
//! event (and condition), so a redelivery adds nothing; a case's current municipality, open or
//! closed state and expected release are each last-writer-wins by (event time, event id), so the
//! events may arrive in any order. Events this monitor does not know are skipped.

use chrono::{DateTime, Utc};
use rcn_contracts::casework_api::CloseReason;
use rcn_contracts::casework_events::{
    AssignmentChange, CaseClosed, CaseRescheduled, TaskAssigned, TaskDeadline, TaskStatusChanged,
};
use rcn_contracts::events::{CaseOpened, CaseUpdated};
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode};
use rcn_runtime::consumer::{Delivery, Handler, HandlerError};
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug)]
pub struct Cases {
    pub pool: PgPool,
    /// `rcn.<region>.casework.`
    pub prefix: String,
}

impl Handler for Cases {
    type Message = serde_json::Value;

    async fn handle(&self, batch: &[Delivery<serde_json::Value>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        crate::counters::lock(&mut tx).await?;
        let mut touched = Vec::with_capacity(batch.len());
        for d in batch {
            let Some(rest) = d.subject.strip_prefix(&self.prefix) else {
                continue;
            };
            let event = rest.split('.').next().unwrap_or_default();
            touched.extend(apply(&mut tx, event, &d.message).await?);
        }
        touched.sort_unstable();
        touched.dedup();
        crate::counters::refresh_cases(&mut tx, &touched).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn decode<T: DeserializeOwned>(what: &str, v: &serde_json::Value) -> Result<T, HandlerError> {
    serde_json::from_value(v.clone()).map_err(|e| super::undecodable(what, e))
}

async fn apply(
    tx: &mut PgConnection,
    event: &str,
    v: &serde_json::Value,
) -> Result<Option<Uuid>, HandlerError> {
    let case_id = v
        .get("case_id")
        .and_then(|c| c.as_str())
        .and_then(|c| Uuid::parse_str(c).ok());
    match event {
        "case_opened" => {
            let e: CaseOpened = decode("case_opened", v)?;
            municipality(tx, e.case_id, &e.gemeentecode, e.opened_at, e.event_id).await?;
            sqlx::query!(
                "UPDATE cases SET first_opened_at = $2, notice_received_at = $3
                 WHERE case_id = $1 AND (first_opened_at IS NULL OR $2 < first_opened_at)",
                e.case_id,
                e.opened_at,
                e.notice_received_at,
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                "UPDATE cases SET opened_at = $2, closed = false, close_reason = NULL,
                                  state_at = $2, state_event = $3
                 WHERE case_id = $1 AND (state_at IS NULL OR ($2, $3) > (state_at, state_event))",
                e.case_id,
                e.opened_at,
                e.event_id,
            )
            .execute(&mut *tx)
            .await?;
            release(
                tx,
                e.case_id,
                e.expected_release_on,
                e.spoed,
                e.opened_at,
                e.event_id,
            )
            .await?;
            for c in &e.conditions {
                status(
                    tx,
                    e.event_id,
                    e.case_id,
                    c.condition,
                    c.status,
                    e.opened_at,
                )
                .await?;
            }
        }
        "case_updated" => {
            let e: CaseUpdated = decode("case_updated", v)?;
            municipality(tx, e.case_id, &e.gemeentecode, e.updated_at, e.event_id).await?;
        }
        "case_rescheduled" => {
            let e: CaseRescheduled = decode("case_rescheduled", v)?;
            municipality(tx, e.case_id, &e.gemeentecode, e.at, e.event_id).await?;
            release(
                tx,
                e.case_id,
                e.expected_release_on,
                e.spoed,
                e.at,
                e.event_id,
            )
            .await?;
            for due in &e.due {
                due_on(tx, e.event_id, e.case_id, due.condition, due.due_on, e.at).await?;
            }
        }
        "case_closed" => {
            let e: CaseClosed = decode("case_closed", v)?;
            municipality(tx, e.case_id, &e.gemeentecode, e.closed_at, e.event_id).await?;
            sqlx::query!(
                "UPDATE cases SET closed = true, close_reason = $4, state_at = $2, state_event = $3
                 WHERE case_id = $1 AND (state_at IS NULL OR ($2, $3) > (state_at, state_event))",
                e.case_id,
                e.closed_at,
                e.event_id,
                e.reason as CloseReason,
            )
            .execute(&mut *tx)
            .await?;
        }
        "task_assigned" => {
            let e: TaskAssigned = decode("task_assigned", v)?;
            municipality(tx, e.case_id, &e.gemeentecode, e.at, e.event_id).await?;
            let held = e.holder.is_some()
                && !matches!(
                    e.change,
                    AssignmentChange::Unclaimed | AssignmentChange::Lapsed
                );
            sqlx::query!(
                "INSERT INTO task_claims (event_id, case_id, condition, change, held, at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
                e.event_id,
                e.case_id,
                e.condition as Condition,
                e.change as AssignmentChange,
                held,
                e.at,
            )
            .execute(&mut *tx)
            .await?;
        }
        "task_status_changed" => {
            let e: TaskStatusChanged = decode("task_status_changed", v)?;
            municipality(tx, e.case_id, &e.gemeentecode, e.at, e.event_id).await?;
            status(tx, e.event_id, e.case_id, e.condition, e.to, e.at).await?;
        }
        "task_due_soon" | "task_overdue" => {
            let e: TaskDeadline = decode(event, v)?;
            municipality(tx, e.case_id, &e.gemeentecode, e.raised_at, e.event_id).await?;
            due_on(
                tx,
                e.event_id,
                e.case_id,
                e.condition,
                Some(e.due_on),
                e.raised_at,
            )
            .await?;
        }
        _ => return Ok(None),
    }
    Ok(case_id)
}

/// The case's municipality, as of its latest event; creates the row when this is the first
/// event of the case to arrive.
async fn municipality(
    tx: &mut PgConnection,
    case_id: Uuid,
    gemeentecode: &Gemeentecode,
    at: DateTime<Utc>,
    event_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO cases (case_id, gemeentecode, gemeente_at, gemeente_event) VALUES ($1, $2, $3, $4)
         ON CONFLICT (case_id) DO UPDATE
         SET gemeentecode = EXCLUDED.gemeentecode, gemeente_at = EXCLUDED.gemeente_at,
             gemeente_event = EXCLUDED.gemeente_event
         WHERE (EXCLUDED.gemeente_at, EXCLUDED.gemeente_event) > (cases.gemeente_at, cases.gemeente_event)",
        case_id,
        gemeentecode as &Gemeentecode,
        at,
        event_id,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn release(
    tx: &mut PgConnection,
    case_id: Uuid,
    release_on: Option<chrono::NaiveDate>,
    spoed: bool,
    at: DateTime<Utc>,
    event_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET release_on = $2, spoed = $3, release_at = $4, release_event = $5
         WHERE case_id = $1 AND (release_at IS NULL OR ($4, $5) > (release_at, release_event))",
        case_id,
        release_on,
        spoed,
        at,
        event_id,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn status(
    tx: &mut PgConnection,
    event_id: Uuid,
    case_id: Uuid,
    condition: Condition,
    status: ConditionStatus,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO task_statuses (event_id, condition, case_id, status, at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, condition) DO NOTHING",
        event_id,
        condition as Condition,
        case_id,
        status as ConditionStatus,
        at,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn due_on(
    tx: &mut PgConnection,
    event_id: Uuid,
    case_id: Uuid,
    condition: Condition,
    due_on: Option<chrono::NaiveDate>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO task_dues (event_id, condition, case_id, due_on, at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, condition) DO NOTHING",
        event_id,
        condition as Condition,
        case_id,
        due_on,
        at,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
