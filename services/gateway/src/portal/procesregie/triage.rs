//! The triage board (*Triage*, `/triage[?vergadering=YYYY-MM-DD]`): one meeting's agenda with
//! its cut-off, the drafts still waiting for completion, and for each application on the agenda
//! the outcome form (ICO, advies, verwijzen naar lokaal overleg, niet geaccepteerd, each with its
//! reason). Procesregisseurs and the RCN see the board; only a procesregisseur records outcomes.
//!
//! Two procesregisseurs deciding the same application at once: procesregie keeps the first; the
//! second is told, on this page, which outcome a colleague recorded, and nothing of theirs is
//! kept.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Days, NaiveDate};
use rcn_contracts::envelope::NoParameters;
use rcn_contracts::identity::Role;
use rcn_contracts::procesregie_api::{
    AgendaQuery, ApplicationRef, ApplicationStatus, ApplicationSummary, ApplicationView, MAX_TEXT,
    SettingsView, TriageAgenda, TriageDecision, TriageOutcome,
};
use uuid::Uuid;

use super::{Echo, FieldErrors, call, names, refusal, words};
use crate::AppState;
use crate::portal::fmt;
use crate::portal::form::{self, FormData};
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::reasons::Page;
use crate::portal::session::{self, Flash, Staff};

pub struct Row {
    pub id: Uuid,
    pub anchor: String,
    pub who: String,
    pub case_id: Option<Uuid>,
    pub municipality: String,
    pub applicant: String,
    pub submitted: String,
    pub status: &'static str,
    pub missing: u32,
    pub outcome: Option<&'static str>,
    /// Whether the outcome form is shown (a procesregisseur, an application not yet decided).
    pub decide: bool,
    /// Whether this row's outcome form is the one that was refused.
    pub refused: bool,
}

pub struct OutcomeChoice {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "portal/procesregie/triage.html")]
struct BoardPage {
    l: Layout,
    meeting: String,
    meeting_date: String,
    cutoff: String,
    rules: Option<String>,
    previous: String,
    next: String,
    agenda: Vec<Row>,
    drafts: Vec<Row>,
    outcomes: Vec<OutcomeChoice>,
    /// The refused form's errors beside its fields, and what was typed.
    errors: FieldErrors,
    echo: Echo,
}

fn require_board(staff: &Staff) -> Result<(), PortalError> {
    match staff.identity.role {
        Role::Procesregisseur | Role::RcnCoordinator => Ok(()),
        _ => Err(PortalError::Forbidden(
            "De triage is voor procesregisseurs en de RCN.".into(),
        )),
    }
}

/// `GET /triage`.
pub async fn board(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, PortalError> {
    require_board(&staff)?;
    let q = FormData::parse(raw.unwrap_or_default().as_bytes());
    let meeting_on = match q.get("vergadering") {
        Some(d) => Some(d.parse::<NaiveDate>().map_err(|_| {
            PortalError::BadRequest("Deze datum van een triage klopt niet.".into())
        })?),
        None => None,
    };
    render(
        &state,
        &staff,
        meeting_on,
        None,
        FieldErrors::default(),
        Echo::default(),
    )
    .await
}

async fn render(
    state: &AppState,
    staff: &Staff,
    meeting_on: Option<NaiveDate>,
    refused: Option<Uuid>,
    errors: FieldErrors,
    echo: Echo,
) -> Result<Response, PortalError> {
    let who = &staff.identity;
    let query = AgendaQuery {
        meeting_on,
        why: Page::Triage.why(),
    };
    let agenda: TriageAgenda = match call(state, "triage_agenda", who, &query).await? {
        Ok(a) => a,
        Err(p) if p.status == 400 => {
            return Err(PortalError::BadRequest(format!(
                "Op {} is er geen triage. Kies een andere week.",
                meeting_on.map_or("deze dag".into(), words::day)
            )));
        }
        Err(p) => return Err(refusal(&p).err().unwrap_or(PortalError::NotFound)),
    };
    let settings: Option<SettingsView> = call(state, "settings", who, &NoParameters {}).await?.ok();
    let names = names(
        state,
        agenda
            .applications
            .iter()
            .chain(&agenda.drafts)
            .map(|a| a.applicant.clone()),
    )
    .await?;
    let regisseur = who.role == Role::Procesregisseur;
    let row = |a: &ApplicationSummary| Row {
        id: a.application_id,
        anchor: format!("aanmelding-{}", a.application_id),
        who: a.family_name.clone().unwrap_or_else(|| {
            if a.case_id.is_some() {
                "Casus".into()
            } else {
                "—".into()
            }
        }),
        case_id: a.case_id,
        municipality: a
            .gemeentecode
            .as_ref()
            .map_or("—".into(), fmt::municipality),
        applicant: names.get(&a.applicant).cloned().unwrap_or_default(),
        submitted: a.submitted_at.map_or("—".into(), fmt::date_time),
        status: words::application_status(a.status),
        missing: a.missing,
        outcome: a.outcome.map(words::outcome),
        decide: regisseur && a.status == ApplicationStatus::Submitted,
        refused: refused == Some(a.application_id),
    };
    let m = agenda.meeting_on;
    let page = BoardPage {
        l: Layout::for_staff(staff, format!("Triage {}", words::day(m)), "/triage"),
        meeting: words::day(m),
        meeting_date: m.to_string(),
        cutoff: fmt::date_time(agenda.cutoff_at),
        rules: settings.map(|s| {
            format!(
                "Deadline elke {} om {} voor de triage van {}; valt de triage op een feestdag, dan {}.",
                words::weekday(s.cutoff_day),
                s.cutoff_time,
                words::weekday(s.triage_day),
                words::holiday_policy(s.on_holiday)
            )
        }),
        previous: (m - Days::new(7)).to_string(),
        next: (m + Days::new(7)).to_string(),
        agenda: agenda.applications.iter().map(row).collect(),
        drafts: agenda.drafts.iter().map(row).collect(),
        outcomes: words::OUTCOMES
            .iter()
            .map(|o| OutcomeChoice {
                value: o.as_str(),
                label: words::outcome_choice(*o),
            })
            .collect(),
        errors,
        echo,
    };
    Ok(page::render(&page))
}

/// `POST /triage/beslissen`: records the outcome of one application.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    let f = form::checked(&staff, &body)?;
    require_board(&staff)?;
    let id = f
        .get("aanmelding")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| PortalError::BadRequest("Het formulier noemt geen aanmelding.".into()))?;
    let meeting_on = f
        .get("vergadering")
        .and_then(|d| d.parse::<NaiveDate>().ok());
    let echo = Echo::of(&f, &["uitkomst", "reden", "advies"]);
    let outcome = f.get("uitkomst").and_then(TriageOutcome::parse);
    let reason = f.get("reden");
    let advice = f.get("advies");
    let mut errors = FieldErrors::default();
    if outcome.is_none() {
        errors.add("outcome", "Kies de uitkomst van de triage.");
    }
    match reason {
        None => errors.add("reason", "Geef de reden van de uitkomst."),
        Some(r) if r.chars().count() > MAX_TEXT => errors.add(
            "reason",
            format!("Deze tekst is te lang: ten hoogste {MAX_TEXT} tekens."),
        ),
        _ => {}
    }
    if outcome == Some(TriageOutcome::Advice) && advice.is_none() {
        errors.add(
            "advice",
            "Schrijf het advies op: bij de uitkomst advies hoort de tekst.",
        );
    }
    if advice.is_some_and(|a| a.chars().count() > MAX_TEXT) {
        errors.add(
            "advice",
            format!("Deze tekst is te lang: ten hoogste {MAX_TEXT} tekens."),
        );
    }
    let (Some(outcome), Some(reason), true) = (outcome, reason, errors.is_empty()) else {
        return render(&state, &staff, meeting_on, Some(id), errors, echo).await;
    };
    let decision = TriageDecision {
        application_id: id,
        outcome,
        reason: reason.to_owned(),
        advice: advice.map(str::to_owned),
    };
    let back = format!(
        "/triage{}#aanmelding-{id}",
        meeting_on.map_or(String::new(), |d| format!("?vergadering={d}"))
    );
    let flash = match call::<ApplicationView>(&state, "triage_decide", &staff.identity, &decision)
        .await?
    {
        Ok(v) => {
            match v.outcome.and_then(|o| o.ico_id) {
                Some(ico) => {
                    session::set_flash(
                    &state,
                    &staff,
                    Flash::ok("Uitkomst vastgelegd: ICO. De ICO is geopend; u bent de procesregisseur."),
                )
                .await?;
                    return Ok(Redirect::to(&format!("/icos/{ico}")).into_response());
                }
                None => Flash::ok(format!("Uitkomst vastgelegd: {}.", words::outcome(outcome))),
            }
        }
        Err(p) if p.status == 409 => Flash::error(already_decided(&state, &staff, id, &p).await?),
        Err(p) if p.status == 400 => {
            let errors = FieldErrors::from_problem(&p);
            return render(&state, &staff, meeting_on, Some(id), errors, echo).await;
        }
        Err(p) => Flash::error(refusal(&p)?),
    };
    session::set_flash(&state, &staff, flash).await?;
    Ok(Redirect::to(&back).into_response())
}

/// What the second of two procesregisseurs is told: who recorded which outcome first.
async fn already_decided(
    state: &AppState,
    staff: &Staff,
    id: Uuid,
    p: &rcn_contracts::envelope::ApiProblem,
) -> Result<String, PortalError> {
    let current = call::<ApplicationView>(
        state,
        "application_get",
        &staff.identity,
        &ApplicationRef {
            application_id: id,
            why: Page::Triage.why(),
        },
    )
    .await?
    .ok();
    let Some(o) = current.and_then(|v| v.outcome) else {
        return super::refusal(p);
    };
    let by = names(state, [o.decided_by.clone()])
        .await?
        .remove(&o.decided_by)
        .unwrap_or(o.decided_by);
    Ok(format!(
        "{by} heeft de uitkomst van deze aanmelding al vastgelegd: {} ({}). Uw uitkomst is niet vastgelegd.",
        words::outcome(o.outcome),
        o.reason
    ))
}
