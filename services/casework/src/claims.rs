//! Claiming condition tasks: claim, unclaim, hand over, claim a whole case, claim many, reassign.
//!
//! Every change of holder is one conditional UPDATE (`… WHERE claimed_by IS NULL`, `… WHERE
//! claimed_by = me`, `… WHERE claimed_by IS NOT DISTINCT FROM expected`): PostgreSQL re-checks
//! the condition after waiting for a concurrent writer, so when two people claim at the same
//! instant exactly one UPDATE matches. Only when it matches nothing do we look at the row, to
//! tell the caller why (and who holds the task).
//!
//! Bulk requests run in one transaction, task by task, and report per task. Whatever locks
//! several tasks — a bulk claim, claiming a whole case, reassigning, a later notice moving a case
//! or its deadlines — locks them in one order, by case id and then by condition *name* (the
//! order PostgreSQL sorts `condition` in), so two of them cannot deadlock. Should PostgreSQL
//! abort a request for a conflict all the same, the API runs it again ([`crate::retry`]).

use rcn_contracts::casework_api::{BulkReply, BulkResult, ErrorCode, MAX_BULK, TaskRef, TaskView};
use rcn_contracts::casework_events::AssignmentChange;
use rcn_contracts::identity::{Identity, check_user_id};
use rcn_contracts::{Condition, Gemeentecode};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::access::{self, TaskRow, require_staff, workable};
use crate::error::{CaseworkError, Result, claimed_by_other, not_found, refuse, refuse_held};
use crate::history;
use crate::state::Casework;

fn view(row: &TaskRow, holder: Option<&str>) -> TaskView {
    TaskView {
        case_id: row.case_id,
        condition: row.condition,
        status: row.status,
        claimed_by: holder.map(str::to_owned),
        due_on: row.due_on,
    }
}

/// `claim`: take a task nobody holds. Claiming a task one already holds succeeds again, so a
/// retried request after a lost reply does no harm.
pub async fn claim(cw: &Casework, who: &Identity, task: TaskRef) -> Result<TaskView> {
    let mut tx = cw.pool.begin().await?;
    let v = claim_in(&mut tx, cw, who, task).await?;
    tx.commit().await?;
    Ok(v)
}

async fn claim_in(
    conn: &mut PgConnection,
    cw: &Casework,
    who: &Identity,
    task: TaskRef,
) -> Result<TaskView> {
    let gemeente = require_staff(who)?;
    let claimed = sqlx::query_scalar!(
        "UPDATE condition_tasks t SET claimed_by = $3, claimed_at = now(), updated_at = now()
         FROM cases c
         WHERE t.case_id = $1 AND t.condition = $2 AND c.case_id = t.case_id
           AND c.gemeentecode = $4 AND c.status = 'open'
           AND t.claimed_by IS NULL AND t.status IN ('unknown', 'needs_action', 'in_progress')
         RETURNING t.case_id",
        task.case_id,
        task.condition as Condition,
        who.user_id,
        gemeente as &Gemeentecode,
    )
    .fetch_optional(&mut *conn)
    .await?;
    // The row as it is now: ours after a successful claim (the UPDATE holds its lock).
    let row = workable(who, access::load_task(conn, task, false).await?)?;
    if claimed.is_some() {
        let before = TaskRow {
            claimed_by: None,
            ..row.clone()
        };
        history::holder_changed(
            conn,
            &cw.subjects,
            &before,
            AssignmentChange::Claimed,
            Some(&who.user_id),
            &who.user_id,
            None,
        )
        .await?;
        return Ok(view(&row, Some(&who.user_id)));
    }
    match row.claimed_by.as_deref() {
        Some(me) if me == who.user_id => Ok(view(&row, Some(me))),
        Some(other) => Err(claimed_by_other(other)),
        None if !row.status.is_open() => Err(refuse(
            ErrorCode::TaskDone,
            format!(
                "This task is already {}; there is nothing left to claim.",
                row.status.as_str().replace('_', " ")
            ),
        )),
        // Claimed and given back between our UPDATE and our look: the caller may simply retry.
        None => Err(refuse(
            ErrorCode::ClaimedByOther,
            "Someone claimed and released this task just now. Please try again.",
        )),
    }
}

/// `unclaim`: give back a task one holds.
pub async fn unclaim(cw: &Casework, who: &Identity, task: TaskRef) -> Result<TaskView> {
    let mut tx = cw.pool.begin().await?;
    let row = move_holder(
        &mut tx,
        cw,
        who,
        task,
        Some(&who.user_id),
        None,
        AssignmentChange::Unclaimed,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(view(&row, None))
}

/// `handover`: give a task one holds to a named colleague of the same municipality.
pub async fn handover(
    cw: &Casework,
    who: &Identity,
    task: TaskRef,
    to: &str,
    note: Option<&str>,
) -> Result<TaskView> {
    check_user_id(to).map_err(|e| refuse(ErrorCode::BadRequest, format!("to_user_id: {e}")))?;
    let mut tx = cw.pool.begin().await?;
    if to == who.user_id {
        // Only the holder may be told they already hold it; anyone else learns who does.
        let row = workable(who, access::load_task(&mut tx, task, false).await?)?;
        return Err(match row.claimed_by.as_deref() {
            Some(me) if me == who.user_id => refuse(
                ErrorCode::BadRequest,
                "You already hold this task; name the colleague to hand it to.",
            ),
            holder => not_yours(holder),
        });
    }
    let row = move_holder(
        &mut tx,
        cw,
        who,
        task,
        Some(&who.user_id),
        Some(to),
        AssignmentChange::HandedOver,
        note,
    )
    .await?;
    tx.commit().await?;
    Ok(view(&row, Some(to)))
}

/// Moves a task from `expected` to `to`, if `expected` still holds it.
#[allow(clippy::too_many_arguments)]
async fn move_holder(
    conn: &mut PgConnection,
    cw: &Casework,
    who: &Identity,
    task: TaskRef,
    expected: Option<&str>,
    to: Option<&str>,
    change: AssignmentChange,
    note: Option<&str>,
) -> Result<TaskRow> {
    let gemeente = require_staff(who)?;
    let before = sqlx::query_scalar!(
        "UPDATE condition_tasks t
         SET claimed_by = $4, claimed_at = CASE WHEN $4::text IS NULL THEN NULL ELSE now() END, updated_at = now()
         FROM cases c
         WHERE t.case_id = $1 AND t.condition = $2 AND c.case_id = t.case_id
           AND c.gemeentecode = $5 AND c.status = 'open'
           AND t.claimed_by IS NOT DISTINCT FROM $3
         RETURNING $3::text",
        task.case_id,
        task.condition as Condition,
        expected,
        to,
        gemeente as &Gemeentecode,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let row = workable(who, access::load_task(conn, task, false).await?)?;
    if before.is_some() {
        let before = TaskRow {
            claimed_by: expected.map(str::to_owned),
            ..row.clone()
        };
        history::holder_changed(conn, &cw.subjects, &before, change, to, &who.user_id, note)
            .await?;
        return Ok(row);
    }
    let mine = expected == Some(who.user_id.as_str());
    Err(match (row.claimed_by.as_deref(), mine) {
        (holder, true) => not_yours(holder),
        (holder, false) => refuse_held(
            ErrorCode::HolderChanged,
            match holder {
                Some(h) => format!("The task changed hands since you looked: {h} holds it now."),
                None => "The task changed hands since you looked: nobody holds it now.".to_owned(),
            },
            holder,
        ),
    })
}

/// The refusal for someone who does not hold a task they act on as its holder: says who does.
fn not_yours(holder: Option<&str>) -> CaseworkError {
    match holder {
        None => refuse(
            ErrorCode::NotClaimedByYou,
            "You do not hold this task (nobody does).",
        ),
        Some(other) => refuse_held(
            ErrorCode::NotClaimedByYou,
            format!("You do not hold this task; {other} does."),
            Some(other),
        ),
    }
}

/// `claim_case`: every open task of a case that nobody else holds, in the one locking order.
pub async fn claim_case(cw: &Casework, who: &Identity, case_id: Uuid) -> Result<BulkReply> {
    require_staff(who)?;
    let mut tx = cw.pool.begin().await?;
    let conditions = sqlx::query_scalar!(
        r#"SELECT condition AS "condition: Condition" FROM condition_tasks WHERE case_id = $1"#,
        case_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut tasks: Vec<TaskRef> = conditions
        .into_iter()
        .map(|condition| TaskRef { case_id, condition })
        .collect();
    tasks.sort_by(lock_order);
    // The whole case must be the caller's to work, else nothing is said about it.
    let first = tasks.first().copied().ok_or_else(not_found)?;
    workable(who, access::load_task(&mut tx, first, false).await?)?;
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        let row = access::load_task(&mut tx, task, false).await?;
        if row.as_ref().is_some_and(|r| !r.status.is_open()) {
            continue; // Done tasks are not part of claiming a case.
        }
        let outcome = claim_in(&mut tx, cw, who, task).await;
        results.push(bulk_result(task, outcome)?);
    }
    tx.commit().await?;
    Ok(BulkReply { results })
}

/// `claim_many`: several tasks, each succeeding or failing on its own.
pub async fn claim_many(cw: &Casework, who: &Identity, tasks: &[TaskRef]) -> Result<BulkReply> {
    let tasks = bulk_tasks(tasks)?;
    let mut tx = cw.pool.begin().await?;
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        let outcome = claim_in(&mut tx, cw, who, task).await;
        results.push(bulk_result(task, outcome)?);
    }
    tx.commit().await?;
    Ok(BulkReply { results })
}

/// `reassign`: move tasks to `to` (or to nobody), each only where `expected` still holds it.
pub async fn reassign(
    cw: &Casework,
    who: &Identity,
    tasks: &[TaskRef],
    expected: Option<&str>,
    to: Option<&str>,
    note: Option<&str>,
) -> Result<BulkReply> {
    if let Some(to) = to {
        check_user_id(to).map_err(|e| refuse(ErrorCode::BadRequest, format!("to_user_id: {e}")))?;
    }
    if expected == to {
        return Err(refuse(
            ErrorCode::BadRequest,
            "The tasks would stay with whom they are; name another colleague.",
        ));
    }
    let tasks = bulk_tasks(tasks)?;
    let change = if to.is_none() {
        AssignmentChange::Unclaimed
    } else {
        AssignmentChange::Reassigned
    };
    let mut tx = cw.pool.begin().await?;
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        let outcome = move_holder(&mut tx, cw, who, task, expected, to, change, note).await;
        results.push(bulk_result(task, outcome)?);
    }
    tx.commit().await?;
    Ok(BulkReply { results })
}

/// The one order in which casework locks several tasks: by case, then by condition name, byte by
/// byte — in SQL `ORDER BY case_id, condition COLLATE "C"`, as later notices lock a case's tasks.
/// (Not [`Condition`]'s own order, which is the order conditions are listed in.)
pub fn lock_order(a: &TaskRef, b: &TaskRef) -> std::cmp::Ordering {
    (a.case_id, a.condition.as_str()).cmp(&(b.case_id, b.condition.as_str()))
}

/// Sorted into [`lock_order`] and de-duplicated, so concurrent requests lock rows in one order.
fn bulk_tasks(tasks: &[TaskRef]) -> Result<Vec<TaskRef>> {
    if tasks.is_empty() || tasks.len() > MAX_BULK {
        return Err(refuse(
            ErrorCode::BadRequest,
            format!("Name 1 to {MAX_BULK} tasks."),
        ));
    }
    let mut sorted = tasks.to_vec();
    sorted.sort_by(lock_order);
    sorted.dedup();
    Ok(sorted)
}

/// A refusal becomes this task's result; a database error fails the whole request.
fn bulk_result<T>(task: TaskRef, outcome: Result<T>) -> Result<BulkResult> {
    match outcome {
        Ok(_) => Ok(BulkResult { task, error: None }),
        Err(CaseworkError::Refused(e)) => Ok(BulkResult {
            task,
            error: Some(e),
        }),
        Err(e) => Err(e),
    }
}
