//! `case`: one case in full — status, dates, the person, the tasks, which notices were applied
//! (with their notice keys, so the router can be asked how each was routed) —
//! shown as the caller's role allows, and logged.
//!
//! - Municipal staff see their own municipality's cases only (another's answers `not_found`, as
//!   if it did not exist), with the **full BSN**: they need it to arrange ID, income and care.
//!   They do not see risk flags.
//! - The RCN and procesregie see every case of the region, the BSN masked, and the risk flags.
//!
//! Who may see what follows from the `Rcn-Identity` header only, never from the request body.
//! Every read is written to the append-only access log in the same transaction, saying whether
//! the full BSN and the risk flags were shown, with the reason the caller gave (`why`).

use chrono::NaiveDate;
use rcn_contracts::casework_api::{
    CaseDetail, CaseNoticeRef, CasePerson, CaseRequest, CaseStatus, CaseTask, CloseReason,
    ErrorCode, MAX_WHY,
};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, NoticeKind, RiskFlag};

use crate::access;
use crate::error::{Result, not_found, refuse};
use crate::inbox::mask;
use crate::spoed::SPOED_WITHIN_DAYS;
use crate::state::Casework;

/// What a caller is shown of a case of municipality `gemeente`: (full BSN, risk flags).
pub fn shown(who: &Identity, gemeente: &Gemeentecode) -> (bool, bool) {
    let full_bsn = who.may_work(gemeente);
    let risk_flags = matches!(who.role, Role::RcnCoordinator | Role::Procesregisseur);
    (full_bsn, risk_flags)
}

/// The access log's `what` for a case detail read.
pub fn what_was_read(full_bsn: bool, risk_flags: bool) -> String {
    format!("case_detail (bsn: {full_bsn}, risk_flags: {risk_flags})")
}

/// The reason given, trimmed; none when blank. Refused when too long.
fn why(req: &CaseRequest) -> Result<Option<&str>> {
    let Some(why) = req.why.as_deref().map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(None);
    };
    if why.chars().count() > MAX_WHY {
        return Err(refuse(
            ErrorCode::BadRequest,
            format!("The reason (why) may be at most {MAX_WHY} characters."),
        ));
    }
    Ok(Some(why))
}

/// `case`.
pub async fn case_detail(
    cw: &Casework,
    who: &Identity,
    req: &CaseRequest,
    today: NaiveDate,
) -> Result<CaseDetail> {
    let why = why(req)?;
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
    if !who.may_see(&gemeentecode) {
        return Err(not_found());
    }
    let (full_bsn, with_risk_flags) = shown(who, &gemeentecode);

    let risk_flags = if with_risk_flags {
        Some(
            serde_json::from_value::<Vec<RiskFlag>>(c.risk_flags)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        )
    } else {
        None
    };

    let mut tasks = sqlx::query_as!(
        CaseTask,
        r#"SELECT condition AS "condition: Condition", status AS "status: ConditionStatus", due_on,
                  claimed_by, note, reason
           FROM condition_tasks WHERE case_id = $1 ORDER BY condition"#,
        req.case_id,
    )
    .fetch_all(&mut *tx)
    .await?;
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

    let bsn = c.bsn;
    let detail = CaseDetail {
        case_id: c.case_id,
        status: c.status,
        spoed: c.is_spoed.unwrap_or(false),
        gemeentecode,
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
            bsn: if full_bsn { bsn } else { mask(&bsn) },
            bsn_masked: !full_bsn,
        },
        tasks,
        notices,
        risk_flags,
    };
    access::log_reads_why(
        &mut tx,
        who,
        &[detail.case_id],
        &what_was_read(full_bsn, with_risk_flags),
        why,
    )
    .await?;
    tx.commit().await?;
    Ok(detail)
}

#[cfg(test)]
mod tests {
    use rcn_contracts::identity::{Identity, Role};

    use super::*;

    fn who(role: Role, gemeente: Option<&str>) -> Identity {
        Identity {
            user_id: "someone".into(),
            role,
            gemeentecode: gemeente.map(|g| Gemeentecode::parse(g).unwrap()),
        }
    }

    #[test]
    fn only_the_municipalitys_own_staff_see_the_bsn_and_only_the_region_sees_risk_flags() {
        let haarlem = Gemeentecode::parse("GM0392").unwrap();
        assert_eq!(
            shown(&who(Role::MunicipalStaff, Some("GM0392")), &haarlem),
            (true, false)
        );
        assert_eq!(
            shown(&who(Role::MunicipalStaff, Some("GM0453")), &haarlem),
            (false, false)
        );
        assert_eq!(
            shown(&who(Role::RcnCoordinator, None), &haarlem),
            (false, true)
        );
        assert_eq!(
            shown(&who(Role::Procesregisseur, None), &haarlem),
            (false, true)
        );
        assert_eq!(
            what_was_read(true, false),
            "case_detail (bsn: true, risk_flags: false)"
        );
    }

    #[test]
    fn a_blank_reason_is_none_and_an_overlong_one_is_refused() {
        let req = |why: Option<String>| CaseRequest {
            case_id: uuid::Uuid::nil(),
            why,
        };
        assert_eq!(why(&req(Some("  ".into()))).unwrap(), None);
        assert_eq!(
            why(&req(Some(" ID appointment ".into()))).unwrap(),
            Some("ID appointment")
        );
        assert!(why(&req(Some("x".repeat(MAX_WHY + 1)))).is_err());
    }
}
