//! Procesregie on the case page: the suggestions a rule raised for the case (accept: it becomes
//! an application draft to complete; dismiss: with a reason), the case's applications with their
//! outcome, and the ICO the case is in. A rule never escalates by itself: a person decides here.
//!
//! The case page still shows when procesregie does not answer; it then says so instead.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rcn_contracts::identity::Role;
use rcn_contracts::procesregie_api::{
    ApplicationList, ApplicationQuery, ApplicationView, IcoStatus, MAX_TEXT, SuggestionDismiss,
    SuggestionList, SuggestionQuery, SuggestionRef, SuggestionView,
};
use rcn_contracts::{Condition, Gemeentecode, RiskFlag};
use uuid::Uuid;

use super::{call, names, refusal, words};
use crate::AppState;
use crate::portal::form;
use crate::portal::page::PortalError;
use crate::portal::reasons::Page;
use crate::portal::session::{self, Flash, Staff};
use crate::portal::{case, fmt};

pub struct SuggestionRow {
    pub id: Uuid,
    pub rule: String,
    pub raised: String,
    /// What the rule looked at, in words (absent for roles that may not see risk-flag details).
    pub inputs: Option<String>,
    /// A refused dismissal of this suggestion: the error beside the reason, and what was typed.
    pub error: Option<String>,
    pub typed: String,
}

pub struct ApplicationRow {
    pub id: Uuid,
    pub status: &'static str,
    pub triage: String,
    pub outcome: String,
}

pub struct IcoRow {
    pub id: Uuid,
    pub status: &'static str,
    pub open: bool,
    pub regisseur: String,
    pub next_review: String,
    pub overdue: u32,
}

/// What the case page shows of procesregie.
pub struct CaseProcesregie {
    pub suggestions: Vec<SuggestionRow>,
    pub applications: Vec<ApplicationRow>,
    pub icos: Vec<IcoRow>,
    /// Whether this person may apply for procesregie for the case.
    pub may_apply: bool,
}

/// A dismissal procesregie did not take: which suggestion, why, and the reason typed.
pub struct DismissRefused {
    pub suggestion_id: Uuid,
    pub error: String,
    pub typed: String,
}

/// Procesregie's part of the case page; `None` when procesregie does not answer now.
pub async fn for_case(
    state: &AppState,
    staff: &Staff,
    case_id: Uuid,
    gemeentecode: &Gemeentecode,
    refused: Option<DismissRefused>,
) -> Result<Option<CaseProcesregie>, PortalError> {
    let who = &staff.identity;
    // The case page's reason: the suggestions, applications and ICO summaries it shows are
    // reads of the case's person.
    let query = SuggestionQuery {
        case_id: Some(case_id),
        status: None,
        why: Page::Case.why(),
    };
    let suggestions = match call::<SuggestionList>(state, "suggestion_list", who, &query).await {
        Ok(Ok(s)) => s,
        Ok(Err(_)) | Err(PortalError::Unavailable) => return Ok(None),
        Err(e) => return Err(e),
    };
    let applications = match call::<ApplicationList>(
        state,
        "application_list",
        who,
        &ApplicationQuery {
            status: None,
            case_id: Some(case_id),
            why: Page::Case.why(),
        },
    )
    .await
    {
        Ok(Ok(a)) => a.applications,
        Ok(Err(_)) | Err(PortalError::Unavailable) => return Ok(None),
        Err(e) => return Err(e),
    };
    let names = names(
        state,
        suggestions.icos.iter().map(|i| i.procesregisseur.clone()),
    )
    .await?;
    let rows = suggestions
        .suggestions
        .iter()
        .map(|s| {
            let mine = refused
                .as_ref()
                .filter(|r| r.suggestion_id == s.suggestion_id);
            SuggestionRow {
                id: s.suggestion_id,
                rule: s.rule_text.clone(),
                raised: fmt::date_time(s.raised_at),
                inputs: s.inputs.as_ref().map(inputs_in_words),
                error: mine.map(|r| r.error.clone()),
                typed: mine.map(|r| r.typed.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let may_apply = match who.role {
        Role::MunicipalStaff => who.gemeentecode.as_ref() == Some(gemeentecode),
        Role::RcnCoordinator | Role::Procesregisseur => true,
        _ => false,
    };
    Ok(Some(CaseProcesregie {
        suggestions: rows,
        applications: applications
            .iter()
            .map(|a| ApplicationRow {
                id: a.application_id,
                status: words::application_status(a.status),
                triage: a.triage_on.map_or("—".into(), words::day),
                outcome: a.outcome.map_or("—", words::outcome).to_owned(),
            })
            .collect(),
        icos: suggestions
            .icos
            .iter()
            .map(|i| IcoRow {
                id: i.ico_id,
                status: words::ico_status(i.status),
                open: i.status == IcoStatus::Open,
                regisseur: names.get(&i.procesregisseur).cloned().unwrap_or_default(),
                next_review: fmt::opt_date(i.next_review_on),
                overdue: i.overdue_actions,
            })
            .collect(),
        may_apply,
    }))
}

/// What the rule looked at, in words: the risk flags, counts, thresholds, dates.
fn inputs_in_words(inputs: &serde_json::Value) -> String {
    let serde_json::Value::Object(map) = inputs else {
        return "—".into();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let value = match v {
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        if let Ok(flag) = serde_json::from_value::<RiskFlag>(i.clone()) {
                            return fmt::risk_flag(flag);
                        }
                        match i.as_str() {
                            Some(c) => Condition::parse(c)
                                .map_or_else(|| c.to_owned(), |c| fmt::condition(c).to_owned()),
                            None => i.to_string(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let label = match k.as_str() {
                "risk_flags" => "risicosignalen",
                "open_conditions" => "open voorwaarden",
                "threshold" => "drempel",
                "days_to_release" => "dagen tot ontslag",
                "expected_release_on" => "verwacht ontslag",
                "overdue_conditions" => "voorwaarden over tijd",
                "within_days" => "binnen dagen",
                "evaluated_on" => "beoordeeld op",
                other => other,
            };
            format!("{label}: {value}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn suggestion_of(form: &form::FormData) -> Result<Uuid, PortalError> {
    form.get("voorstel")
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| PortalError::BadRequest("Het formulier noemt geen voorstel.".into()))
}

/// `POST /casussen/{case_id}/voorstel/accepteren`: the suggestion becomes an application draft,
/// and the browser goes to its form.
pub async fn accept(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(case_id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let f = form::checked(&staff, &body)?;
    let case_id = Uuid::parse_str(&case_id).map_err(|_| PortalError::NotFound)?;
    let suggestion_id = suggestion_of(&f)?;
    match call::<ApplicationView>(
        &state,
        "suggestion_accept",
        &staff.identity,
        &SuggestionRef { suggestion_id },
    )
    .await?
    {
        Ok(draft) => {
            session::set_flash(
                &state,
                &staff,
                Flash::ok(
                    "U heeft het voorstel aangenomen. Vul de aanmelding aan en dien haar in voor de triage.",
                ),
            )
            .await?;
            Ok(Redirect::to(&format!("/aanmeldingen/{}", draft.application_id)).into_response())
        }
        Err(p) => {
            session::set_flash(&state, &staff, Flash::error(refusal(&p)?)).await?;
            Ok(Redirect::to(&format!("/casussen/{case_id}")).into_response())
        }
    }
}

/// `POST /casussen/{case_id}/voorstel/afwijzen`: dismisses the suggestion with a reason.
pub async fn dismiss(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(case_id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let f = form::checked(&staff, &body)?;
    let case_id = Uuid::parse_str(&case_id).map_err(|_| PortalError::NotFound)?;
    let suggestion_id = suggestion_of(&f)?;
    let typed = f.get("reden").unwrap_or("").to_owned();
    let error = if typed.is_empty() {
        Some("Geef de reden waarom u het voorstel afwijst.".to_owned())
    } else if typed.chars().count() > MAX_TEXT {
        Some(format!(
            "Deze tekst is te lang: ten hoogste {MAX_TEXT} tekens."
        ))
    } else {
        None
    };
    if let Some(error) = error {
        let refused = DismissRefused {
            suggestion_id,
            error,
            typed,
        };
        return case::page(&state, &staff, case_id, Some(refused)).await;
    }
    let flash = match call::<SuggestionView>(
        &state,
        "suggestion_dismiss",
        &staff.identity,
        &SuggestionDismiss {
            suggestion_id,
            reason: typed,
        },
    )
    .await?
    {
        Ok(_) => Flash::ok("U heeft het voorstel afgewezen; de reden is bewaard."),
        Err(p) => Flash::error(refusal(&p)?),
    };
    session::set_flash(&state, &staff, flash).await?;
    Ok(Redirect::to(&format!("/casussen/{case_id}")).into_response())
}
