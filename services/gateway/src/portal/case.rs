//! The *Casus* page (`/casussen/{case_id}`): the person (the full BSN only where casework gives
//! it), the detention, every notice received with the routing decision and why
//! ([`case_routing`]), the conditions with status, deadline, holder and history; and the forms that work it: *Claimen*, *Vrijgeven*, *Overdragen* (to a colleague of
//! the same municipality), status change with a note, and closing the case with a reason.
//!
//! Every form posts, the change is asked of casework as the signed-in person, and the browser is
//! sent back to the case (POST-redirect-GET) with a message saying what happened. Another
//! municipality's case is "not found", the same page as a case that does not exist. The case id
//! in the URL is a random UUID, never anything personal.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rcn_contracts::casework_api::{
    BulkReply, CaseClosedReply, CaseDetail, CaseRequest, CaseStatus, ClaimCaseRequest,
    CloseCaseRequest, CloseReason, ErrorCode, HandoverRequest, TaskHistory, TaskHistoryRequest,
    TaskRef, TaskRequest, UpdateStatusRequest,
};
use rcn_contracts::identity::Role;
use rcn_contracts::{Condition, ConditionStatus};
use serde::de::IgnoredAny;
use uuid::Uuid;

use crate::AppState;
use crate::portal::case_routing::{self, CaseRouting};
use crate::portal::form::{self, FormData};
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::procesregie::{
    self,
    suggestion::{CaseProcesregie, DismissRefused},
};
use crate::portal::reasons::Page;
use crate::portal::session::{self, Flash, Staff};
use crate::portal::{fmt, services, users};

pub struct TaskView {
    pub anchor: String,
    pub condition_code: &'static str,
    pub condition: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub due: String,
    pub overdue: bool,
    pub holder: String,
    pub note: Option<String>,
    pub reason: Option<String>,
    /// Casework withheld the task's note from this person: what to say in its place.
    pub note_withheld: Option<&'static str>,
    pub mine: bool,
    pub claimable: bool,
    pub history: Vec<HistoryView>,
}

pub struct HistoryView {
    pub at: String,
    pub by: String,
    pub change: &'static str,
    pub detail: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "portal/case.html")]
struct CasePage {
    l: Layout,
    id: Uuid,
    person: String,
    born: String,
    bsn: String,
    bsn_masked: bool,
    spoed: bool,
    closed: Option<String>,
    municipality: String,
    institution: String,
    started: String,
    expected_release: String,
    released: Option<String>,
    risk_flags: Option<Vec<String>>,
    /// Every notice, newest first, with the router's decision about it.
    routing: CaseRouting,
    tasks: Vec<TaskView>,
    may_close: bool,
    any_claimable: bool,
    colleagues: Vec<Choice>,
    statuses: Vec<Choice>,
    close_reasons: Vec<Choice>,
    /// Procesregie's part: suggestions, applications and the ICO; `None` when it does not
    /// answer now.
    procesregie: Option<CaseProcesregie>,
}

/// What the page says where casework withheld a task's note (need to know per field): the care
/// task's notes are health data, for whoever holds that task (and the RCN coordinator).
fn withheld_note(condition: Condition) -> &'static str {
    match condition {
        Condition::Care => "Notitie alleen zichtbaar voor wie de zorgtaak heeft",
        _ => "Notitie niet zichtbaar voor u",
    }
}

fn case_href(id: Uuid) -> String {
    format!("/casussen/{id}")
}

/// `GET /casussen/{case_id}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id = Uuid::parse_str(&id).map_err(|_| PortalError::NotFound)?;
    page(&state, &staff, id, None).await
}

/// The case page; `refused`: a suggestion's dismissal that was refused, shown beside its field.
pub async fn page(
    state: &AppState,
    staff: &Staff,
    id: Uuid,
    refused: Option<DismissRefused>,
) -> Result<Response, PortalError> {
    let who = &staff.identity;
    let request = CaseRequest {
        case_id: id,
        why: Page::Case.why(),
    };
    let case: CaseDetail = match services::casework(state, "case", who, &request).await? {
        Ok(c) => c,
        Err(e) if ErrorCode::of(&e) == Some(ErrorCode::NotFound) => {
            return Err(PortalError::NotFound);
        }
        Err(e) => return Err(PortalError::Forbidden(services::refusal_in_dutch(&e, None))),
    };
    // Each task's history, asked at once rather than one after the other (five round trips
    // would otherwise add up on every case page).
    let histories = futures::future::join_all(case.tasks.iter().map(|t| async move {
        let req = TaskHistoryRequest {
            task: TaskRef {
                case_id: id,
                condition: t.condition,
            },
            why: Page::Case.why(),
        };
        services::casework::<TaskHistory>(state, "task_history", who, &req).await
    }))
    .await
    .into_iter()
    .map(|h| Ok(h?.map(|h| h.entries).unwrap_or_default()))
    .collect::<Result<Vec<_>, PortalError>>()?;
    let mut people: Vec<String> = case
        .tasks
        .iter()
        .filter_map(|t| t.claimed_by.clone())
        .collect();
    people.extend(histories.iter().flatten().flat_map(|e| {
        [
            Some(e.by.clone()),
            e.from_holder.clone(),
            e.to_holder.clone(),
        ]
        .into_iter()
        .flatten()
    }));
    people.sort();
    people.dedup();
    let names = users::display_names(&state.pool, &people).await?;
    let name = |id: &str| {
        names.get(id).cloned().unwrap_or_else(|| match id {
            "system" => "rcn".to_owned(),
            id if id.starts_with("notice:") => "melding van de inrichting".to_owned(),
            id => id.to_owned(),
        })
    };
    let open = case.status == CaseStatus::Open;
    let may_work = open && who.may_work(&case.gemeentecode);
    let today = fmt::today();
    let tasks: Vec<TaskView> = case
        .tasks
        .iter()
        .zip(histories)
        .map(|(t, history)| {
            let done = matches!(
                t.status,
                ConditionStatus::Arranged | ConditionStatus::NotApplicable
            );
            let mine = t.claimed_by.as_deref() == Some(who.user_id.as_str());
            TaskView {
                anchor: format!("taak-{}", t.condition.as_str()),
                condition_code: t.condition.as_str(),
                condition: fmt::condition(t.condition),
                status: fmt::status(t.status),
                status_code: t.status.as_str(),
                due: fmt::opt_date(t.due_on),
                overdue: open && !done && t.due_on.is_some_and(|d| d < today),
                holder: t
                    .claimed_by
                    .as_deref()
                    .map_or_else(|| "Niemand".to_owned(), name),
                note: t.note.clone(),
                reason: t.reason.clone(),
                note_withheld: t.note_withheld.then(|| withheld_note(t.condition)),
                mine: may_work && mine,
                claimable: may_work && !done && t.claimed_by.is_none(),
                history: history
                    .iter()
                    .rev()
                    .map(|e| {
                        let mut detail = Vec::new();
                        if let (Some(from), Some(to)) = (e.from_status, e.to_status) {
                            detail.push(format!("{} → {}", fmt::status(from), fmt::status(to)));
                        } else if let Some(to) = e.to_status {
                            detail.push(fmt::status(to).to_owned());
                        }
                        if let Some(to) = &e.to_holder {
                            detail.push(format!("naar {}", name(to)));
                        }
                        if let Some(note) = &e.note {
                            detail.push(format!("“{note}”"));
                        } else if e.note_withheld {
                            detail.push(withheld_note(t.condition).to_lowercase());
                        }
                        HistoryView {
                            at: fmt::date_time(e.at),
                            by: name(&e.by),
                            change: fmt::change(&e.change),
                            detail: detail.join(" · "),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let colleagues = match (&who.gemeentecode, may_work) {
        (Some(gm), true) => users::colleagues(&state.pool, gm, &who.user_id)
            .await?
            .into_iter()
            .map(|(value, label)| Choice { value, label })
            .collect(),
        _ => Vec::new(),
    };
    let p = &case.person;
    let person = [
        p.given_names.as_deref(),
        p.name_prefix.as_deref(),
        Some(p.family_name.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let any_claimable = tasks.iter().any(|t| t.claimable);
    // Procesregie and the router are asked at once.
    let (procesregie, routing) = futures::try_join!(
        procesregie::suggestion::for_case(state, staff, id, &case.gemeentecode, refused),
        case_routing::for_case(state, staff, &case.notices),
    )?;
    let page = CasePage {
        procesregie,
        l: Layout::for_staff(staff, format!("Casus {person}"), ""),
        id,
        person,
        born: fmt::date(p.date_of_birth),
        bsn: p.bsn.clone(),
        bsn_masked: p.bsn_masked,
        spoed: case.spoed && open,
        closed: case.closed_at.map(|at| {
            let reason = case.closed_reason.map_or("", fmt::close_reason);
            format!("{} ({reason})", fmt::date_time(at))
        }),
        municipality: fmt::municipality(&case.gemeentecode),
        institution: case.institution_code.clone(),
        started: fmt::date(case.started_on),
        expected_release: fmt::opt_date(case.expected_release_on),
        released: case.released_on.map(fmt::date),
        risk_flags: case
            .risk_flags
            .as_ref()
            .map(|flags| flags.iter().map(|f| fmt::risk_flag(*f)).collect()),
        routing,
        tasks,
        may_close: open && (may_work || who.role == Role::RcnCoordinator),
        any_claimable,
        colleagues,
        statuses: fmt::STATUSES
            .into_iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: fmt::status(s).to_owned(),
            })
            .collect(),
        close_reasons: fmt::CLOSE_REASONS
            .into_iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                label: fmt::close_reason(r).to_owned(),
            })
            .collect(),
    };
    Ok(page::render(&page))
}

/// The case id from the path and the task the form names.
fn task_of(id: &str, form: &FormData) -> Result<(Uuid, TaskRef), PortalError> {
    let case_id = Uuid::parse_str(id).map_err(|_| PortalError::NotFound)?;
    let condition = form
        .get("voorwaarde")
        .and_then(Condition::parse)
        .ok_or_else(|| {
            PortalError::BadRequest("Het formulier noemt geen geldige voorwaarde.".into())
        })?;
    Ok((case_id, TaskRef { case_id, condition }))
}

/// Leaves the outcome for the case page and sends the browser back there.
async fn back(
    state: &AppState,
    staff: &Staff,
    case_id: Uuid,
    outcome: Result<String, String>,
) -> Result<Response, PortalError> {
    let flash = match outcome {
        Ok(text) => Flash::ok(text),
        Err(text) => Flash::error(text),
    };
    session::set_flash(state, staff, flash).await?;
    // To the top of the page, where the message is: a person must see what happened (or why
    // not) before anything else.
    Ok(Redirect::to(&case_href(case_id)).into_response())
}

/// The Dutch refusal, with the holder's display name when someone else holds the task.
async fn refusal(
    state: &AppState,
    e: &rcn_contracts::envelope::ApiProblem,
) -> Result<String, PortalError> {
    let holder = match rcn_contracts::casework_api::held_by(e).map(str::to_owned) {
        Some(h) => users::display_names(&state.pool, std::slice::from_ref(&h))
            .await?
            .remove(&h),
        None => None,
    };
    Ok(services::refusal_in_dutch(e, holder.as_deref()))
}

/// `POST /casussen/{case_id}/claimen`.
pub async fn claim(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    let (case_id, task) = task_of(&id, &form)?;
    let r =
        services::casework::<IgnoredAny>(&state, "claim", &staff.identity, &TaskRequest { task })
            .await?;
    let outcome = match r {
        Ok(_) => Ok(format!(
            "U heeft de taak {} geclaimd.",
            fmt::condition(task.condition)
        )),
        Err(e) => Err(refusal(&state, &e).await?),
    };
    back(&state, &staff, case_id, outcome).await
}

/// `POST /casussen/{case_id}/alles-claimen`: every open task of the case nobody holds.
pub async fn claim_case(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    form::checked(&staff, &body)?;
    let case_id = Uuid::parse_str(&id).map_err(|_| PortalError::NotFound)?;
    let r = services::casework::<BulkReply>(
        &state,
        "claim_case",
        &staff.identity,
        &ClaimCaseRequest { case_id },
    )
    .await?;
    let outcome = match r {
        Ok(reply) => {
            let ok = reply.results.iter().filter(|r| r.error.is_none()).count();
            Ok(format!(
                "U heeft {ok} {} van deze casus geclaimd.",
                if ok == 1 { "taak" } else { "taken" }
            ))
        }
        Err(e) => Err(refusal(&state, &e).await?),
    };
    back(&state, &staff, case_id, outcome).await
}

/// `POST /casussen/{case_id}/vrijgeven`.
pub async fn release(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    let (case_id, task) = task_of(&id, &form)?;
    let r =
        services::casework::<IgnoredAny>(&state, "unclaim", &staff.identity, &TaskRequest { task })
            .await?;
    let outcome = match r {
        Ok(_) => Ok(format!(
            "U heeft de taak {} vrijgegeven; een collega kan hem nu claimen.",
            fmt::condition(task.condition)
        )),
        Err(e) => Err(refusal(&state, &e).await?),
    };
    back(&state, &staff, case_id, outcome).await
}

/// `POST /casussen/{case_id}/overdragen`: to a colleague of the same municipality.
pub async fn hand_over(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    let (case_id, task) = task_of(&id, &form)?;
    let Some(to) = form.get("naar") else {
        return back(
            &state,
            &staff,
            case_id,
            Err("Kies een collega om de taak aan over te dragen.".into()),
        )
        .await;
    };
    // Only a known colleague of the person's own municipality; casework checks again.
    let colleagues = match &staff.identity.gemeentecode {
        Some(gm) => users::colleagues(&state.pool, gm, &staff.identity.user_id).await?,
        None => Vec::new(),
    };
    let Some((to, to_name)) = colleagues.into_iter().find(|(id, _)| id == to) else {
        return back(
            &state,
            &staff,
            case_id,
            Err("Deze collega is niet bekend in uw gemeente.".into()),
        )
        .await;
    };
    let request = HandoverRequest {
        task,
        to_user_id: to,
        note: form.get("toelichting").map(str::to_owned),
    };
    let r = services::casework::<IgnoredAny>(&state, "handover", &staff.identity, &request).await?;
    let outcome = match r {
        Ok(_) => Ok(format!(
            "De taak {} is overgedragen aan {to_name}.",
            fmt::condition(task.condition)
        )),
        Err(e) => Err(refusal(&state, &e).await?),
    };
    back(&state, &staff, case_id, outcome).await
}

/// `POST /casussen/{case_id}/status`: a new status with a note (and a reason for "not
/// applicable").
pub async fn change_status(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    let (case_id, task) = task_of(&id, &form)?;
    let status = form
        .get("status")
        .and_then(ConditionStatus::parse)
        .ok_or_else(|| PortalError::BadRequest("Kies een geldige status.".into()))?;
    let request = UpdateStatusRequest {
        task,
        status,
        reason: form.get("reden").map(str::to_owned),
        note: form.get("toelichting").map(str::to_owned),
    };
    let r = services::casework::<IgnoredAny>(&state, "update_status", &staff.identity, &request)
        .await?;
    let outcome = match r {
        Ok(_) => Ok(format!(
            "De status van {} is nu ‘{}’.",
            fmt::condition(task.condition),
            fmt::status(status)
        )),
        Err(e) => Err(refusal(&state, &e).await?),
    };
    back(&state, &staff, case_id, outcome).await
}

/// `POST /casussen/{case_id}/sluiten`: closes the case with a reason.
pub async fn close(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    let case_id = Uuid::parse_str(&id).map_err(|_| PortalError::NotFound)?;
    let reason = form
        .get("reden")
        .and_then(CloseReason::parse)
        .filter(|r| fmt::CLOSE_REASONS.contains(r))
        .ok_or_else(|| PortalError::BadRequest("Kies een reden om de casus te sluiten.".into()))?;
    let request = CloseCaseRequest {
        case_id,
        reason,
        note: form.get("toelichting").map(str::to_owned),
    };
    let r = services::casework::<CaseClosedReply>(&state, "close_case", &staff.identity, &request)
        .await?;
    let outcome = match r {
        Ok(_) => Ok(format!(
            "De casus is gesloten ({}).",
            fmt::close_reason(reason).to_lowercase()
        )),
        Err(e) => Err(refusal(&state, &e).await?),
    };
    back(&state, &staff, case_id, outcome).await
}
