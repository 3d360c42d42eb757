//! The deadline scheduler: raises `due_soon` and `overdue` reminders for open tasks, and closes
//! cases whose person is released and whose conditions are all done.
//!
//! Exactly once per task, kind and due date, across restarts and with several casework instances
//! running: a reminder is a row in `reminders` whose primary key is (task, kind, due date,
//! municipality — a case that moves is reminded again to its new municipality),
//! inserted with `ON CONFLICT DO NOTHING … RETURNING`, and only the rows this transaction really
//! inserted get an event, enqueued in the outbox in the same transaction. Two instances racing
//! for the same reminder serialise on the key; the loser inserts nothing and sends nothing. The
//! event id is stored with the reminder, so even a relay republish carries the same
//! `Nats-Msg-Id`.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use rcn_contracts::casework_api::CloseReason;
use rcn_contracts::casework_events::{DeadlineKind, TaskDeadline};
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, SCHEMA_VERSION};
use rcn_runtime::{CancellationToken, outbox};
use sqlx::Row;
use uuid::Uuid;

use crate::access::parse_stored;
use crate::cases::{Casework, today};
use crate::closing;
use crate::error::Result;

/// Reminders raised per transaction.
const BATCH: i64 = 500;

/// Runs until `shutdown`: one look per interval, the first one interval after start.
pub async fn run(cw: Arc<Casework>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(cw.scheduler_interval) => {}
        }
        match tick(&cw, today()).await {
            Ok(n) if n > 0 => tracing::info!(reminders = n, "deadline reminders raised"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deadline scheduler failed; will try again"),
        }
    }
}

/// One look at every deadline as of `today`; returns how many reminders were raised.
pub async fn tick(cw: &Casework, today: NaiveDate) -> Result<usize> {
    let yesterday = today - Days::new(1);
    let horizon = cw
        .deadlines
        .calendar
        .working_days_after(today, cw.due_soon_working_days);
    let mut raised = 0;
    // Overdue first: a task already past its date does not also get a "due soon".
    for (kind, from, to) in [
        (DeadlineKind::Overdue, None, yesterday),
        (DeadlineKind::DueSoon, Some(today), horizon),
    ] {
        loop {
            let n = raise(cw, kind, from, to).await?;
            raised += n;
            if (n as i64) < BATCH {
                break;
            }
        }
    }
    close_completed(cw, today).await?;
    Ok(raised)
}

/// Raises the reminders of one kind for open tasks due between `from` and `to` (inclusive).
async fn raise(
    cw: &Casework,
    kind: DeadlineKind,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<usize> {
    let mut tx = cw.pool.begin().await?;
    let rows = sqlx::query(
        "WITH raised AS (
             INSERT INTO reminders (case_id, condition, kind, due_on, event_id)
             SELECT t.case_id, t.condition, $1, t.due_on, gen_random_uuid()
             FROM condition_tasks t JOIN cases c ON c.case_id = t.case_id
             WHERE c.status = 'open' AND t.status IN ('unknown', 'needs_action', 'in_progress')
               AND t.due_on IS NOT NULL AND ($2::date IS NULL OR t.due_on >= $2) AND t.due_on <= $3
               AND NOT EXISTS (SELECT 1 FROM reminders r
                               WHERE r.case_id = t.case_id AND r.condition = t.condition AND r.kind = $1 AND r.due_on = t.due_on
                                 AND r.gemeentecode = c.gemeentecode)
             ORDER BY t.due_on, t.case_id, t.condition
             LIMIT $4
             ON CONFLICT DO NOTHING
             RETURNING case_id, condition, due_on, event_id, raised_at
         )
         SELECT r.case_id, r.condition, r.due_on, r.event_id, r.raised_at, t.status, t.claimed_by,
                c.episode_key, c.gemeentecode, c.expected_release_on,
                (c.spoed OR c.released_on IS NOT NULL) AS spoed
         FROM raised r
         JOIN condition_tasks t ON t.case_id = r.case_id AND t.condition = r.condition
         JOIN cases c ON c.case_id = r.case_id",
    )
    .bind(kind.as_str())
    .bind(from)
    .bind(to)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        let condition: String = r.try_get("condition")?;
        let status: String = r.try_get("status")?;
        let gemeente: String = r.try_get("gemeentecode")?;
        let gemeentecode = parse_stored(
            Gemeentecode::parse(&gemeente).ok(),
            "gemeentecode",
            &gemeente,
        )?;
        let event = TaskDeadline {
            schema_version: SCHEMA_VERSION,
            event_id: r.try_get("event_id")?,
            kind,
            case_id: r.try_get("case_id")?,
            episode_key: r.try_get("episode_key")?,
            gemeentecode: gemeentecode.clone(),
            condition: parse_stored(Condition::parse(&condition), "condition", &condition)?,
            due_on: r.try_get("due_on")?,
            status: parse_stored(ConditionStatus::parse(&status), "status", &status)?,
            holder: r.try_get("claimed_by")?,
            spoed: r.try_get::<Option<bool>, _>("spoed")?.unwrap_or(false),
            expected_release_on: r.try_get("expected_release_on")?,
            raised_at: r.try_get("raised_at")?,
        };
        let subject = match kind {
            DeadlineKind::DueSoon => cw.subjects.task_due_soon(&gemeentecode),
            DeadlineKind::Overdue => cw.subjects.task_overdue(&gemeentecode),
        };
        outbox::enqueue(
            &mut tx,
            outbox::Event {
                event_id: event.event_id,
                subject,
                payload: &event,
                trace_id: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Closes, as completed, open cases whose person is released (before today) and whose every
/// condition is arranged or not applicable.
async fn close_completed(cw: &Casework, today: NaiveDate) -> Result<()> {
    let mut tx = cw.pool.begin().await?;
    let done: Vec<Uuid> = sqlx::query_scalar(
        "SELECT c.case_id FROM cases c
         WHERE c.status = 'open' AND COALESCE(c.released_on, c.expected_release_on) < $1
           AND NOT EXISTS (SELECT 1 FROM condition_tasks t
                           WHERE t.case_id = c.case_id AND t.status IN ('unknown', 'needs_action', 'in_progress'))
         ORDER BY c.case_id LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(today)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    for case_id in done {
        closing::close(
            &mut tx,
            &cw.subjects,
            case_id,
            CloseReason::Completed,
            "system",
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
