//! The privacy officer's pages (`/privacy`): *Wie heeft deze persoon ingezien* — a BSN entered
//! in a POST form (never in a URL) is asked of every service that keeps an access log
//! (`privacy_accesses` on casework, procesregie, the router, the monitor's dead-letter desk and
//! intake — `who_saw_subjects` — over NATS with the officer's signed identity); each answers for
//! its own log and logs the question itself; the portal merges the answers by time and shows who,
//! role, organisation, when, what and why.
//!
//! The portal decides nothing about who may ask (the services refuse anyone but the privacy
//! officer; the page says so first for a plain answer), and never shows the BSN in full.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use rcn_contracts::Bsn;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{WhoSawReply, WhoSawRequest, merge, who_saw_subjects};

use crate::AppState;
use crate::portal::form;
use crate::portal::log_words::{self, Words};
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::session::Staff;
use crate::portal::{fmt, services};

/// One row of the answer, in words.
pub struct SeenRow {
    pub at: String,
    pub user: String,
    pub role: String,
    pub organisation: String,
    /// The part of rcn, what was read and why, in Dutch (or as logged, marked, when a word has
    /// no translation yet).
    pub service: Words,
    pub what: Words,
    pub why: Words,
}

/// The answer for one BSN.
pub struct WhoSawAnswer {
    pub bsn_masked: String,
    pub rows: Vec<SeenRow>,
    pub truncated: bool,
    /// Services that could not answer now (their part is missing).
    pub missing: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal/privacy.html")]
struct PrivacyPage {
    l: Layout,
    /// What was wrong with the BSN entered, in Dutch.
    error: Option<String>,
    answer: Option<WhoSawAnswer>,
}

fn require_officer(staff: &Staff) -> Result<(), PortalError> {
    if staff.identity.role == Role::PrivacyOfficer {
        Ok(())
    } else {
        Err(PortalError::Forbidden(
            "Alleen de functionaris gegevensbescherming kan zien wie een persoon heeft ingezien."
                .into(),
        ))
    }
}

fn page_for(staff: &Staff, error: Option<String>, answer: Option<WhoSawAnswer>) -> Response {
    page::render(&PrivacyPage {
        l: Layout::for_staff(staff, "Wie heeft deze persoon ingezien", "/privacy"),
        error,
        answer,
    })
}

/// `GET /privacy`.
pub async fn show(staff: Staff) -> Result<Response, PortalError> {
    require_officer(&staff)?;
    Ok(page_for(&staff, None, None))
}

/// Asks every service that keeps an access log who saw the person with `bsn`, at once; the
/// answers merged by time, and the names of the services that could not answer.
pub async fn who_saw(
    state: &AppState,
    who: &Identity,
    bsn: &Bsn,
) -> Result<
    (
        Vec<rcn_contracts::privacy_api::AccessEntry>,
        bool,
        Vec<String>,
    ),
    PortalError,
> {
    let request = WhoSawRequest { bsn: bsn.clone() };
    let asks = who_saw_subjects(&state.subjects).map(|(name, subject)| {
        let request = &request;
        async move {
            let reply: Result<Result<WhoSawReply, _>, PortalError> =
                services::endpoint(state, subject, who, request).await;
            (name, reply)
        }
    });
    let answers = futures::future::join_all(asks).await;
    let mut replies = Vec::new();
    let mut missing = Vec::new();
    for (name, answer) in answers {
        match answer {
            Ok(Ok(reply)) => replies.push(reply),
            Ok(Err(problem)) if problem.status == 403 || problem.status == 401 => {
                return Err(PortalError::Forbidden(
                    "Alleen de functionaris gegevensbescherming kan zien wie een persoon heeft ingezien."
                        .into(),
                ));
            }
            Ok(Err(problem)) => {
                tracing::warn!(service = name, status = problem.status, "who-saw refused");
                missing.push(name.to_owned());
            }
            Err(PortalError::Unavailable) => missing.push(name.to_owned()),
            Err(e) => return Err(e),
        }
    }
    let (entries, truncated) = merge(replies);
    Ok((entries, truncated, missing))
}

/// `POST /privacy/wie-heeft-ingezien`: the BSN only in the body.
pub async fn who_saw_form(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    require_officer(&staff)?;
    let Some(entered) = form.get("bsn") else {
        return Ok(page_for(&staff, Some("Vul een BSN in.".into()), None));
    };
    let digits: String = entered
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .collect();
    let Ok(bsn) = Bsn::parse(&digits) else {
        return Ok(page_for(
            &staff,
            Some(
                "Dit is geen geldig BSN: een BSN heeft 9 cijfers en voldoet aan de elfproef."
                    .into(),
            ),
            None,
        ));
    };
    let (entries, truncated, missing) = who_saw(&state, &staff.identity, &bsn).await?;
    let rows = entries
        .into_iter()
        .map(|e| SeenRow {
            at: fmt::date_time(e.at),
            organisation: match &e.gemeentecode {
                Some(gm) => format!("Gemeente {}", fmt::municipality(gm)),
                None => organisation_of(e.role).to_owned(),
            },
            user: e.user_id,
            role: fmt::role(e.role).to_owned(),
            service: log_words::service(&e.service),
            what: log_words::what(&e.what),
            why: log_words::why(e.why.as_deref()),
        })
        .collect();
    Ok(page_for(
        &staff,
        None,
        Some(WhoSawAnswer {
            bsn_masked: bsn.masked(),
            rows,
            truncated,
            missing: missing.iter().map(|m| log_words::service(m).text).collect(),
        }),
    ))
}

/// The organisation of someone without a municipality.
fn organisation_of(role: Role) -> &'static str {
    match role {
        Role::MunicipalStaff => "Gemeente",
        Role::RcnCoordinator => "RCN (Zorg- en Veiligheidshuis)",
        Role::Procesregisseur => "Zorg- en Veiligheidshuis",
        Role::PrivacyOfficer | Role::Administrator => "Beheer rcn",
    }
}
