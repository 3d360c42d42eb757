//! A case as a later notice finds it, and its tasks held for the change: what the updates a
//! later notice makes ([`crate::updates`]) and reopening a closed case ([`crate::reopening`])
//! both start from. Reads and locks only; it decides nothing.

use chrono::NaiveDate;
use rcn_contracts::casework_api::{CaseStatus, CloseReason};
use rcn_contracts::casework_events::AssignmentChange;
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode};
use rcn_runtime::consumer::HandlerError;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::access::TaskRow;
use crate::history;
use crate::state::Casework;

/// A case as a later notice finds it.
pub(crate) struct CaseState {
    pub gemeentecode: Gemeentecode,
    pub status: CaseStatus,
    pub closed_reason: Option<CloseReason>,
    pub expected_release_on: Option<NaiveDate>,
    pub released_on: Option<NaiveDate>,
    pub spoed: bool,
    pub institution_code: String,
    pub episode_key: String,
}

/// Locks every task of a case, in the one locking order ([`crate::claims::lock_order`]), and
/// returns them as they are. `NO KEY UPDATE`, the lock a claim's UPDATE takes: it holds claims
/// off but not the scheduler's reminders, whose foreign key only needs `KEY SHARE`.
pub(crate) async fn lock_tasks(
    tx: &mut PgConnection,
    case_id: Uuid,
) -> Result<Vec<TaskRow>, HandlerError> {
    Ok(sqlx::query_as!(
        TaskRow,
        r#"SELECT t.case_id, t.condition AS "condition: Condition", t.status AS "status: ConditionStatus",
                  t.claimed_by, t.due_on, c.gemeentecode AS "gemeentecode: Gemeentecode", c.episode_key,
                  c.status = 'open' AS "case_open!", c.closed_reason AS "closed_reason: CloseReason"
           FROM condition_tasks t JOIN cases c ON c.case_id = t.case_id
           WHERE t.case_id = $1 ORDER BY t.condition COLLATE "C" FOR NO KEY UPDATE OF t"#,
        case_id,
    )
    .fetch_all(&mut *tx)
    .await?)
}

/// Ends every claim on `tasks` (locked by [`lock_tasks`]), each recorded and announced as lapsed
/// with `note`.
pub(crate) async fn lapse_claims(
    cw: &Casework,
    tx: &mut PgConnection,
    tasks: &[TaskRow],
    by: &str,
    note: &str,
) -> Result<(), HandlerError> {
    let Some(first) = tasks.first() else {
        return Ok(());
    };
    sqlx::query!(
        "UPDATE condition_tasks SET claimed_by = NULL, claimed_at = NULL, updated_at = now()
         WHERE case_id = $1 AND claimed_by IS NOT NULL",
        first.case_id,
    )
    .execute(&mut *tx)
    .await?;
    for task in tasks.iter().filter(|t| t.claimed_by.is_some()) {
        history::holder_changed(
            tx,
            &cw.subjects,
            task,
            AssignmentChange::Lapsed,
            None,
            by,
            Some(note),
        )
        .await?;
    }
    Ok(())
}
