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
//!
//! At national scale every look reads only what may need doing (migration 0005): the tasks not
//! yet reminded of their current due date, the cases listed as possibly closable, and the tasks
//! whose spoed the new day changes.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use rcn_contracts::casework_api::CloseReason;
use rcn_contracts::casework_events::{DeadlineKind, TaskDeadline};
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, SCHEMA_VERSION};
use rcn_runtime::{CancellationToken, outbox};
use uuid::Uuid;

use crate::closing;
use crate::error::Result;
use crate::spoed::SPOED_WITHIN_DAYS;
use crate::state::{Casework, today};

/// Reminders raised per transaction.
const BATCH: i64 = 500;
/// Tasks whose stored spoed one statement moves.
const SPOED_BATCH: i64 = 5000;

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
            let batch = raise(cw, kind, from, to).await?;
            raised += batch.raised;
            if (batch.looked_at as i64) < BATCH {
                break;
            }
        }
    }
    close_completed(cw, today).await?;
    refresh_spoed(cw, today).await?;
    Ok(raised)
}

/// Moves the open tasks' stored spoed (`spoed_now`, migration 0005) to today's horizon and
/// records it, so the inbox can walk its indexes in order. Only the tasks whose release came
/// within reach since the last look change (and any a case change set against an older horizon
/// while this ran last time); a horizon moving back (a clock set back) also unmarks tasks.
async fn refresh_spoed(cw: &Casework, today: NaiveDate) -> Result<()> {
    let horizon = today + Days::new(SPOED_WITHIN_DAYS);
    let mut tx = cw.pool.begin().await?;
    let stored = sqlx::query_scalar!("SELECT horizon FROM spoed_horizon FOR UPDATE")
        .fetch_optional(&mut *tx)
        .await?;
    // In batches, each the lowest spoed keys first: an index-only walk of the small partial
    // index of tasks not (yet) spoed, which stops at the horizon; usually it finds nothing.
    loop {
        let keys = sqlx::query!(
            r#"SELECT t.case_id, t.condition AS "condition: Condition" FROM condition_tasks t
               WHERE t.case_open AND t.status IN ('unknown', 'needs_action', 'in_progress')
                 AND NOT t.spoed_now AND t.spoed_key <= $1
               ORDER BY t.spoed_key
               LIMIT $2"#,
            horizon,
            SPOED_BATCH,
        )
        .fetch_all(&mut *tx)
        .await?;
        if keys.is_empty() {
            break;
        }
        let (ids, conditions): (Vec<Uuid>, Vec<Condition>) =
            keys.into_iter().map(|k| (k.case_id, k.condition)).unzip();
        // The conditions again: a task changed since the walk is left as it now is.
        sqlx::query!(
            "UPDATE condition_tasks t SET spoed_now = true
             FROM unnest($1::uuid[], $2::text[]) AS k(case_id, condition)
             WHERE t.case_id = k.case_id AND t.condition = k.condition
               AND t.case_open AND t.status IN ('unknown', 'needs_action', 'in_progress')
               AND NOT t.spoed_now AND t.spoed_key <= $3",
            &ids,
            &conditions as &[Condition],
            horizon,
        )
        .execute(&mut *tx)
        .await?;
        if (ids.len() as i64) < SPOED_BATCH {
            break;
        }
    }
    if stored.is_none_or(|s| s > horizon) {
        sqlx::query!(
            "UPDATE condition_tasks t SET spoed_now = false
             WHERE t.case_open AND t.status IN ('unknown', 'needs_action', 'in_progress')
               AND t.spoed_now AND t.spoed_key > $1",
            horizon,
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "INSERT INTO spoed_horizon (horizon) VALUES ($1)
         ON CONFLICT (only_row) DO UPDATE SET horizon = EXCLUDED.horizon",
        horizon,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Raises the reminders of one kind for open tasks due between `from` and `to` (inclusive);
/// returns how many tasks it looked at (a full batch means there may be more).
///
/// It reads only the tasks not yet reminded of their current due date, through the partial index
/// of migration 0005 (`<kind>_reminded_on IS DISTINCT FROM due_on`), and marks each one it looks
/// at, whether or not its reminder is new; the `reminders` key still decides what is raised.
async fn raise(
    cw: &Casework,
    kind: DeadlineKind,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<Raised> {
    // A column name chosen here, never from input.
    let marker = match kind {
        DeadlineKind::Overdue => "overdue_reminded_on",
        DeadlineKind::DueSoon => "due_soon_reminded_on",
    };
    let from_clause = if from.is_some() {
        "AND t.due_on >= $2"
    } else {
        "AND $2::date IS NULL"
    };
    let mut tx = cw.pool.begin().await?;
    // Assembled, not `query!`: the marker column must be written out so that each kind's
    // statement matches its partial index (condition_tasks_<kind>_pending), and a missing lower
    // bound must leave no `$2` range for the planner to misjudge: four fixed shapes from two
    // choices made here, never from input. Binds and rows are typed all the same (`DueRow`).
    let rows: Vec<DueRow> = sqlx::query_as(&format!(
        "WITH due AS (
             SELECT t.ctid AS row_id, t.case_id, t.condition, t.due_on FROM condition_tasks t
             WHERE t.case_open AND t.status IN ('unknown', 'needs_action', 'in_progress')
               AND t.due_on IS NOT NULL AND t.{marker} IS DISTINCT FROM t.due_on
               {from_clause} AND t.due_on <= $3
             ORDER BY t.due_on, t.case_id, t.condition
             LIMIT $4
             FOR UPDATE OF t SKIP LOCKED
         ), marked AS (
             -- By row address: the rows are locked above, and a join could walk the whole table.
             UPDATE condition_tasks t SET {marker} = t.due_on
             WHERE t.ctid = ANY(ARRAY(SELECT row_id FROM due))
         ), raised AS (
             INSERT INTO reminders (case_id, condition, kind, due_on, event_id)
             SELECT d.case_id, d.condition, $1, d.due_on, gen_random_uuid() FROM due d
             ON CONFLICT DO NOTHING
             RETURNING case_id, condition, due_on, event_id, raised_at
         )
         SELECT d.case_id, d.condition, d.due_on, r.event_id, r.raised_at, t.status, t.claimed_by,
                c.episode_key, c.gemeentecode, c.expected_release_on,
                (c.spoed OR c.released_on IS NOT NULL) AS spoed
         FROM due d
         LEFT JOIN raised r ON r.case_id = d.case_id AND r.condition = d.condition
         JOIN condition_tasks t ON t.case_id = d.case_id AND t.condition = d.condition
         JOIN cases c ON c.case_id = d.case_id"
    ))
    .bind(kind)
    .bind(from)
    .bind(to)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let looked_at = rows.len();
    let mut raised = 0;
    for r in rows {
        // Already reminded of this due date (a due date moved back, or another instance).
        let (Some(event_id), Some(raised_at)) = (r.event_id, r.raised_at) else {
            continue;
        };
        raised += 1;
        let gemeentecode = r.gemeentecode;
        let event = TaskDeadline {
            schema_version: SCHEMA_VERSION,
            event_id,
            kind,
            case_id: r.case_id,
            episode_key: r.episode_key,
            gemeentecode: gemeentecode.clone(),
            condition: r.condition,
            due_on: r.due_on,
            status: r.status,
            holder: r.claimed_by,
            spoed: r.spoed.unwrap_or(false),
            expected_release_on: r.expected_release_on,
            raised_at,
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
                trace: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Raised { looked_at, raised })
}

/// A task [`raise`] looked at; `event_id` and `raised_at` only when its reminder is new.
#[derive(sqlx::FromRow)]
struct DueRow {
    case_id: Uuid,
    condition: Condition,
    due_on: NaiveDate,
    event_id: Option<Uuid>,
    raised_at: Option<chrono::DateTime<chrono::Utc>>,
    status: ConditionStatus,
    claimed_by: Option<String>,
    episode_key: String,
    gemeentecode: Gemeentecode,
    expected_release_on: Option<NaiveDate>,
    spoed: Option<bool>,
}

/// What one batch of [`raise`] did.
struct Raised {
    looked_at: usize,
    raised: usize,
}

/// Closes, as completed, open cases whose person is released (before today) and whose every
/// condition is arranged or not applicable.
///
/// It looks only at `closing_candidates` (migration 0005: open cases that may have no open task
/// left, listed by triggers) that are not waiting for their release date: it forgets those with
/// an open task or no longer open, notes the release date of those not yet released, and closes
/// the rest. A candidate touched since it was read (a task done, the release date moved) is left
/// for the next look, so nothing that may make a case closable is lost.
async fn close_completed(cw: &Casework, today: NaiveDate) -> Result<()> {
    let mut tx = cw.pool.begin().await?;
    let looked = sqlx::query!(
        r#"SELECT q.case_id AS "case_id!", q.touched AS "touched!",
                COALESCE(c.status = 'open', false) AS "open!",
                -- A probe per candidate (an EXISTS may be planned as a hash of every task).
                COALESCE((SELECT true FROM condition_tasks t
                          WHERE t.case_id = q.case_id AND t.status IN ('unknown', 'needs_action', 'in_progress')
                          LIMIT 1), false) AS "busy!",
                COALESCE(c.released_on, c.expected_release_on) AS release
         FROM closing_candidates q LEFT JOIN cases c ON c.case_id = q.case_id
         WHERE q.wait_until IS NULL OR q.wait_until < $1"#,
        today,
    )
    .fetch_all(&mut *tx)
    .await?;
    let (mut forget, mut wait) = (Vec::new(), Vec::new());
    let mut closable = Vec::new();
    for row in looked {
        let (case_id, touched, open, busy) = (row.case_id, row.touched, row.open, row.busy);
        match row.release {
            _ if !open || busy => forget.push((case_id, touched)),
            Some(release) if release < today => closable.push(case_id),
            // Not yet released (or no date at all: then it waits for a date to be set).
            release => wait.push((case_id, touched, release.unwrap_or(NaiveDate::MAX))),
        }
    }
    if !forget.is_empty() {
        let (ids, touched): (Vec<Uuid>, Vec<i64>) = forget.into_iter().unzip();
        sqlx::query!(
            "DELETE FROM closing_candidates q USING unnest($1::uuid[], $2::bigint[]) AS f(case_id, touched)
             WHERE q.case_id = f.case_id AND q.touched = f.touched",
            &ids,
            &touched,
        )
        .execute(&mut *tx)
        .await?;
    }
    if !wait.is_empty() {
        let ids: Vec<Uuid> = wait.iter().map(|w| w.0).collect();
        let touched: Vec<i64> = wait.iter().map(|w| w.1).collect();
        let until: Vec<NaiveDate> = wait.iter().map(|w| w.2).collect();
        sqlx::query!(
            "UPDATE closing_candidates q SET wait_until = w.until
             FROM unnest($1::uuid[], $2::bigint[], $3::date[]) AS w(case_id, touched, until)
             WHERE q.case_id = w.case_id AND q.touched = w.touched",
            &ids,
            &touched,
            &until,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    closable.sort();
    for batch in closable.chunks(BATCH as usize) {
        close_batch(cw, today, batch).await?;
    }
    Ok(())
}

/// Closes those of `candidates` that are still closable, each checked again under its lock.
async fn close_batch(cw: &Casework, today: NaiveDate, candidates: &[Uuid]) -> Result<()> {
    let mut tx = cw.pool.begin().await?;
    let done = sqlx::query_scalar!(
        "SELECT c.case_id FROM cases c
         WHERE c.case_id = ANY($2) AND c.status = 'open' AND COALESCE(c.released_on, c.expected_release_on) < $1
           AND NOT EXISTS (SELECT 1 FROM condition_tasks t
                           WHERE t.case_id = c.case_id AND t.status IN ('unknown', 'needs_action', 'in_progress'))
         ORDER BY c.case_id
         FOR UPDATE SKIP LOCKED",
        today,
        candidates,
    )
    .fetch_all(&mut *tx)
    .await?;
    for case_id in &done {
        closing::close(
            &mut tx,
            &cw.subjects,
            *case_id,
            CloseReason::Completed,
            "system",
            None,
        )
        .await?;
    }
    sqlx::query!(
        "DELETE FROM closing_candidates WHERE case_id = ANY($1)",
        &done,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
