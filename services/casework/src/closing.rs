//! Closing a case: by hand with a reason, by a `cancelled` notice, or by the scheduler once the
//! person is released and every condition is done. A closed case never changes again; its tasks
//! leave every inbox.

use chrono::{DateTime, Utc};
use rcn_contracts::casework_api::{
    CaseClosedReply, CaseStatus, CloseCaseRequest, CloseReason, ErrorCode,
};
use rcn_contracts::casework_events::CaseClosed;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Condition, Gemeentecode, SCHEMA_VERSION, Subjects};
use rcn_runtime::outbox;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Result, not_found, refuse};
use crate::history;
use crate::state::Casework;
use crate::tasks::MAX_NOTE;

/// `close_case`: municipal staff close their municipality's cases, the RCN any case of the region.
pub async fn close_by_hand(
    cw: &Casework,
    who: &Identity,
    req: &CloseCaseRequest,
) -> Result<CaseClosedReply> {
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if req.reason == CloseReason::Cancelled {
        return Err(refuse(
            ErrorCode::BadRequest,
            "Only the institution's cancelling notice closes a case as cancelled; choose another reason.",
        ));
    }
    if req.reason == CloseReason::Other && note.is_none() {
        return Err(refuse(
            ErrorCode::NoteRequired,
            "Say why the case is closed.",
        ));
    }
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(refuse(
            ErrorCode::BadRequest,
            format!("The note may be at most {MAX_NOTE} characters."),
        ));
    }
    let mut tx = cw.pool.begin().await?;
    let case = sqlx::query!(
        r#"SELECT gemeentecode AS "gemeentecode: Gemeentecode", status AS "status: CaseStatus",
                  closed_reason AS "closed_reason: CloseReason"
           FROM cases WHERE case_id = $1 FOR UPDATE"#,
        req.case_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(case) = case else {
        return Err(not_found());
    };
    let gemeente = case.gemeentecode;
    if !crate::visibility::may_see_case(who, &gemeente, case.closed_reason) {
        return Err(not_found());
    }
    if !(who.may_work(&gemeente) || who.role == Role::RcnCoordinator) {
        return Err(refuse(
            ErrorCode::Forbidden,
            "Only the municipality's staff or the RCN close a case.",
        ));
    }
    if case.status != CaseStatus::Open {
        return Err(refuse(
            ErrorCode::CaseClosed,
            "This case is already closed.",
        ));
    }
    let closed_at = close(
        &mut tx,
        &cw.subjects,
        req.case_id,
        req.reason,
        &who.user_id,
        note,
    )
    .await?;
    tx.commit().await?;
    Ok(CaseClosedReply {
        case_id: req.case_id,
        reason: req.reason,
        closed_at,
    })
}

/// Closes an open case in the caller's transaction, records it and announces it. Returns when.
pub async fn close(
    conn: &mut PgConnection,
    subjects: &Subjects,
    case_id: Uuid,
    reason: CloseReason,
    by: &str,
    note: Option<&str>,
) -> Result<DateTime<Utc>> {
    let closed_at = Utc::now();
    let row = sqlx::query!(
        r#"UPDATE cases SET status = 'closed', closed_at = $2, closed_reason = $3, closed_by = $4, closed_note = $5
           WHERE case_id = $1 AND status = 'open'
           RETURNING episode_key, gemeentecode AS "gemeentecode: Gemeentecode""#,
        case_id,
        closed_at,
        reason as CloseReason,
        by,
        note,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Err(refuse(
            ErrorCode::CaseClosed,
            "This case is already closed.",
        ));
    };
    let open = sqlx::query_scalar!(
        r#"SELECT condition AS "condition: Condition" FROM condition_tasks
           WHERE case_id = $1 AND status IN ('unknown', 'needs_action', 'in_progress') ORDER BY condition"#,
        case_id,
    )
    .fetch_all(&mut *conn)
    .await?;
    history::record_case(
        conn,
        case_id,
        by,
        "closed",
        serde_json::json!({"reason": reason.as_str(), "note": note, "open_conditions": open}),
    )
    .await?;
    let gemeentecode = row.gemeentecode;
    let event = CaseClosed {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id,
        episode_key: row.episode_key,
        gemeentecode: gemeentecode.clone(),
        reason,
        by: by.to_owned(),
        open_conditions: open,
        closed_at,
    };
    let subject = subjects.case_closed(&gemeentecode);
    outbox::enqueue(
        conn,
        outbox::Event {
            event_id: event.event_id,
            subject,
            payload: &event,
            trace: None,
        },
    )
    .await?;
    tracing::info!(%case_id, reason = reason.as_str(), "case closed");
    Ok(closed_at)
}
