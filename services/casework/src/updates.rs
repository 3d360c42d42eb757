//! What a later notice changes in its case, applied in the consumer's transaction after the
//! notice is attached and `CaseUpdated` is enqueued:
//!
//! - a new release date moves every deadline (and may make the case spoed, or no longer);
//! - released unexpectedly: the actual release date is kept, the case is spoed and every open
//!   task urgent;
//! - transferred: the new institution is recorded;
//! - cancelled: the case closes with reason `cancelled`;
//! - routed to another municipality: the case moves, and its claims lapse (the new
//!   municipality's staff take it from there).
//!
//! Notices of an episode take effect in the order they were sent (`sent_at`, then arrival): a
//! notice older than one already applied is attached but changes nothing, so a late delivery
//! cannot roll a case back. A closed case only collects notices — unless the institution's newer
//! word undoes why it closed: a case closed as cancelled, or as moved out of the region, reopens
//! on a newer notice routed to a municipality of the region ([`crate::reopening`]).

use chrono::{NaiveDate, Utc};
use rcn_contracts::casework_api::{CaseStatus, CloseReason};
use rcn_contracts::casework_events::{CaseRescheduled, TaskDue};
use rcn_contracts::events::NoticeRouted;
use rcn_contracts::notice::NoticeKind;
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, SCHEMA_VERSION};
use rcn_runtime::consumer::{Delivery, HandlerError};
use rcn_runtime::outbox;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::access::TaskRow;
use crate::case_state::{CaseState, lapse_claims, lock_tasks};
use crate::closing;
use crate::error::CaseworkError;
use crate::history::{self, TaskChange};
use crate::spoed::is_spoed;
use crate::state::Casework;

pub(crate) fn handler_error(e: CaseworkError) -> HandlerError {
    match e {
        CaseworkError::Db(e) => e.into(),
        CaseworkError::Refused(e) => HandlerError::Permanent(anyhow::anyhow!("{}", e.detail)),
    }
}

pub async fn apply_later_notice(
    cw: &Casework,
    tx: &mut PgConnection,
    case_id: Uuid,
    d: &Delivery<NoticeRouted>,
    gemeente: &Gemeentecode,
    today: NaiveDate,
) -> Result<(), HandlerError> {
    let routed = &d.message;
    let notice = &routed.notice;
    let mut case = sqlx::query_as!(
        CaseState,
        r#"SELECT gemeentecode AS "gemeentecode: Gemeentecode", status AS "status: CaseStatus",
                  closed_reason AS "closed_reason: CloseReason", expected_release_on, released_on, spoed,
                  institution_code, episode_key
           FROM cases WHERE case_id = $1 FOR UPDATE"#,
        case_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    let newest_before = sqlx::query_scalar!(
        "SELECT max(sent_at) FROM case_notices WHERE case_id = $1 AND notice_key <> $2",
        case_id,
        routed.notice_key,
    )
    .fetch_one(&mut *tx)
    .await?;
    if newest_before.is_some_and(|newest| notice.sent_at < newest) {
        tracing::info!(%case_id, notice_key = %routed.notice_key, "notice is older than one already applied; attached without changes");
        return Ok(());
    }
    let by = format!("notice:{}", routed.notice_key);
    // Whether this notice's risk flags already went out with a `CaseOpened` (reopen or move).
    let mut flags_noted = false;
    if case.status != CaseStatus::Open {
        // Reopening undoes the closure, so it takes a notice sent strictly after every other:
        // of two sent at the same instant, arrival order is no proof of which came last.
        let sent_after_all = newest_before.is_none_or(|newest| notice.sent_at > newest);
        if !(sent_after_all && crate::reopening::reopens(case.closed_reason, notice.kind)) {
            return Ok(());
        }
        crate::reopening::reopen(cw, tx, case_id, &case, d, gemeente).await?;
        flags_noted = true;
        case.status = CaseStatus::Open;
        case.gemeentecode = gemeente.clone();
    }

    if notice.kind == NoticeKind::Cancelled {
        closing::close(tx, &cw.subjects, case_id, CloseReason::Cancelled, &by, None)
            .await
            .map_err(handler_error)?;
        return Ok(());
    }
    if *gemeente != case.gemeentecode {
        reroute(cw, tx, case_id, &case, gemeente, d).await?;
        flags_noted = true;
    }
    if !flags_noted {
        cw.note_risk_flags(tx, case_id, gemeente, d, Utc::now())
            .await?;
    }
    if notice.kind == NoticeKind::Transferred
        && notice.sender.institution_code != case.institution_code
    {
        sqlx::query!(
            "UPDATE cases SET institution_code = $2 WHERE case_id = $1",
            case_id,
            notice.sender.institution_code,
        )
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({"from": case.institution_code, "to": notice.sender.institution_code});
        history::record_case(tx, case_id, &by, "transferred", detail).await?;
    }
    if notice.kind == NoticeKind::ReleasedUnexpectedly {
        let released = notice.detention.expected_release_on.unwrap_or(today);
        reschedule(
            cw, tx, case_id, &case, gemeente, released, true, &by, d, today,
        )
        .await?;
    } else if let Some(release) = notice
        .detention
        .expected_release_on
        .filter(|r| Some(*r) != case.expected_release_on)
    {
        reschedule(
            cw, tx, case_id, &case, gemeente, release, false, &by, d, today,
        )
        .await?;
    }
    Ok(())
}

/// The case moves to another municipality: claims of the old one lapse, and the new one is told
/// it has the case as if it had been routed there first — `CaseOpened` on its subject now, and
/// the deadline reminders already raised for the old one raised again for it on the scheduler's
/// next look (a reminder is kept per municipality).
async fn reroute(
    cw: &Casework,
    tx: &mut PgConnection,
    case_id: Uuid,
    case: &CaseState,
    to: &Gemeentecode,
    d: &Delivery<NoticeRouted>,
) -> Result<(), HandlerError> {
    let by = format!("notice:{}", d.message.notice_key);
    let by = by.as_str();
    // All of them, not only those claimed now: a claim cannot slip in before the case moves.
    let tasks = lock_tasks(tx, case_id).await?;
    lapse_claims(cw, tx, &tasks, by, &format!("the case moved to {to}")).await?;
    sqlx::query!(
        "UPDATE cases SET gemeentecode = $2 WHERE case_id = $1",
        case_id,
        to as &Gemeentecode,
    )
    .execute(&mut *tx)
    .await?;
    history::record_case(
        tx,
        case_id,
        by,
        "rerouted",
        serde_json::json!({"from": case.gemeentecode, "to": to.as_str()}),
    )
    .await?;
    let opening = crate::opening::Opening {
        case_id,
        gemeente: to,
        expected_release_on: case.expected_release_on,
        spoed: case.spoed || case.released_on.is_some(),
        conditions: tasks.iter().map(TaskRow::state).collect(),
    };
    cw.announce_opened(tx, opening, d, Utc::now()).await?;
    tracing::info!(%case_id, from = %case.gemeentecode, to = %to, "case moved to another municipality");
    Ok(())
}

/// A new release date: deadlines move; an unexpected release makes every open task urgent.
#[allow(clippy::too_many_arguments)]
async fn reschedule(
    cw: &Casework,
    tx: &mut PgConnection,
    case_id: Uuid,
    case: &CaseState,
    gemeente: &Gemeentecode,
    release: NaiveDate,
    unexpected: bool,
    by: &str,
    d: &Delivery<NoticeRouted>,
    today: NaiveDate,
) -> Result<(), HandlerError> {
    let released_on = if unexpected {
        Some(release)
    } else {
        case.released_on
    };
    let spoed = released_on.is_some() || is_spoed(d.message.notice.kind, Some(release), today);
    sqlx::query!(
        "UPDATE cases SET expected_release_on = $2, released_on = $3, spoed = $4 WHERE case_id = $1",
        case_id,
        release,
        released_on,
        spoed,
    )
    .execute(&mut *tx)
    .await?;
    let due = move_due_dates(cw, tx, case_id, release, unexpected, by).await?;
    let detail = serde_json::json!({"from": case.expected_release_on, "to": release, "released_unexpectedly": unexpected});
    history::record_case(tx, case_id, by, "rescheduled", detail).await?;
    let event = CaseRescheduled {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id,
        episode_key: case.episode_key.clone(),
        gemeentecode: gemeente.clone(),
        notice_key: d.message.notice_key.clone(),
        previous_release_on: case.expected_release_on,
        expected_release_on: Some(release),
        released_unexpectedly: unexpected,
        spoed,
        due,
        at: Utc::now(),
    };
    let subject = cw.subjects.case_rescheduled(gemeente);
    outbox::enqueue(
        tx,
        outbox::Event {
            event_id: event.event_id,
            subject,
            payload: &event,
            trace: Some(&d.trace),
        },
    )
    .await?;
    tracing::info!(%case_id, %release, unexpected, spoed, "case rescheduled");
    Ok(())
}

/// Moves every task's due date to follow `release`, each move recorded in the task's history;
/// after an unexpected release every open task is also urgent. Returns the new due dates.
async fn move_due_dates(
    cw: &Casework,
    tx: &mut PgConnection,
    case_id: Uuid,
    release: NaiveDate,
    unexpected: bool,
    by: &str,
) -> Result<Vec<TaskDue>, HandlerError> {
    let tasks = sqlx::query!(
        r#"SELECT condition AS "condition: Condition", status AS "status: ConditionStatus", due_on
           FROM condition_tasks WHERE case_id = $1 ORDER BY condition COLLATE "C" FOR UPDATE"#,
        case_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut due = Vec::with_capacity(tasks.len());
    for t in tasks {
        let condition = t.condition;
        let old = t.due_on;
        let open = t.status.is_open();
        let new = cw.deadlines.due_on(condition, release);
        let urgent = unexpected && open;
        if old != Some(new) || urgent {
            sqlx::query!(
                "UPDATE condition_tasks SET due_on = $3, urgent = urgent OR $4, updated_at = now()
                 WHERE case_id = $1 AND condition = $2",
                case_id,
                condition as Condition,
                new,
                urgent,
            )
            .execute(&mut *tx)
            .await?;
        }
        if old != Some(new) {
            let note = match old {
                Some(old) => format!("due date moved from {old} to {new}"),
                None => format!("due on {new}"),
            };
            history::record_task(
                tx,
                case_id,
                condition,
                by,
                TaskChange {
                    change: "deadline",
                    note: Some(&note),
                    ..Default::default()
                },
            )
            .await?;
        }
        if urgent {
            let note = "released unexpectedly: urgent";
            history::record_task(
                tx,
                case_id,
                condition,
                by,
                TaskChange {
                    change: "urgent",
                    note: Some(note),
                    ..Default::default()
                },
            )
            .await?;
        }
        due.push(TaskDue {
            condition,
            due_on: Some(new),
        });
    }
    Ok(due)
}

/// A case opened by an unexpected release: the release is a fact, every open task urgent.
pub async fn mark_released_on_open(
    tx: &mut PgConnection,
    case_id: Uuid,
    released: NaiveDate,
    by: &str,
) -> Result<(), HandlerError> {
    sqlx::query!(
        "UPDATE cases SET released_on = $2 WHERE case_id = $1",
        case_id,
        released,
    )
    .execute(&mut *tx)
    .await?;
    let open = sqlx::query_scalar!(
        r#"UPDATE condition_tasks SET urgent = true
           WHERE case_id = $1 AND status IN ('unknown', 'needs_action', 'in_progress')
           RETURNING condition AS "condition: Condition""#,
        case_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    for condition in open {
        let note = "released unexpectedly: urgent";
        history::record_task(
            tx,
            case_id,
            condition,
            by,
            TaskChange {
                change: "urgent",
                note: Some(note),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
