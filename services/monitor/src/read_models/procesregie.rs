//! PROCESREGIE → `applications`, `icos`: per application when it was submitted and what the
//! triage decided; per ICO when it opened and why it closed. The earliest submission and opening
//! stand (LEAST), and the earliest decision and closure by (time, event id), so the events of one
//! application or ICO may arrive in any order and more than once. A municipality, once known,
//! stays. Events the figures do not use (actions, reviews, overdue reminders) are skipped.
//!
//! Procesregie's events carry no names, BSN or free text; the `procesregisseur` of `ico_opened`
//! is not decoded.

use chrono::{DateTime, NaiveDate, Utc};
use rcn_contracts::Gemeentecode;
use rcn_contracts::procesregie_api::{IcoCloseReason, TriageOutcome};
use rcn_contracts::procesregie_events::ProcesregieEvent;
use rcn_runtime::consumer::{Delivery, Handler, HandlerError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug)]
pub struct Procesregie {
    pub pool: PgPool,
    /// `rcn.<region>.procesregie.`
    pub prefix: String,
}

/// The part of an `ApplicationSubmitted` the monitor keeps.
#[derive(Debug, Deserialize)]
struct Submitted {
    application_id: Uuid,
    #[serde(default)]
    gemeentecode: Option<Gemeentecode>,
    submitted_at: DateTime<Utc>,
}

/// The part of an `ApplicationTriaged` the monitor keeps.
#[derive(Debug, Deserialize)]
struct Triaged {
    event_id: Uuid,
    application_id: Uuid,
    #[serde(default)]
    gemeentecode: Option<Gemeentecode>,
    triage_on: NaiveDate,
    outcome: TriageOutcome,
    submitted_at: DateTime<Utc>,
    decided_at: DateTime<Utc>,
}

/// The part of an `IcoOpened` the monitor keeps (not the procesregisseur).
#[derive(Debug, Deserialize)]
struct Opened {
    ico_id: Uuid,
    #[serde(default)]
    gemeentecode: Option<Gemeentecode>,
    opened_at: DateTime<Utc>,
}

/// The part of an `IcoClosed` the monitor keeps.
#[derive(Debug, Deserialize)]
struct Closed {
    event_id: Uuid,
    ico_id: Uuid,
    reason: IcoCloseReason,
    opened_at: DateTime<Utc>,
    closed_at: DateTime<Utc>,
}

fn decode<T: DeserializeOwned>(what: &str, v: &serde_json::Value) -> Result<T, HandlerError> {
    serde_json::from_value(v.clone()).map_err(|e| super::undecodable(what, e))
}

impl Handler for Procesregie {
    type Message = serde_json::Value;

    async fn handle(&self, batch: &[Delivery<serde_json::Value>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        for d in batch {
            let Some(token) = d.subject.strip_prefix(&self.prefix) else {
                continue;
            };
            let event = ProcesregieEvent::ALL
                .into_iter()
                .find(|e| e.token() == token);
            apply(&mut tx, event, &d.message).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn apply(
    tx: &mut PgConnection,
    event: Option<ProcesregieEvent>,
    v: &serde_json::Value,
) -> Result<(), HandlerError> {
    match event {
        Some(ProcesregieEvent::ApplicationSubmitted) => {
            let e: Submitted = decode("application_submitted", v)?;
            sqlx::query!(
                "INSERT INTO applications (application_id, gemeentecode, submitted_at)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (application_id) DO UPDATE
                 SET gemeentecode = COALESCE(applications.gemeentecode, EXCLUDED.gemeentecode),
                     submitted_at = LEAST(applications.submitted_at, EXCLUDED.submitted_at)",
                e.application_id,
                e.gemeentecode as Option<Gemeentecode>,
                e.submitted_at,
            )
            .execute(&mut *tx)
            .await?;
        }
        Some(ProcesregieEvent::ApplicationTriaged) => {
            let e: Triaged = decode("application_triaged", v)?;
            // The earliest decision stands; every expression reads the row as it was.
            sqlx::query!(
                "INSERT INTO applications (application_id, gemeentecode, submitted_at, decided_at,
                                           decision_event, triaged_on, outcome)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (application_id) DO UPDATE
                 SET gemeentecode = COALESCE(applications.gemeentecode, EXCLUDED.gemeentecode),
                     submitted_at = LEAST(applications.submitted_at, EXCLUDED.submitted_at),
                     triaged_on = CASE WHEN applications.decided_at IS NULL
                             OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (applications.decided_at, applications.decision_event)
                         THEN EXCLUDED.triaged_on ELSE applications.triaged_on END,
                     outcome = CASE WHEN applications.decided_at IS NULL
                             OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (applications.decided_at, applications.decision_event)
                         THEN EXCLUDED.outcome ELSE applications.outcome END,
                     decision_event = CASE WHEN applications.decided_at IS NULL
                             OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (applications.decided_at, applications.decision_event)
                         THEN EXCLUDED.decision_event ELSE applications.decision_event END,
                     decided_at = CASE WHEN applications.decided_at IS NULL
                             OR (EXCLUDED.decided_at, EXCLUDED.decision_event) < (applications.decided_at, applications.decision_event)
                         THEN EXCLUDED.decided_at ELSE applications.decided_at END",
                e.application_id,
                e.gemeentecode as Option<Gemeentecode>,
                e.submitted_at,
                e.decided_at,
                e.event_id,
                e.triage_on,
                e.outcome as TriageOutcome,
            )
            .execute(&mut *tx)
            .await?;
        }
        Some(ProcesregieEvent::IcoOpened) => {
            let e: Opened = decode("ico_opened", v)?;
            sqlx::query!(
                "INSERT INTO icos (ico_id, gemeentecode, opened_at) VALUES ($1, $2, $3)
                 ON CONFLICT (ico_id) DO UPDATE
                 SET gemeentecode = COALESCE(icos.gemeentecode, EXCLUDED.gemeentecode),
                     opened_at = LEAST(icos.opened_at, EXCLUDED.opened_at)",
                e.ico_id,
                e.gemeentecode as Option<Gemeentecode>,
                e.opened_at,
            )
            .execute(&mut *tx)
            .await?;
        }
        Some(ProcesregieEvent::IcoClosed) => {
            let e: Closed = decode("ico_closed", v)?;
            sqlx::query!(
                "INSERT INTO icos (ico_id, opened_at, closed_at, close_event, close_reason)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (ico_id) DO UPDATE
                 SET opened_at = LEAST(icos.opened_at, EXCLUDED.opened_at),
                     close_reason = CASE WHEN icos.closed_at IS NULL
                             OR (EXCLUDED.closed_at, EXCLUDED.close_event) < (icos.closed_at, icos.close_event)
                         THEN EXCLUDED.close_reason ELSE icos.close_reason END,
                     close_event = CASE WHEN icos.closed_at IS NULL
                             OR (EXCLUDED.closed_at, EXCLUDED.close_event) < (icos.closed_at, icos.close_event)
                         THEN EXCLUDED.close_event ELSE icos.close_event END,
                     closed_at = CASE WHEN icos.closed_at IS NULL
                             OR (EXCLUDED.closed_at, EXCLUDED.close_event) < (icos.closed_at, icos.close_event)
                         THEN EXCLUDED.closed_at ELSE icos.closed_at END",
                e.ico_id,
                e.opened_at,
                e.closed_at,
                e.event_id,
                e.reason as IcoCloseReason,
            )
            .execute(&mut *tx)
            .await?;
        }
        // Actions, reviews and their reminders feed no figure yet; unknown events are skipped.
        Some(
            ProcesregieEvent::IcoActionChanged
            | ProcesregieEvent::IcoReviewHeld
            | ProcesregieEvent::IcoActionOverdue
            | ProcesregieEvent::IcoReviewOverdue,
        )
        | None => {}
    }
    Ok(())
}
