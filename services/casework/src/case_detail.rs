//! `case`: one case in full — status, dates, the person, the tasks, which notices were applied —
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
use sqlx::Row;
use sqlx::types::Json;

use crate::access::{self, parse_stored};
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
    let Some(c) = sqlx::query(
        "SELECT case_id, status, gemeentecode, institution_code, started_on, expected_release_on,
                released_on, closed_at, closed_reason, family_name, name_prefix, given_names,
                date_of_birth, bsn, risk_flags,
                (spoed OR released_on IS NOT NULL OR COALESCE(expected_release_on <= $2 + $3::int, false)) AS is_spoed
         FROM cases WHERE case_id = $1",
    )
    .bind(req.case_id)
    .bind(today)
    .bind(SPOED_WITHIN_DAYS as i32)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Err(not_found());
    };
    let gm: String = c.try_get("gemeentecode")?;
    let gemeentecode = parse_stored(Gemeentecode::parse(&gm).ok(), "gemeentecode", &gm)?;
    if !who.may_see(&gemeentecode) {
        return Err(not_found());
    }
    let (full_bsn, with_risk_flags) = shown(who, &gemeentecode);

    let status: String = c.try_get("status")?;
    let closed_reason: Option<String> = c.try_get("closed_reason")?;
    let bsn: String = c.try_get("bsn")?;
    let risk_flags = if with_risk_flags {
        Some(c.try_get::<Json<Vec<RiskFlag>>, _>("risk_flags")?.0)
    } else {
        None
    };

    let task_rows = sqlx::query(
        "SELECT condition, status, due_on, claimed_by, note, reason
         FROM condition_tasks WHERE case_id = $1 ORDER BY condition",
    )
    .bind(req.case_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut tasks = Vec::with_capacity(task_rows.len());
    for r in task_rows {
        let condition: String = r.try_get("condition")?;
        let status: String = r.try_get("status")?;
        tasks.push(CaseTask {
            condition: parse_stored(Condition::parse(&condition), "condition", &condition)?,
            status: parse_stored(ConditionStatus::parse(&status), "status", &status)?,
            due_on: r.try_get("due_on")?,
            claimed_by: r.try_get("claimed_by")?,
            note: r.try_get("note")?,
            reason: r.try_get("reason")?,
        });
    }
    // The region's order (ID, housing, income, …); a condition no longer configured goes last.
    tasks.sort_by_key(|t| {
        cw.conditions
            .iter()
            .position(|c| *c == t.condition)
            .unwrap_or(usize::MAX)
    });

    let notice_rows = sqlx::query(
        "SELECT kind, sent_at FROM case_notices WHERE case_id = $1
         ORDER BY sent_at, received_at, notice_key",
    )
    .bind(req.case_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut notices = Vec::with_capacity(notice_rows.len());
    for r in notice_rows {
        let kind: String = r.try_get("kind")?;
        notices.push(CaseNoticeRef {
            kind: parse_stored(
                NoticeKind::ALL.into_iter().find(|k| k.as_str() == kind),
                "notice kind",
                &kind,
            )?,
            sent_at: r.try_get("sent_at")?,
        });
    }

    let detail = CaseDetail {
        case_id: c.try_get("case_id")?,
        status: parse_stored(CaseStatus::parse(&status), "case status", &status)?,
        spoed: c.try_get::<Option<bool>, _>("is_spoed")?.unwrap_or(false),
        gemeentecode,
        institution_code: c.try_get("institution_code")?,
        started_on: c.try_get("started_on")?,
        expected_release_on: c.try_get("expected_release_on")?,
        released_on: c.try_get("released_on")?,
        closed_at: c.try_get("closed_at")?,
        closed_reason: closed_reason
            .map(|r| parse_stored(CloseReason::parse(&r), "closed_reason", &r))
            .transpose()?,
        person: CasePerson {
            family_name: c.try_get("family_name")?,
            name_prefix: c.try_get("name_prefix")?,
            given_names: c.try_get("given_names")?,
            date_of_birth: c.try_get("date_of_birth")?,
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
