//! Reopening a closed case when the institution's newer word undoes why it closed.
//!
//! Two closures are about where the episode stands rather than about the work: `cancelled` (the
//! institution cancelled the notice) and `moved_out_of_region` (the person was routed outside the
//! region). When a notice of the same episode, sent strictly after every notice already applied
//! (a notice sent at the same instant as the closing one does not reopen), is then
//! routed to a municipality of the region — detention restarted with the same start date, or the
//! person registered back in the region — the same case reopens: one case per episode, its
//! tasks and their history kept. What the case had is carried over as it stands (finished tasks
//! stay finished); claims of before the closure lapse, since the closure ended them; a case closed
//! before it ever had tasks gets them now from the notice's screening. The municipality is told
//! with `CaseOpened`, as if the case had been routed there first; the rest of the notice (a new
//! release date, an unexpected release) then applies as to any open case.
//!
//! Cases closed for any other reason (completed, deceased, duplicate, other — a person's
//! judgement) never reopen; a later notice is only attached to them.

use chrono::Utc;
use rcn_contracts::Gemeentecode;
use rcn_contracts::casework_api::{CaseStatus, CloseReason};
use rcn_contracts::events::NoticeRouted;
use rcn_contracts::notice::NoticeKind;
use rcn_runtime::consumer::{Delivery, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::access::TaskRow;
use crate::case_state::{CaseState, lapse_claims, lock_tasks};
use crate::history;
use crate::opening::Opening;
use crate::state::Casework;

/// Whether a case closed for `closed_reason` reopens on a newer notice of `kind`.
pub fn reopens(closed_reason: Option<CloseReason>, kind: NoticeKind) -> bool {
    let reopenable = [CloseReason::Cancelled, CloseReason::MovedOutOfRegion];
    kind != NoticeKind::Cancelled && closed_reason.is_some_and(|r| reopenable.contains(&r))
}

/// Reopens `case` (locked, closed, [`reopens`]) in `gemeente`, in the consumer's transaction.
pub(crate) async fn reopen(
    cw: &Casework,
    tx: &mut PgConnection,
    case_id: Uuid,
    case: &CaseState,
    d: &Delivery<NoticeRouted>,
    gemeente: &Gemeentecode,
) -> Result<(), HandlerError> {
    let routed = &d.message;
    let by = format!("notice:{}", routed.notice_key);
    // The tasks as the closure left them, with the municipality that held them then.
    let tasks = lock_tasks(tx, case_id).await?;
    let closed_at = sqlx::query_scalar!(
        r#"UPDATE cases c SET status = $3, gemeentecode = $2,
                closed_at = NULL, closed_reason = NULL, closed_by = NULL, closed_note = NULL
         FROM (SELECT closed_at FROM cases WHERE case_id = $1) AS before
         WHERE c.case_id = $1 RETURNING before.closed_at AS "closed_at?""#,
        case_id,
        gemeente as &Gemeentecode,
        CaseStatus::Open as CaseStatus,
    )
    .fetch_one(&mut *tx)
    .await?;
    let conditions = if tasks.is_empty() {
        cw.open_tasks(tx, case_id, routed).await?
    } else {
        let why = format!(
            "the case was closed ({}) and reopened",
            case.closed_reason.map_or("closed", CloseReason::as_str)
        );
        lapse_claims(cw, tx, &tasks, &by, &why).await?;
        tasks.iter().map(TaskRow::state).collect()
    };
    let detail = serde_json::json!({
        "closed_reason": case.closed_reason,
        "closed_at": closed_at,
        "from": case.gemeentecode,
        "to": gemeente.as_str(),
        "tasks_created": tasks.is_empty(),
    });
    history::record_case(tx, case_id, &by, "reopened", detail).await?;
    let opening = Opening {
        case_id,
        gemeente,
        expected_release_on: case.expected_release_on,
        spoed: case.spoed || case.released_on.is_some(),
        conditions,
    };
    cw.announce_opened(tx, opening, d, Utc::now()).await?;
    tracing::info!(%case_id, notice_key = %routed.notice_key, closed_reason = case.closed_reason.map(CloseReason::as_str), gemeentecode = %gemeente, "closed case reopened by a newer notice");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_episodes_own_closures_reopen_and_never_by_a_cancellation() {
        for (reason, kind, expected) in [
            (
                Some(CloseReason::Cancelled),
                NoticeKind::DetentionStarted,
                true,
            ),
            (
                Some(CloseReason::MovedOutOfRegion),
                NoticeKind::Update,
                true,
            ),
            (
                Some(CloseReason::MovedOutOfRegion),
                NoticeKind::Cancelled,
                false,
            ),
            (
                Some(CloseReason::Completed),
                NoticeKind::ReleasePlanned,
                false,
            ),
            (Some(CloseReason::Deceased), NoticeKind::Update, false),
            (Some(CloseReason::Duplicate), NoticeKind::Update, false),
            (Some(CloseReason::Other), NoticeKind::Update, false),
            (None, NoticeKind::Update, false),
        ] {
            assert_eq!(reopens(reason, kind), expected, "{reason:?} then {kind:?}");
        }
    }
}
