//! The inbox pages: *Mijn taken* (`/taken`, the tasks the person holds) and *Taken van de
//! gemeente* (`/taken/gemeente`: the municipality's unclaimed or all open tasks; the region's for
//! the RCN and procesregie), spoed first, then by due date, with filters, paging, saved named
//! views, and a bulk claim of unclaimed tasks (`POST /taken/claimen`).
//!
//! Casework decides what the person may see (`inbox` with their identity); a filter the page does
//! not know is refused with a Dutch message. The query string carries filters only, never
//! anything personal.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use rcn_contracts::casework_api::{
    BulkReply, ClaimManyRequest, InboxPage, InboxQuery, InboxScope, MAX_BULK, TaskRef,
};
use rcn_contracts::identity::Role;
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode};

use crate::AppState;
use crate::portal::form::{self, FormData};
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::reasons::Page;
use crate::portal::session::{self, Flash, Staff};
use crate::portal::{fmt, services, users};

/// One task as a row of the inbox.
pub struct Row {
    pub case_href: String,
    pub person: String,
    pub born: String,
    pub bsn_masked: String,
    pub condition: &'static str,
    pub status: &'static str,
    pub holder: String,
    pub due: String,
    pub overdue: bool,
    pub spoed: bool,
    pub release: String,
    pub municipality: String,
    /// The bulk-claim checkbox's value, when the person may claim this task.
    pub claim_value: Option<String>,
}

/// A choice in a filter's select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "portal/inbox.html")]
struct InboxTemplate {
    l: Layout,
    heading: String,
    /// The path of this page, for the filter form and the paging links.
    path: &'static str,
    rows: Vec<Row>,
    total: String,
    page: u32,
    prev_href: Option<String>,
    next_href: Option<String>,
    lists: Vec<Choice>,
    conditions: Vec<Choice>,
    statuses: Vec<Choice>,
    spoed: Vec<Choice>,
    overdue: Vec<Choice>,
    municipalities: Vec<Choice>,
    show_list_filter: bool,
    show_municipality_filter: bool,
    can_bulk_claim: bool,
    views: Vec<(String, String)>,
    query: String,
}

/// The filters as the page's query string says them.
#[derive(Debug, Default, Clone)]
struct Filters {
    list: Option<String>,
    condition: Option<Condition>,
    status: Option<ConditionStatus>,
    spoed: Option<bool>,
    overdue: Option<bool>,
    gemeente: Option<Gemeentecode>,
    page: u32,
}

fn parse_filters(raw: Option<&str>) -> Result<Filters, PortalError> {
    let form = FormData::parse(raw.unwrap_or_default().as_bytes());
    let bad =
        |what: &str| PortalError::BadRequest(format!("Het filter ‘{what}’ kent deze waarde niet."));
    let yes_no = |v: Option<&str>, what: &str| match v {
        None => Ok(None),
        Some("ja") => Ok(Some(true)),
        Some("nee") => Ok(Some(false)),
        Some(_) => Err(bad(what)),
    };
    Ok(Filters {
        list: match form.get("lijst") {
            None => None,
            Some(v @ ("open" | "alle")) => Some(v.to_owned()),
            Some(_) => return Err(bad("lijst")),
        },
        condition: form
            .get("voorwaarde")
            .map(|v| Condition::parse(v).ok_or_else(|| bad("voorwaarde")))
            .transpose()?,
        status: form
            .get("status")
            .map(|v| ConditionStatus::parse(v).ok_or_else(|| bad("status")))
            .transpose()?,
        spoed: yes_no(form.get("spoed"), "spoed")?,
        overdue: yes_no(form.get("verlopen"), "termijn verlopen")?,
        gemeente: form
            .get("gemeente")
            .map(|v| Gemeentecode::parse(v).map_err(|_| bad("gemeente")))
            .transpose()?,
        page: match form.get("pagina") {
            None => 1,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=10_000).contains(p))
                .ok_or_else(|| bad("pagina"))?,
        },
    })
}

impl Filters {
    /// The query string for these filters on page `page` (without the leading `?`).
    fn query(&self, page: u32) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(v) = &self.list {
            q.append_pair("lijst", v);
        }
        if let Some(c) = self.condition {
            q.append_pair("voorwaarde", c.as_str());
        }
        if let Some(s) = self.status {
            q.append_pair("status", s.as_str());
        }
        if let Some(s) = self.spoed {
            q.append_pair("spoed", if s { "ja" } else { "nee" });
        }
        if let Some(o) = self.overdue {
            q.append_pair("verlopen", if o { "ja" } else { "nee" });
        }
        if let Some(g) = &self.gemeente {
            q.append_pair("gemeente", g.as_str());
        }
        if page > 1 {
            q.append_pair("pagina", &page.to_string());
        }
        q.finish()
    }
}

/// `GET /taken`: Mijn taken.
pub async fn mine(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, PortalError> {
    if staff.identity.role != Role::MunicipalStaff {
        // Only municipal staff hold tasks; everyone else starts at the overview.
        return Ok(Redirect::to("/").into_response());
    }
    let filters = parse_filters(raw.as_deref())?;
    show(
        &state,
        &staff,
        filters,
        InboxScope::Mine,
        "/taken",
        "Mijn taken",
    )
    .await
}

/// `GET /taken/gemeente`: the municipality's (or the region's) tasks.
pub async fn municipality(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, PortalError> {
    let filters = parse_filters(raw.as_deref())?;
    let scope = match filters.list.as_deref() {
        Some("alle") => InboxScope::All,
        Some(_) => InboxScope::Unclaimed,
        // Staff look for work to pick up; the RCN overlooks everything.
        None if staff.identity.role == Role::MunicipalStaff => InboxScope::Unclaimed,
        None => InboxScope::All,
    };
    let heading = match (&staff.identity.role, &staff.identity.gemeentecode) {
        (Role::MunicipalStaff, Some(gm)) => {
            format!("Taken van de gemeente {}", fmt::municipality(gm))
        }
        (Role::MunicipalStaff, None) => "Taken van de gemeente".to_owned(),
        (Role::RcnCoordinator | Role::Procesregisseur, _) => "Taken in de regio".to_owned(),
        (Role::PrivacyOfficer | Role::Administrator, _) => {
            return Err(PortalError::Forbidden(
                "Met uw rol kunt u geen taken of casussen inzien.".into(),
            ));
        }
    };
    show(&state, &staff, filters, scope, "/taken/gemeente", &heading).await
}

async fn show(
    state: &AppState,
    staff: &Staff,
    filters: Filters,
    scope: InboxScope,
    path: &'static str,
    heading: &str,
) -> Result<Response, PortalError> {
    let who = &staff.identity;
    let query = InboxQuery {
        scope,
        conditions: filters.condition.into_iter().collect(),
        statuses: filters.status.into_iter().collect(),
        release_within_days: None,
        spoed: filters.spoed,
        overdue: filters.overdue,
        gemeentecode: if who.role == Role::MunicipalStaff {
            None
        } else {
            filters.gemeente.clone()
        },
        page: Some(filters.page),
        page_size: Some(25),
        why: match (scope, &who.role) {
            (InboxScope::Mine, _) => Page::MyTasks,
            (_, Role::MunicipalStaff) => Page::MunicipalityTasks,
            _ => Page::RegionTasks,
        }
        .why(),
    };
    let page: InboxPage = match services::casework(state, "inbox", who, &query).await? {
        Ok(page) => page,
        Err(e) => return Err(PortalError::Forbidden(services::refusal_in_dutch(&e, None))),
    };
    let holders: Vec<String> = page
        .rows
        .iter()
        .filter_map(|r| r.claimed_by.clone())
        .collect();
    let names = users::display_names(&state.pool, &holders).await?;
    let can_bulk_claim = who.role == Role::MunicipalStaff && scope != InboxScope::Mine;
    let rows = page
        .rows
        .iter()
        .map(|r| {
            let p = &r.person;
            let person = [
                p.given_names.as_deref(),
                p.name_prefix.as_deref(),
                Some(p.family_name.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            Row {
                case_href: format!("/casussen/{}", r.case_id),
                person,
                born: fmt::date(p.date_of_birth),
                bsn_masked: p.bsn_masked.clone(),
                condition: fmt::condition(r.condition),
                status: fmt::status(r.status),
                holder: r.claimed_by.as_ref().map_or_else(
                    || "Niemand".to_owned(),
                    |h| names.get(h).cloned().unwrap_or_else(|| h.clone()),
                ),
                due: fmt::opt_date(r.due_on),
                overdue: r.overdue,
                spoed: r.spoed,
                release: fmt::opt_date(r.expected_release_on),
                municipality: fmt::municipality(&r.gemeentecode),
                claim_value: (can_bulk_claim && r.claimed_by.is_none())
                    .then(|| format!("{}:{}", r.case_id, r.condition.as_str())),
            }
        })
        .collect();
    let total = if page.total_is_lower_bound {
        format!("meer dan {}", page.total)
    } else {
        page.total.to_string()
    };
    let pages_seen = u64::from(page.page) * u64::from(page.page_size);
    let prev_href = (page.page > 1).then(|| format!("{path}?{}", filters.query(page.page - 1)));
    let next_href = (pages_seen < page.total
        || page.total_is_lower_bound && page.rows.len() as u32 == page.page_size)
        .then(|| format!("{path}?{}", filters.query(page.page + 1)));
    let choice = |value: &str, label: &str, selected: bool| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected,
    };
    let lists = vec![
        choice("open", "Niet geclaimd", scope == InboxScope::Unclaimed),
        choice("alle", "Alle open taken", scope == InboxScope::All),
    ];
    let conditions = [
        Condition::Id,
        Condition::Housing,
        Condition::Income,
        Condition::Debts,
        Condition::Care,
        Condition::SocialNetwork,
    ]
    .into_iter()
    .map(|c| choice(c.as_str(), fmt::condition(c), filters.condition == Some(c)))
    .collect();
    let statuses = fmt::STATUSES
        .into_iter()
        .map(|s| choice(s.as_str(), fmt::status(s), filters.status == Some(s)))
        .collect();
    let yes_no = |v: Option<bool>, yes: &str, no: &str| {
        vec![
            choice("ja", yes, v == Some(true)),
            choice("nee", no, v == Some(false)),
        ]
    };
    let municipalities = if who.role == Role::MunicipalStaff {
        Vec::new()
    } else {
        rcn_contracts::region::RegionTable::kennemerland()
            .municipalities
            .iter()
            .map(|m| {
                choice(
                    m.code.as_str(),
                    &m.name,
                    filters.gemeente.as_ref() == Some(&m.code),
                )
            })
            .collect()
    };
    let views = saved_views(state, &who.user_id, path).await?;
    Ok(page::render(&InboxTemplate {
        l: Layout::for_staff(staff, heading, path),
        heading: heading.to_owned(),
        path,
        rows,
        total,
        page: page.page,
        prev_href,
        next_href,
        lists,
        conditions,
        statuses,
        spoed: yes_no(filters.spoed, "Alleen spoed", "Geen spoed"),
        overdue: yes_no(filters.overdue, "Termijn verlopen", "Termijn niet verlopen"),
        municipalities,
        show_list_filter: scope != InboxScope::Mine,
        show_municipality_filter: who.role != Role::MunicipalStaff,
        can_bulk_claim,
        views,
        query: filters.query(1),
    }))
}

/// The person's saved views of the page at `path`: (name, link).
async fn saved_views(
    state: &AppState,
    user_id: &str,
    path: &str,
) -> Result<Vec<(String, String)>, PortalError> {
    let rows = sqlx::query!(
        "SELECT name, query FROM portal_saved_views WHERE user_id = $1 ORDER BY name",
        user_id,
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.name, r.query))
        .filter_map(|(name, query)| {
            let (view_path, q) = query.split_once('?').unwrap_or((query.as_str(), ""));
            (view_path == path).then(|| (name, format!("{path}?{q}")))
        })
        .collect())
}

/// `POST /taken/weergaven`: saves the current filters under a name (replacing a view of that
/// name).
pub async fn save_view(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    let path = match form.get("pagina") {
        Some("/taken") => "/taken",
        _ => "/taken/gemeente",
    };
    // Re-read the filters, so only filters the page knows are ever saved.
    let filters = parse_filters(form.get("filters"))?;
    let Some(name) = form.get("naam").filter(|n| n.chars().count() <= 80) else {
        session::set_flash(
            &state,
            &staff,
            Flash::error("Geef de weergave een naam van hoogstens 80 tekens."),
        )
        .await?;
        return Ok(Redirect::to(path).into_response());
    };
    let query = format!("{path}?{}", filters.query(1));
    sqlx::query!(
        "INSERT INTO portal_saved_views (user_id, name, query) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, name) DO UPDATE SET query = EXCLUDED.query, created_at = now()",
        &staff.identity.user_id,
        name,
        &query,
    )
    .execute(&state.pool)
    .await?;
    session::set_flash(
        &state,
        &staff,
        Flash::ok(format!("Weergave ‘{name}’ opgeslagen.")),
    )
    .await?;
    Ok(Redirect::to(&query).into_response())
}

/// `POST /taken/claimen`: claims the ticked tasks, each on its own; says how many succeeded and
/// why the others did not.
pub async fn bulk_claim(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    let back = match form.get("terug") {
        Some(q) => format!("/taken/gemeente?{}", parse_filters(Some(q))?.query(1)),
        None => "/taken/gemeente".to_owned(),
    };
    let tasks: Vec<TaskRef> = form
        .all("taak")
        .map(parse_task)
        .collect::<Option<_>>()
        .ok_or_else(|| PortalError::BadRequest("Een aangevinkte taak is niet herkend.".into()))?;
    if tasks.is_empty() {
        session::set_flash(
            &state,
            &staff,
            Flash::error("Vink eerst een of meer taken aan."),
        )
        .await?;
        return Ok(Redirect::to(&back).into_response());
    }
    if tasks.len() > MAX_BULK {
        return Err(PortalError::BadRequest(format!(
            "U kunt hoogstens {MAX_BULK} taken tegelijk claimen."
        )));
    }
    let count = tasks.len();
    let reply: BulkReply = match services::casework(
        &state,
        "claim_many",
        &staff.identity,
        &ClaimManyRequest { tasks },
    )
    .await?
    {
        Ok(r) => r,
        Err(e) => {
            session::set_flash(
                &state,
                &staff,
                Flash::error(services::refusal_in_dutch(&e, None)),
            )
            .await?;
            return Ok(Redirect::to(&back).into_response());
        }
    };
    let failed: Vec<_> = reply
        .results
        .iter()
        .filter_map(|r| r.error.as_ref())
        .collect();
    let ok = count - failed.len();
    let flash = if failed.is_empty() {
        Flash::ok(format!(
            "{ok} {} geclaimd.",
            if ok == 1 { "taak" } else { "taken" }
        ))
    } else {
        let first = services::refusal_in_dutch(failed[0], None);
        Flash::error(format!(
            "{ok} van de {count} taken geclaimd. Niet gelukt: {} (bijvoorbeeld: {first})",
            failed.len()
        ))
    };
    session::set_flash(&state, &staff, flash).await?;
    Ok(Redirect::to(&back).into_response())
}

/// `<case id>:<condition>`.
pub fn parse_task(value: &str) -> Option<TaskRef> {
    let (case_id, condition) = value.split_once(':')?;
    Some(TaskRef {
        case_id: case_id.parse().ok()?,
        condition: Condition::parse(condition)?,
    })
}
