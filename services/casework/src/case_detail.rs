//! `case`: one case in full — status, dates, the person, the tasks, which notices were applied
//! (with their notice keys, so the router can be asked how each was routed) —
//! shown as the caller's role allows, and logged.
//!
//! What each field shows to whom is [`crate::visibility::FieldPolicy`]'s to decide, not this
//! reader's: in short, municipal staff see their own municipality's cases only (another's
//! answers `not_found`) with the **full BSN** and no risk flags; the RCN and procesregie every
//! case of the region, the BSN masked, with the risk flags; the care task's notes only its holder
//! and the RCN coordinator.
//!
//! Who may see what follows from the `Rcn-Identity` header only, never from the request body.
//! Every read is written to the append-only access log in the same transaction, saying which
//! guarded fields were shown (full BSN, risk flags, care note), with the reason the caller gave.

use chrono::NaiveDate;
use rcn_contracts::casework_api::{
    CaseDetail, CaseNoticeRef, CasePerson, CaseRequest, CaseStatus, CaseTask, CloseReason,
};
use rcn_contracts::identity::Identity;
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, NoticeKind, RiskFlag};

use crate::access;
use crate::error::{Result, not_found};
use crate::spoed::SPOED_WITHIN_DAYS;
use crate::state::Casework;
use crate::visibility::{FieldPolicy, require_case_reader};

/// `case`.
pub async fn case_detail(
    cw: &Casework,
    who: &Identity,
    req: &CaseRequest,
    today: NaiveDate,
) -> Result<CaseDetail> {
    let why = access::read_why(req.why.as_deref())?;
    require_case_reader(who)?;
    let mut tx = cw.pool.begin().await?;
    let Some(c) = sqlx::query!(
        r#"SELECT case_id, status AS "status: CaseStatus", gemeentecode AS "gemeentecode: Gemeentecode",
                institution_code, started_on, expected_release_on,
                released_on, closed_at, closed_reason AS "closed_reason: CloseReason", family_name,
                name_prefix, given_names, date_of_birth, bsn, risk_flags,
                (spoed OR released_on IS NOT NULL OR COALESCE(expected_release_on <= $2::date + $3::int, false)) AS is_spoed
         FROM cases WHERE case_id = $1"#,
        req.case_id,
        today,
        SPOED_WITHIN_DAYS as i32,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Err(not_found());
    };
    let gemeentecode = c.gemeentecode;
    let policy = FieldPolicy::for_case(who, &gemeentecode, c.closed_reason)?;

    let risk_flags = if policy.risk_flags() {
        Some(
            serde_json::from_value::<Vec<RiskFlag>>(c.risk_flags)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        )
    } else {
        None
    };

    let stored = sqlx::query!(
        r#"SELECT condition AS "condition: Condition", status AS "status: ConditionStatus", due_on,
                  claimed_by, note, reason
           FROM condition_tasks WHERE case_id = $1 ORDER BY condition"#,
        req.case_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    let care_holder = stored
        .iter()
        .find(|t| t.condition == Condition::Care)
        .and_then(|t| t.claimed_by.clone());
    let mut tasks: Vec<CaseTask> = stored
        .into_iter()
        .map(|t| {
            let shown = policy.notes(t.condition, t.claimed_by.as_deref());
            let written = t.note.is_some() || t.reason.is_some();
            CaseTask {
                condition: t.condition,
                status: t.status,
                due_on: t.due_on,
                claimed_by: t.claimed_by,
                note: t.note.filter(|_| shown),
                reason: t.reason.filter(|_| shown),
                note_withheld: written && !shown,
            }
        })
        .collect();
    // The region's order (ID, housing, income, …); a condition no longer configured goes last.
    tasks.sort_by_key(|t| {
        cw.conditions
            .iter()
            .position(|c| *c == t.condition)
            .unwrap_or(usize::MAX)
    });

    let notices = sqlx::query_as!(
        CaseNoticeRef,
        r#"SELECT notice_key AS "notice_key?", kind AS "kind: NoticeKind", sent_at,
                  received_at AS "received_at?"
           FROM case_notices WHERE case_id = $1
           ORDER BY sent_at, received_at, notice_key"#,
        req.case_id,
    )
    .fetch_all(&mut *tx)
    .await?;

    let (bsn, bsn_masked) = policy.bsn(&c.bsn);
    let detail = CaseDetail {
        case_id: c.case_id,
        status: c.status,
        spoed: c.is_spoed.unwrap_or(false),
        gemeentecode: gemeentecode.clone(),
        institution_code: c.institution_code,
        started_on: c.started_on,
        expected_release_on: c.expected_release_on,
        released_on: c.released_on,
        closed_at: c.closed_at,
        closed_reason: c.closed_reason,
        person: CasePerson {
            family_name: c.family_name,
            name_prefix: c.name_prefix,
            given_names: c.given_names,
            date_of_birth: c.date_of_birth,
            bsn,
            bsn_masked,
        },
        tasks,
        notices,
        risk_flags,
    };
    access::log_reads_why(
        &mut tx,
        who,
        &[detail.case_id],
        &policy.case_detail_read(care_holder.as_deref()).to_log(),
        why,
    )
    .await?;
    tx.commit().await?;
    Ok(detail)
}

#[cfg(test)]
mod tests {
    use rcn_contracts::casework_api::MAX_WHY;

    use crate::access::read_why;

    #[test]
    fn a_blank_reason_is_none_and_an_overlong_or_multi_line_one_is_refused() {
        assert_eq!(read_why(Some("  ")).unwrap(), None);
        assert_eq!(
            read_why(Some(" Casus bekijken ")).unwrap(),
            Some("Casus bekijken")
        );
        assert!(read_why(Some(&"x".repeat(MAX_WHY + 1))).is_err());
        assert!(read_why(Some("Casus\nbekijken")).is_err());
    }
}
