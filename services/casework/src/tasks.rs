//! Working a condition task: its status moves `unknown → needs_action → in_progress → arranged`,
//! or to `not_applicable` with a reason, and every change is kept in its history.
//!
//! The rules ([`check_transition`]) are a pure function, so they are tested on their own; the
//! change itself locks the task row, checks, updates, records history and enqueues the event in
//! one transaction.

use rcn_contracts::casework_api::{
    ErrorCode, HistoryEntry, TaskHistory, TaskRef, TaskView, UpdateStatusRequest,
};
use rcn_contracts::identity::Identity;
use rcn_contracts::{Condition, ConditionStatus};

use crate::access::{self, visible, workable};
use crate::error::{Result, claimed_by_other, refuse};
use crate::history;
use crate::state::Casework;
use crate::visibility::{FieldPolicy, require_case_reader};

/// The longest reason or note accepted, in characters.
pub const MAX_NOTE: usize = 2000;

/// Whether a task may go from `from` to `to`, given the reason and note that come with it.
///
/// - forward along the chain, also skipping steps (a colleague may find something already
///   arranged), and back among the open statuses (work can stall);
/// - never back to `unknown`: once looked at, a condition is known to need action or not;
/// - `not_applicable` only with a reason;
/// - reopening an arranged or not applicable task only with a note saying why.
pub fn check_transition(
    from: ConditionStatus,
    to: ConditionStatus,
    reason: Option<&str>,
    note: Option<&str>,
) -> Result<()> {
    let given = |s: Option<&str>| s.is_some_and(|s| !s.trim().is_empty());
    if from == to {
        return Err(refuse(
            ErrorCode::NoChange,
            format!("The task is already {}.", words(to)),
        ));
    }
    if to == ConditionStatus::Unknown {
        return Err(refuse(
            ErrorCode::InvalidTransition,
            "A task cannot go back to unknown. Use needs action when it turns out work is needed.",
        ));
    }
    if to == ConditionStatus::NotApplicable && !given(reason) {
        return Err(refuse(
            ErrorCode::ReasonRequired,
            "Say why this condition does not apply.",
        ));
    }
    if !from.is_open() && to.is_open() && !given(note) {
        return Err(refuse(
            ErrorCode::NoteRequired,
            format!("Say why a task that was {} is reopened.", words(from)),
        ));
    }
    for (name, text) in [("reason", reason), ("note", note)] {
        if text.is_some_and(|t| t.chars().count() > MAX_NOTE) {
            return Err(refuse(
                ErrorCode::BadRequest,
                format!("The {name} may be at most {MAX_NOTE} characters."),
            ));
        }
    }
    Ok(())
}

fn words(s: ConditionStatus) -> String {
    s.as_str().replace('_', " ")
}

/// `update_status`: the caller changes the status of a task nobody else holds.
pub async fn update_status(
    cw: &Casework,
    who: &Identity,
    req: &UpdateStatusRequest,
) -> Result<TaskView> {
    let mut tx = cw.pool.begin().await?;
    let row = workable(who, access::load_task(&mut tx, req.task, true).await?)?;
    if let Some(holder) = row.claimed_by.as_deref().filter(|h| *h != who.user_id) {
        return Err(claimed_by_other(holder));
    }
    let (reason, note) = (req.reason.as_deref(), req.note.as_deref());
    check_transition(row.status, req.status, reason, note)?;
    let reason = if req.status == ConditionStatus::NotApplicable {
        reason.map(str::trim)
    } else {
        None
    };
    sqlx::query!(
        "UPDATE condition_tasks SET status = $3, reason = $4, note = COALESCE($5, note), urgent = urgent AND $6, updated_at = now()
         WHERE case_id = $1 AND condition = $2",
        req.task.case_id,
        req.task.condition as Condition,
        req.status as ConditionStatus,
        reason,
        note,
        req.status.is_open(),
    )
    .execute(&mut *tx)
    .await?;
    let history_note = match (reason, note) {
        (Some(r), Some(n)) => Some(format!("{r} — {n}")),
        (Some(r), None) => Some(r.to_owned()),
        (None, n) => n.map(str::to_owned),
    };
    history::status_changed(
        &mut tx,
        &cw.subjects,
        &row,
        req.status,
        &who.user_id,
        history_note.as_deref(),
    )
    .await?;
    tx.commit().await?;
    Ok(TaskView {
        status: req.status,
        ..view_of(&row)
    })
}

fn view_of(row: &access::TaskRow) -> TaskView {
    TaskView {
        case_id: row.case_id,
        condition: row.condition,
        status: row.status,
        claimed_by: row.claimed_by.clone(),
        due_on: row.due_on,
    }
}

/// `task_history`: every change of a task, oldest first. A read of personal data (the notes), so
/// it is logged; the notes are shown as [`FieldPolicy::notes`] allows (those of the care task only
/// to its holder and the RCN coordinator; others see that a note was written, not what).
pub async fn task_history(
    cw: &Casework,
    who: &Identity,
    task: TaskRef,
    why: Option<&str>,
) -> Result<TaskHistory> {
    let why = access::read_why(why)?;
    require_case_reader(who)?;
    let mut tx = cw.pool.begin().await?;
    let row = visible(who, access::load_task(&mut tx, task, false).await?)?;
    let policy = FieldPolicy::for_case(who, &row.gemeentecode, row.closed_reason)?;
    let notes = policy.notes(row.condition, row.claimed_by.as_deref());
    let entries = sqlx::query!(
        r#"SELECT at, by_whom, change, from_status AS "from_status: ConditionStatus",
                  to_status AS "to_status: ConditionStatus", from_holder, to_holder, note
           FROM task_history WHERE case_id = $1 AND condition = $2 ORDER BY id"#,
        task.case_id,
        task.condition as Condition,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|e| HistoryEntry {
        at: e.at,
        by: e.by_whom,
        change: e.change,
        from_status: e.from_status,
        to_status: e.to_status,
        from_holder: e.from_holder,
        to_holder: e.to_holder,
        note_withheld: e.note.is_some() && !notes,
        note: e.note.filter(|_| notes),
    })
    .collect();
    access::log_reads_why(
        &mut tx,
        who,
        &[row.case_id],
        &policy
            .task_history_read(row.condition, row.claimed_by.as_deref())
            .to_log(),
        why,
    )
    .await?;
    tx.commit().await?;
    Ok(TaskHistory { task, entries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConditionStatus::*;

    fn code(r: Result<()>) -> Option<ErrorCode> {
        match r {
            Ok(()) => None,
            Err(crate::error::CaseworkError::Refused(e)) => ErrorCode::of(&e),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn work_moves_forward_and_may_skip_steps() {
        for (from, to) in [
            (Unknown, NeedsAction),
            (NeedsAction, InProgress),
            (InProgress, Arranged),
            (Unknown, Arranged),
            (InProgress, NeedsAction),
        ] {
            assert_eq!(
                code(check_transition(from, to, None, None)),
                None,
                "{from:?} → {to:?}"
            );
        }
    }

    #[test]
    fn nothing_goes_back_to_unknown_and_nothing_stays_put() {
        assert_eq!(
            code(check_transition(NeedsAction, Unknown, None, Some("oops"))),
            Some(ErrorCode::InvalidTransition)
        );
        assert_eq!(
            code(check_transition(InProgress, InProgress, None, None)),
            Some(ErrorCode::NoChange)
        );
    }

    #[test]
    fn not_applicable_needs_a_reason() {
        assert_eq!(
            code(check_transition(Unknown, NotApplicable, None, None)),
            Some(ErrorCode::ReasonRequired)
        );
        assert_eq!(
            code(check_transition(Unknown, NotApplicable, Some("  "), None)),
            Some(ErrorCode::ReasonRequired)
        );
        assert_eq!(
            code(check_transition(
                Unknown,
                NotApplicable,
                Some("Has a valid passport"),
                None
            )),
            None
        );
    }

    #[test]
    fn reopening_finished_work_needs_a_note() {
        assert_eq!(
            code(check_transition(Arranged, InProgress, None, None)),
            Some(ErrorCode::NoteRequired)
        );
        assert_eq!(
            code(check_transition(
                NotApplicable,
                NeedsAction,
                None,
                Some("Lost the room")
            )),
            None
        );
        assert_eq!(
            code(check_transition(
                Arranged,
                NotApplicable,
                Some("Moved abroad"),
                None
            )),
            None,
            "from one finished state to the other"
        );
    }

    #[test]
    fn overlong_notes_are_refused() {
        let long = "x".repeat(MAX_NOTE + 1);
        assert_eq!(
            code(check_transition(Unknown, NeedsAction, None, Some(&long))),
            Some(ErrorCode::BadRequest)
        );
    }
}
