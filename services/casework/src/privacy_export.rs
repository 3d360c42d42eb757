//! `privacy_export`: the privacy officer asks casework what it holds about one person (AVG art.
//! 15, issue 16): every case of the person in full — the person as recorded (the full BSN: it is
//! their own data), detention, risk flags, the notices applied, each condition with its whole
//! history, and the case's own history.
//!
//! Found through the person pseudonym (`cases_person`), never by BSN in SQL. Only a privacy
//! officer may ask; anyone else is refused before anything is read or logged. The question (who,
//! when, why, the pseudonym) goes into `privacy_questions` in the same transaction as the answer
//! is read, so "who saw this person" shows it.

use std::collections::HashMap;

use rcn_contracts::casework_api::{CaseStatus, CloseReason, ErrorCode, HistoryEntry};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_export::{
    CaseHistoryRecord, CaseNoticeRecord, CaseRecord, CaseworkExport, ConditionRecord, EXPORT_VERB,
    ExportRequest, PersonRecord,
};
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, NoticeKind, RiskFlag};
use uuid::Uuid;

use crate::error::{Result, refuse};
use crate::privacy::person_key;
use crate::state::Casework;

/// `privacy_export`: the person's cases, oldest first, the question logged.
pub async fn export(
    cw: &Casework,
    who: &Identity,
    request: &ExportRequest,
) -> Result<CaseworkExport> {
    if who.role != Role::PrivacyOfficer {
        return Err(refuse(
            ErrorCode::Forbidden,
            "Only the privacy officer may export what rcn holds about a person.",
        ));
    }
    let person_key = person_key(cw, &request.bsn)?;
    let mut tx = cw.pool.begin().await?;
    sqlx::query!(
        "INSERT INTO privacy_questions (user_id, role, gemeentecode, person_key, question, why)
         VALUES ($1, $2, $3, $4, $5, $6)",
        who.user_id,
        who.role as Role,
        &who.gemeentecode as &Option<Gemeentecode>,
        person_key,
        EXPORT_VERB,
        request.why,
    )
    .execute(&mut *tx)
    .await?;

    let cases = sqlx::query!(
        r#"SELECT case_id, status AS "status: CaseStatus", gemeentecode AS "gemeentecode: Gemeentecode",
                  bsn, family_name, name_prefix, given_names, date_of_birth, institution_code,
                  started_on, expected_release_on, released_on, spoed, risk_flags, opened_at,
                  closed_at, closed_reason AS "closed_reason: CloseReason", closed_note
           FROM cases WHERE person_key = $1 ORDER BY opened_at, case_id"#,
        person_key,
    )
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = cases.iter().map(|c| c.case_id).collect();

    let tasks = sqlx::query!(
        r#"SELECT case_id, condition AS "condition: Condition", status AS "status: ConditionStatus",
                  due_on, claimed_by, note, reason
           FROM condition_tasks WHERE case_id = ANY($1)"#,
        &ids,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut task_history: HashMap<(Uuid, Condition), Vec<HistoryEntry>> = HashMap::new();
    for h in sqlx::query!(
        r#"SELECT case_id, condition AS "condition: Condition", at, by_whom, change,
                  from_status AS "from_status: ConditionStatus",
                  to_status AS "to_status: ConditionStatus", from_holder, to_holder, note
           FROM task_history WHERE case_id = ANY($1) ORDER BY id"#,
        &ids,
    )
    .fetch_all(&mut *tx)
    .await?
    {
        task_history
            .entry((h.case_id, h.condition))
            .or_default()
            .push(HistoryEntry {
                at: h.at,
                by: h.by_whom,
                change: h.change,
                from_status: h.from_status,
                to_status: h.to_status,
                from_holder: h.from_holder,
                to_holder: h.to_holder,
                note: h.note,
                // The person's own export holds every note, the care notes included.
                note_withheld: false,
            });
    }
    let mut notices: HashMap<Uuid, Vec<CaseNoticeRecord>> = HashMap::new();
    for n in sqlx::query!(
        r#"SELECT case_id, notice_key, kind AS "kind: NoticeKind", sent_at, received_at
           FROM case_notices WHERE case_id = ANY($1)
           ORDER BY sent_at, received_at, notice_key"#,
        &ids,
    )
    .fetch_all(&mut *tx)
    .await?
    {
        notices
            .entry(n.case_id)
            .or_default()
            .push(CaseNoticeRecord {
                notice_key: n.notice_key,
                kind: n.kind,
                sent_at: n.sent_at,
                received_at: n.received_at,
            });
    }
    let mut case_history: HashMap<Uuid, Vec<CaseHistoryRecord>> = HashMap::new();
    for h in sqlx::query!(
        "SELECT case_id, at, by_whom, change, detail FROM case_history
         WHERE case_id = ANY($1) ORDER BY id",
        &ids,
    )
    .fetch_all(&mut *tx)
    .await?
    {
        case_history
            .entry(h.case_id)
            .or_default()
            .push(CaseHistoryRecord {
                at: h.at,
                by: h.by_whom,
                change: h.change,
                detail: h.detail,
            });
    }
    tx.commit().await?;

    let mut conditions: HashMap<Uuid, Vec<ConditionRecord>> = HashMap::new();
    for t in tasks {
        let history = task_history
            .remove(&(t.case_id, t.condition))
            .unwrap_or_default();
        conditions
            .entry(t.case_id)
            .or_default()
            .push(ConditionRecord {
                condition: t.condition,
                status: t.status,
                due_on: t.due_on,
                claimed_by: t.claimed_by,
                note: t.note,
                reason: t.reason,
                history,
            });
    }
    let mut out = Vec::with_capacity(cases.len());
    for c in cases {
        let mut conditions = conditions.remove(&c.case_id).unwrap_or_default();
        // The region's order (ID, housing, income, …); one no longer configured goes last.
        conditions.sort_by_key(|t| {
            cw.conditions
                .iter()
                .position(|c| *c == t.condition)
                .unwrap_or(usize::MAX)
        });
        let risk_flags = serde_json::from_value::<Vec<RiskFlag>>(c.risk_flags)
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        out.push(CaseRecord {
            case_id: c.case_id,
            status: c.status,
            gemeentecode: c.gemeentecode,
            person: PersonRecord {
                bsn: c.bsn,
                family_name: c.family_name,
                name_prefix: c.name_prefix,
                given_names: c.given_names,
                date_of_birth: c.date_of_birth,
            },
            institution_code: c.institution_code,
            started_on: c.started_on,
            expected_release_on: c.expected_release_on,
            released_on: c.released_on,
            spoed: c.spoed,
            risk_flags,
            opened_at: c.opened_at,
            closed_at: c.closed_at,
            closed_reason: c.closed_reason,
            closed_note: c.closed_note,
            notices: notices.remove(&c.case_id).unwrap_or_default(),
            conditions,
            history: case_history.remove(&c.case_id).unwrap_or_default(),
        });
    }
    Ok(CaseworkExport { cases: out })
}
