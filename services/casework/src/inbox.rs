//! The inbox: a page of condition tasks for one person, most urgent first.
//!
//! Municipal staff see their own municipality only, whatever the query asks; the RCN and
//! procesregie may see the region or pick a municipality. Spoed is reckoned at read time
//! (released unexpectedly, marked spoed, or release within [`crate::cases::SPOED_WITHIN_DAYS`]
//! days of today), so a case becomes spoed as its release date comes near without anyone
//! touching it. Every case shown is logged in the access log in the same transaction.

use chrono::{Days, NaiveDate};
use rcn_contracts::casework_api::{
    DEFAULT_PAGE_SIZE, ErrorCode, InboxPage, InboxQuery, InboxRow, InboxScope, MAX_PAGE_SIZE,
    PersonSummary,
};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Bsn, Condition, ConditionStatus, Gemeentecode};
use sqlx::Row;
use uuid::Uuid;

use crate::access::{self, parse_stored};
use crate::cases::{Casework, SPOED_WITHIN_DAYS};
use crate::error::{Result, refuse};

/// The WHERE clause shared by the page and its count. Parameters: $1 municipality, $2 holder,
/// $3 unclaimed only, $4 conditions, $5 statuses, $6 released by, $7 spoed, $8 overdue, $9 today.
const FILTER: &str = "
    FROM condition_tasks t JOIN cases c ON c.case_id = t.case_id
    WHERE c.status = 'open'
      AND ($1::text IS NULL OR c.gemeentecode = $1)
      AND ($2::text IS NULL OR t.claimed_by = $2)
      AND (NOT $3 OR t.claimed_by IS NULL)
      AND t.condition = ANY($4)
      AND t.status = ANY($5)
      AND ($6::date IS NULL OR c.expected_release_on BETWEEN $9 AND $6)
      AND ($7::boolean IS NULL OR (c.spoed OR c.released_on IS NOT NULL OR COALESCE(c.expected_release_on <= $9 + $10::int, false)) = $7)
      AND ($8::boolean IS NULL OR (t.due_on IS NOT NULL AND t.due_on < $9) = $8)";

/// `inbox`.
pub async fn inbox(
    cw: &Casework,
    who: &Identity,
    q: &InboxQuery,
    today: NaiveDate,
) -> Result<InboxPage> {
    let gemeente: Option<&Gemeentecode> = match who.role {
        Role::MunicipalStaff => {
            let own = access::require_staff(who)?;
            if q.gemeentecode.as_ref().is_some_and(|g| g != own) {
                return Err(refuse(
                    ErrorCode::Forbidden,
                    "You can only see the cases of your own municipality.",
                ));
            }
            Some(own)
        }
        Role::RcnCoordinator | Role::Procesregisseur => q.gemeentecode.as_ref(),
    };
    let holder = (q.scope == InboxScope::Mine).then_some(who.user_id.as_str());
    let unclaimed = q.scope == InboxScope::Unclaimed;
    let conditions: Vec<&str> = if q.conditions.is_empty() {
        cw.conditions.iter().map(|c| c.as_str()).collect()
    } else {
        q.conditions.iter().map(|c| c.as_str()).collect()
    };
    let statuses: Vec<&str> = if q.statuses.is_empty() {
        [
            ConditionStatus::Unknown,
            ConditionStatus::NeedsAction,
            ConditionStatus::InProgress,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect()
    } else {
        q.statuses.iter().map(|s| s.as_str()).collect()
    };
    let released_by = q
        .release_within_days
        .map(|n| today + Days::new(u64::from(n.min(3650))));
    let page = q.page.unwrap_or(1).max(1);
    let page_size = q.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page_size == 0 || page_size > MAX_PAGE_SIZE {
        return Err(refuse(
            ErrorCode::BadRequest,
            format!("page_size must be 1 to {MAX_PAGE_SIZE}."),
        ));
    }
    let offset = i64::from(page - 1) * i64::from(page_size);

    macro_rules! bind_filter {
        ($query:expr) => {
            $query
                .bind(gemeente.map(Gemeentecode::as_str))
                .bind(holder)
                .bind(unclaimed)
                .bind(&conditions)
                .bind(&statuses)
                .bind(released_by)
                .bind(q.spoed)
                .bind(q.overdue)
                .bind(today)
                .bind(SPOED_WITHIN_DAYS as i32)
        };
    }

    let mut tx = cw.pool.begin().await?;
    let total: i64 = bind_filter!(sqlx::query_scalar(&format!("SELECT count(*) {FILTER}")))
        .fetch_one(&mut *tx)
        .await?;
    let sql = format!(
        "SELECT t.case_id, t.condition, t.status, t.claimed_by, t.due_on,
                (t.due_on IS NOT NULL AND t.due_on < $9) AS overdue,
                (c.spoed OR c.released_on IS NOT NULL OR COALESCE(c.expected_release_on <= $9 + $10::int, false)) AS is_spoed,
                c.gemeentecode, c.expected_release_on, c.family_name, c.name_prefix, c.given_names, c.date_of_birth, c.bsn
         {FILTER}
         ORDER BY is_spoed DESC, t.urgent DESC, t.due_on ASC NULLS LAST, c.expected_release_on ASC NULLS LAST, t.case_id, t.condition
         LIMIT $11 OFFSET $12"
    );
    let rows = bind_filter!(sqlx::query(&sql))
        .bind(i64::from(page_size))
        .bind(offset)
        .fetch_all(&mut *tx)
        .await?;

    let mut out = Vec::with_capacity(rows.len());
    let mut seen: Vec<Uuid> = Vec::new();
    for r in rows {
        let condition: String = r.try_get("condition")?;
        let status: String = r.try_get("status")?;
        let gm: String = r.try_get("gemeentecode")?;
        let bsn: String = r.try_get("bsn")?;
        let case_id: Uuid = r.try_get("case_id")?;
        if !seen.contains(&case_id) {
            seen.push(case_id);
        }
        out.push(InboxRow {
            case_id,
            condition: parse_stored(Condition::parse(&condition), "condition", &condition)?,
            status: parse_stored(ConditionStatus::parse(&status), "status", &status)?,
            claimed_by: r.try_get("claimed_by")?,
            due_on: r.try_get("due_on")?,
            overdue: r.try_get("overdue")?,
            spoed: r.try_get::<Option<bool>, _>("is_spoed")?.unwrap_or(false),
            gemeentecode: parse_stored(Gemeentecode::parse(&gm).ok(), "gemeentecode", &gm)?,
            expected_release_on: r.try_get("expected_release_on")?,
            person: PersonSummary {
                family_name: r.try_get("family_name")?,
                name_prefix: r.try_get("name_prefix")?,
                given_names: r.try_get("given_names")?,
                date_of_birth: r.try_get("date_of_birth")?,
                bsn_masked: mask(&bsn),
            },
        });
    }
    access::log_reads(
        &mut tx,
        who,
        &seen,
        "inbox row: name, date of birth, masked BSN, release date",
    )
    .await?;
    tx.commit().await?;
    Ok(InboxPage {
        rows: out,
        page,
        page_size,
        total: total as u64,
    })
}

/// `*****6782`; whatever is stored, never more than the last four digits.
pub fn mask(bsn: &str) -> String {
    match Bsn::parse(bsn) {
        Ok(b) => b.masked(),
        Err(_) => "*********".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bsn_is_masked_to_its_last_four_digits() {
        assert_eq!(super::mask("123456782"), "*****6782");
        assert_eq!(super::mask("garbage"), "*********");
    }
}
