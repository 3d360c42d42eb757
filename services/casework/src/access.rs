//! Who may see and change what, checked again here whatever the gateway decided; and the
//! append-only log of every read of personal data.
//!
//! A caller who may not see a case gets the same `not_found` as for a case that does not exist,
//! so a staff member of one municipality cannot even learn that a case of another exists.

use chrono::NaiveDate;
use rcn_contracts::casework_api::{CloseReason, ErrorCode, TaskRef};
use rcn_contracts::events::ConditionState;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Result, not_found, refuse};

/// A task with what authorisation needs to know about its case.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub case_id: Uuid,
    pub condition: Condition,
    pub status: ConditionStatus,
    pub claimed_by: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub gemeentecode: Gemeentecode,
    pub episode_key: String,
    pub case_open: bool,
    /// Why the case closed (none while open): some closures end the municipality's access.
    pub closed_reason: Option<CloseReason>,
}

impl TaskRow {
    pub fn task(&self) -> TaskRef {
        TaskRef {
            case_id: self.case_id,
            condition: self.condition,
        }
    }

    /// The condition and its status, as events carry them.
    pub fn state(&self) -> ConditionState {
        ConditionState {
            condition: self.condition,
            status: self.status,
        }
    }
}

/// Loads a task, locking its row when `lock` (for a read-modify-write in the caller's transaction).
pub async fn load_task(
    conn: &mut PgConnection,
    task: TaskRef,
    lock: bool,
) -> Result<Option<TaskRow>> {
    // Two statements rather than one assembled: each is checked by the compiler as it is sent.
    let row = if lock {
        sqlx::query_as!(
            TaskRow,
            r#"SELECT t.case_id, t.condition AS "condition: Condition", t.status AS "status: ConditionStatus",
                      t.claimed_by, t.due_on, c.gemeentecode AS "gemeentecode: Gemeentecode", c.episode_key,
                      c.status = 'open' AS "case_open!", c.closed_reason AS "closed_reason: CloseReason"
               FROM condition_tasks t JOIN cases c ON c.case_id = t.case_id
               WHERE t.case_id = $1 AND t.condition = $2 FOR UPDATE OF t"#,
            task.case_id,
            task.condition as Condition,
        )
        .fetch_optional(&mut *conn)
        .await?
    } else {
        sqlx::query_as!(
            TaskRow,
            r#"SELECT t.case_id, t.condition AS "condition: Condition", t.status AS "status: ConditionStatus",
                      t.claimed_by, t.due_on, c.gemeentecode AS "gemeentecode: Gemeentecode", c.episode_key,
                      c.status = 'open' AS "case_open!", c.closed_reason AS "closed_reason: CloseReason"
               FROM condition_tasks t JOIN cases c ON c.case_id = t.case_id
               WHERE t.case_id = $1 AND t.condition = $2"#,
            task.case_id,
            task.condition as Condition,
        )
        .fetch_optional(&mut *conn)
        .await?
    };
    Ok(row)
}

/// The task if the caller may see its case ([`crate::visibility::may_see_case`]); `not_found`
/// otherwise.
pub fn visible(who: &Identity, row: Option<TaskRow>) -> Result<TaskRow> {
    match row {
        Some(row) if crate::visibility::may_see_case(who, &row.gemeentecode, row.closed_reason) => {
            Ok(row)
        }
        _ => Err(not_found()),
    }
}

/// The task if the caller may work on it: their municipality's, in an open case.
pub fn workable(who: &Identity, row: Option<TaskRow>) -> Result<TaskRow> {
    let row = visible(who, row)?;
    require_staff(who)?;
    if !who.may_work(&row.gemeentecode) {
        return Err(not_found());
    }
    if !row.case_open {
        return Err(refuse(
            ErrorCode::CaseClosed,
            "This case is closed; its tasks can no longer change.",
        ));
    }
    Ok(row)
}

/// Only municipal staff claim and work tasks; the RCN and procesregie look on.
pub fn require_staff(who: &Identity) -> Result<&Gemeentecode> {
    match (&who.role, &who.gemeentecode) {
        (Role::MunicipalStaff, Some(gm)) => Ok(gm),
        _ => Err(refuse(
            ErrorCode::Forbidden,
            "Only staff of the case's municipality claim and work its tasks.",
        )),
    }
}

/// The reason a read request gave, by the one rule of every read
/// ([`rcn_contracts::access_log::read_why`]): trimmed, none when blank; refused (`bad_request`,
/// nothing read) when too long or not one line.
pub fn read_why(raw: Option<&str>) -> Result<Option<&str>> {
    rcn_contracts::access_log::read_why(raw)
        .map_err(|p| refuse(ErrorCode::BadRequest, format!("{}: {}", p.path, p.message)))
}

/// Records that `who` read `what` of each case, in the caller's transaction: a read that cannot
/// be logged does not happen. Each row keeps the person pseudonym of its case.
pub async fn log_reads(
    conn: &mut PgConnection,
    who: &Identity,
    case_ids: &[Uuid],
    what: &str,
) -> Result<()> {
    log_reads_why(conn, who, case_ids, what, None).await
}

/// [`log_reads`], with the reason the reader gave for the read.
pub async fn log_reads_why(
    conn: &mut PgConnection,
    who: &Identity,
    case_ids: &[Uuid],
    what: &str,
    why: Option<&str>,
) -> Result<()> {
    if case_ids.is_empty() {
        return Ok(());
    }
    // Each row carries the person pseudonym of its case, so "who saw this person" still finds
    // it after retention has deleted the case (the log outlives it). A left join: a read is
    // logged even of an id no case has (then without a pseudonym), never silently dropped.
    sqlx::query!(
        "INSERT INTO access_log (user_id, role, gemeentecode, case_id, what, why, person_key)
         SELECT $1, $2, $3, r.id, $5, $6, c.person_key
         FROM unnest($4::uuid[]) AS r(id) LEFT JOIN cases c ON c.case_id = r.id",
        who.user_id,
        who.role as Role,
        &who.gemeentecode as &Option<Gemeentecode>,
        case_ids,
        what,
        why,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
