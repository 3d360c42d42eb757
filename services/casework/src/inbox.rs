//! The inbox: a page of condition tasks for one person, most urgent first.
//!
//! Municipal staff see their own municipality only, whatever the query asks; the RCN and
//! procesregie may see the region or pick a municipality. Spoed is reckoned at read time
//! (released unexpectedly, marked spoed, or release within [`crate::spoed::SPOED_WITHIN_DAYS`]
//! days of today), so a case becomes spoed as its release date comes near without anyone
//! touching it. Every case shown is logged in the access log in the same transaction.
//!
//! At national scale (a million cases) every query reads `condition_tasks` alone, through the
//! partial indexes of migration 0005 on open work, whose tasks carry their case's municipality,
//! release date and spoed key; only the predicates a request uses are added (one statement shape
//! per filter shape, planned for its values each time); the page is one walk of an index in the
//! order shown (spoed as of the scheduler's last tick first), stopping after the page; and the
//! count stops at [`COUNT_CAP`].

use chrono::{Days, NaiveDate};
use rcn_contracts::access_log::{Read, What};
use rcn_contracts::casework_api::{
    DEFAULT_PAGE_SIZE, ErrorCode, InboxPage, InboxQuery, InboxRow, InboxScope, MAX_PAGE_SIZE,
    PersonSummary,
};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Bsn, Condition, ConditionStatus, Gemeentecode};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::access;
use crate::error::{Result, refuse};
use crate::spoed::SPOED_WITHIN_DAYS;
use crate::state::Casework;
use crate::visibility::{FieldPolicy, require_case_reader};

/// The statuses of open work: the partial inbox indexes hold tasks of open cases in these only.
const OPEN_WORK: &str = "t.case_open AND t.status IN ('unknown', 'needs_action', 'in_progress')";

/// Counting stops here: past it the page says "at least this many" (`total_is_lower_bound`).
pub const COUNT_CAP: i64 = 1000;

/// The predicates in use, decided once per request; each query adds only these.
struct Filter<'a> {
    gemeente: Option<&'a str>,
    holder: Option<&'a str>,
    unclaimed: bool,
    conditions: Vec<Condition>,
    /// `None`: the open statuses (what the partial indexes hold).
    statuses: Option<Vec<ConditionStatus>>,
    /// Whether every status asked for is an open one (then the partial indexes apply).
    open_only: bool,
    released_by: Option<NaiveDate>,
    overdue: Option<bool>,
    today: NaiveDate,
    /// Spoed on `today`: spoed_key <= this (see migration 0005).
    spoed_horizon: NaiveDate,
    /// Whether the scheduler has moved every task's spoed_now to this horizon (then the inbox
    /// walks an index in the order it shows; else it reckons spoed from spoed_key and sorts).
    spoed_now_is_today: bool,
}

impl Filter<'_> {
    /// Appends `FROM condition_tasks t WHERE …`, with `spoed` when only (non-)spoed tasks.
    fn push_from_where<'q>(&'q self, qb: &mut QueryBuilder<'q, Postgres>, spoed: Option<bool>) {
        qb.push(" FROM condition_tasks t WHERE ");
        if self.open_only {
            qb.push(OPEN_WORK);
        } else {
            qb.push("t.case_open");
        }
        if let Some(statuses) = &self.statuses {
            qb.push(" AND t.status = ANY(")
                .push_bind(statuses)
                .push(")");
        }
        if let Some(g) = self.gemeente {
            qb.push(" AND t.gemeentecode = ").push_bind(g);
        }
        if let Some(h) = self.holder {
            qb.push(" AND t.claimed_by = ").push_bind(h);
        }
        if self.unclaimed {
            qb.push(" AND t.claimed_by IS NULL");
        }
        qb.push(" AND t.condition = ANY(")
            .push_bind(&self.conditions)
            .push(")");
        if let Some(by) = self.released_by {
            qb.push(" AND t.expected_release_on BETWEEN ")
                .push_bind(self.today)
                .push(" AND ")
                .push_bind(by);
        }
        match self.overdue {
            Some(true) => {
                qb.push(" AND t.due_on < ").push_bind(self.today);
            }
            Some(false) => {
                qb.push(" AND (t.due_on IS NULL OR t.due_on >= ")
                    .push_bind(self.today)
                    .push(")");
            }
            None => {}
        }
        match (spoed, self.spoed_now_is_today) {
            (None, _) => {}
            (Some(spoed), true) => {
                qb.push(" AND t.spoed_now = ").push_bind(spoed);
            }
            (Some(true), false) => {
                qb.push(" AND t.spoed_key <= ")
                    .push_bind(self.spoed_horizon);
            }
            (Some(false), false) => {
                qb.push(" AND t.spoed_key > ").push_bind(self.spoed_horizon);
            }
        }
    }

    /// Appends the spoed expression: the stored one when it is today's (the indexes' order).
    fn push_spoed<'q>(&'q self, qb: &mut QueryBuilder<'q, Postgres>) {
        if self.spoed_now_is_today {
            qb.push("t.spoed_now");
        } else {
            qb.push("(t.spoed_key <= ")
                .push_bind(self.spoed_horizon)
                .push(")");
        }
    }
}

/// `inbox`.
pub async fn inbox(
    cw: &Casework,
    who: &Identity,
    q: &InboxQuery,
    today: NaiveDate,
) -> Result<InboxPage> {
    let why = access::read_why(q.why.as_deref())?;
    let Page {
        filter,
        page,
        page_size,
        offset,
    } = page_of(cw, who, q, today)?;

    let mut tx = cw.pool.begin().await?;
    let stored = sqlx::query_scalar!("SELECT horizon FROM spoed_horizon")
        .fetch_optional(&mut *tx)
        .await?;
    // The scheduler keeps spoed_now for open work only; a query for done tasks reckons it.
    let filter = Filter {
        spoed_now_is_today: filter.open_only && stored == Some(filter.spoed_horizon),
        ..filter
    };
    // QueryBuilder rather than `query!`: the predicates depend on the request (scope, filters,
    // whether the scheduler's spoed_now is today's), and each shape must be planned for its
    // values; the compile-time macros need one fixed statement. The binds and the rows are typed
    // all the same (enums and codes through rcn_contracts::sql, the page through `PageRow`), and
    // every shape is exercised by the inbox tests.
    // Counting stops at COUNT_CAP + 1: an exact count of a large inbox costs as much as reading it.
    let mut count = QueryBuilder::new("SELECT count(*) FROM (SELECT 1");
    filter.push_from_where(&mut count, q.spoed);
    count
        .push(" LIMIT ")
        .push_bind(COUNT_CAP + 1)
        .push(") capped");
    // Unnamed statements: planned for these very values each time, never a generic plan.
    let counted: i64 = count
        .build_query_scalar()
        .persistent(false)
        .fetch_one(&mut *tx)
        .await?;

    // Spoed first, then urgent, due date, release date: the order of the inbox indexes, so the
    // page is a walk that stops after it (when spoed_now is today's).
    let mut sql = QueryBuilder::new(
        "SELECT p.case_id, p.condition, p.status, p.claimed_by, p.due_on, p.is_spoed,
                p.gemeentecode, p.expected_release_on,
                c.family_name, c.name_prefix, c.given_names, c.date_of_birth, c.bsn
         FROM (SELECT t.case_id, t.condition, t.status, t.claimed_by, t.due_on, t.urgent,
                      t.expected_release_on, t.gemeentecode, ",
    );
    filter.push_spoed(&mut sql);
    sql.push(" AS is_spoed");
    filter.push_from_where(&mut sql, q.spoed);
    sql.push(" ORDER BY ");
    filter.push_spoed(&mut sql);
    sql.push(
        " DESC, t.urgent DESC, t.due_on, t.expected_release_on, t.case_id, t.condition
         LIMIT ",
    )
    .push_bind(i64::from(page_size))
    .push(" OFFSET ")
    .push_bind(offset)
    .push(
        ") p JOIN cases c ON c.case_id = p.case_id
         ORDER BY p.is_spoed DESC, p.urgent DESC, p.due_on, p.expected_release_on, p.case_id, p.condition",
    );
    let rows: Vec<PageRow> = sql
        .build_query_as()
        .persistent(false)
        .fetch_all(&mut *tx)
        .await?;

    let mut out = Vec::with_capacity(rows.len());
    let mut seen: Vec<Uuid> = Vec::new();
    for r in rows {
        if !seen.contains(&r.case_id) {
            seen.push(r.case_id);
        }
        out.push(inbox_row(who, r, today));
    }
    // The row's fields are fixed (name, date of birth, masked BSN, release date): the word says it.
    access::log_reads_why(
        &mut tx,
        who,
        &seen,
        &What::new(Read::InboxRow).to_log(),
        why,
    )
    .await?;
    tx.commit().await?;
    Ok(InboxPage {
        rows: out,
        page,
        page_size,
        total: counted.min(COUNT_CAP) as u64,
        total_is_lower_bound: counted > COUNT_CAP,
    })
}

/// A request's page and the predicates it uses.
struct Page<'a> {
    filter: Filter<'a>,
    page: u32,
    page_size: u32,
    offset: i64,
}

/// What `q` asks for, as far as `who` may see: their own municipality for municipal staff.
fn page_of<'a>(
    cw: &'a Casework,
    who: &'a Identity,
    q: &'a InboxQuery,
    today: NaiveDate,
) -> Result<Page<'a>> {
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
        // No inbox of their own: the one rule of who reads cases refuses them.
        Role::PrivacyOfficer | Role::Administrator => {
            require_case_reader(who)?;
            q.gemeentecode.as_ref()
        }
    };
    let conditions: Vec<Condition> = if q.conditions.is_empty() {
        cw.conditions.clone()
    } else {
        q.conditions.clone()
    };
    let statuses: Option<Vec<ConditionStatus>> =
        (!q.statuses.is_empty()).then(|| q.statuses.clone());
    let page = q.page.unwrap_or(1).max(1);
    let page_size = q.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page_size == 0 || page_size > MAX_PAGE_SIZE {
        return Err(refuse(
            ErrorCode::BadRequest,
            format!("page_size must be 1 to {MAX_PAGE_SIZE}."),
        ));
    }
    let offset = i64::from(page - 1) * i64::from(page_size);
    let filter = Filter {
        gemeente: gemeente.map(Gemeentecode::as_str),
        holder: (q.scope == InboxScope::Mine).then_some(who.user_id.as_str()),
        unclaimed: q.scope == InboxScope::Unclaimed,
        conditions,
        open_only: q.statuses.iter().all(|s| s.is_open()),
        statuses,
        released_by: q
            .release_within_days
            .map(|n| today + Days::new(u64::from(n.min(3650)))),
        overdue: q.overdue,
        today,
        spoed_horizon: today + Days::new(SPOED_WITHIN_DAYS),
        spoed_now_is_today: false,
    };
    Ok(Page {
        filter,
        page,
        page_size,
        offset,
    })
}

/// One row of the inbox page, the BSN masked (a list masks it for everyone: [`FieldPolicy`]).
fn inbox_row(who: &Identity, r: PageRow, today: NaiveDate) -> InboxRow {
    let bsn_masked = FieldPolicy::rule(who, &r.gemeentecode).bsn_in_list(&r.bsn);
    InboxRow {
        case_id: r.case_id,
        condition: r.condition,
        status: r.status,
        claimed_by: r.claimed_by,
        due_on: r.due_on,
        overdue: r.due_on.is_some_and(|d| d < today),
        spoed: r.is_spoed,
        gemeentecode: r.gemeentecode,
        expected_release_on: r.expected_release_on,
        person: PersonSummary {
            family_name: r.family_name,
            name_prefix: r.name_prefix,
            given_names: r.given_names,
            date_of_birth: r.date_of_birth,
            bsn_masked,
        },
    }
}

/// One row of an inbox page as the (dynamic) page query returns it.
#[derive(sqlx::FromRow)]
struct PageRow {
    case_id: Uuid,
    condition: Condition,
    status: ConditionStatus,
    claimed_by: Option<String>,
    due_on: Option<NaiveDate>,
    is_spoed: bool,
    gemeentecode: Gemeentecode,
    expected_release_on: Option<NaiveDate>,
    family_name: String,
    name_prefix: Option<String>,
    given_names: Option<String>,
    date_of_birth: NaiveDate,
    bsn: String,
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
