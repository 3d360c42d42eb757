//! Procesregie's pages in the staff portal: the suggestion on the case page, the application
//! form (*Aanmelding*), the triage board (*Triage*), the ICO page with its plan van aanpak and
//! reviews, and the lists (*Aanmeldingen*, *Mijn ICO's*).
//!
//! Like every portal page these ask the owning service, here procesregie over NATS
//! (`rcn.<region>.api.procesregie.<verb>`) with the signed-in person's identity; procesregie
//! decides who may see and do what, the pages only leave out forms a role cannot use. Every
//! form carries the session's CSRF token and works without JavaScript (POST, then redirect, or
//! the page again with the Dutch error beside the field). No URL carries anything personal: only
//! the random ids of applications, ICOs and cases.

pub mod application;
pub mod ico;
pub mod suggestion;
pub mod triage;
pub mod words;

use std::collections::HashMap;

use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::Identity;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::portal::page::PortalError;
use crate::portal::services;

/// Asks procesregie's `verb` as `who`: its answer, or its refusal.
pub async fn call<T: DeserializeOwned>(
    state: &AppState,
    verb: &str,
    who: &Identity,
    body: &impl Serialize,
) -> Result<Result<T, ApiProblem>, PortalError> {
    services::endpoint(state, state.subjects.procesregie_api(verb), who, body).await
}

/// A refusal that is no fault of the form: "not found" and "not allowed" pages, the rest as a
/// sentence for the message at the top of the page.
pub fn refusal(p: &ApiProblem) -> Result<String, PortalError> {
    match p.status {
        404 => Err(PortalError::NotFound),
        403 => Err(PortalError::Forbidden(
            "Dit mag u met uw rol niet doen in procesregie.".into(),
        )),
        409 => Ok(conflict_in_dutch(p)),
        _ => Ok("Het verzoek is niet compleet of te lang. Controleer de velden.".into()),
    }
}

/// What a 409 from procesregie means, in Dutch.
fn conflict_in_dutch(p: &ApiProblem) -> String {
    let d = p.detail.as_str();
    if d.contains("ICO is closed") {
        "Deze ICO is gesloten; het plan van aanpak kan niet meer veranderen.".into()
    } else if d.contains("suggestion was already") {
        "Over dit voorstel is al beslist door een collega; er is niets gewijzigd.".into()
    } else if d.contains("submitted and can no longer change") {
        "Deze aanmelding is al ingediend en kan niet meer worden gewijzigd.".into()
    } else if d.contains("still a draft") {
        "Deze aanmelding is nog een concept; de triage beslist pas als ze is ingediend.".into()
    } else {
        "Iemand anders heeft dit intussen gewijzigd. Bekijk de pagina opnieuw.".into()
    }
}

/// The errors of a form, each shown beside its field (keyed by the field's name in the
/// contract, e.g. `criteria.a.explanation`) and listed at the top of the form.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    /// The first error of `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Every error, in form order: (field, message).
    pub fn all(&self) -> &[(String, String)] {
        &self.0
    }

    /// A service's `invalidParams` in Dutch, each beside its field.
    pub fn from_problem(p: &ApiProblem) -> Self {
        let mut out = Self::default();
        for param in &p.invalid_params {
            out.add(param.name.clone(), words::invalid_in_dutch(&param.reason));
        }
        if out.is_empty() {
            out.add(
                "",
                "Het formulier is niet goed ingevuld. Controleer de velden.",
            );
        }
        out
    }
}

/// The values a person typed into a form that was refused, to show them again.
#[derive(Debug, Default, Clone)]
pub struct Echo {
    values: HashMap<String, String>,
    /// The partner rows typed, when the form has them.
    partners: Option<Vec<rcn_contracts::procesregie_api::Partner>>,
}

impl Echo {
    pub fn of(form: &crate::portal::form::FormData, names: &[&str]) -> Self {
        Self {
            values: names
                .iter()
                .filter_map(|n| form.get(n).map(|v| ((*n).to_owned(), v.to_owned())))
                .collect(),
            partners: None,
        }
    }

    /// The partner rows a person typed (`partner_organisatie`, … per row).
    pub fn of_partners(partners: Vec<rcn_contracts::procesregie_api::Partner>) -> Self {
        Self {
            values: HashMap::new(),
            partners: Some(partners),
        }
    }

    /// The value typed into `name`, or empty.
    pub fn val(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// The partner rows typed, if this form had them.
    pub fn partners(&self) -> Option<&[rcn_contracts::procesregie_api::Partner]> {
        self.partners.as_deref()
    }
}

/// Display names of these user ids (the id itself for one the portal does not know).
pub async fn names(
    state: &AppState,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, String>, PortalError> {
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    let mut known = crate::portal::users::display_names(&state.pool, &ids).await?;
    for id in ids {
        known.entry(id.clone()).or_insert(id);
    }
    Ok(known)
}

/// The name of a case's person, asked of casework (which logs the read with `page`'s reason):
/// procesregie keeps no names for applications made from a case. `None` when casework does not
/// give it to this person.
pub async fn case_person(
    state: &AppState,
    who: &Identity,
    case_id: uuid::Uuid,
    page: crate::portal::reasons::Page,
) -> Result<Option<String>, PortalError> {
    let request = rcn_contracts::casework_api::CaseRequest {
        case_id,
        why: page.why(),
    };
    let case = match services::casework::<rcn_contracts::casework_api::CaseDetail>(
        state, "case", who, &request,
    )
    .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(_)) | Err(PortalError::Unavailable) => return Ok(None),
        Err(e) => return Err(e),
    };
    let p = &case.person;
    Ok(Some(
        [
            p.given_names.as_deref(),
            p.name_prefix.as_deref(),
            Some(p.family_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
    ))
}
