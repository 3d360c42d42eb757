//! The application form (*Aanmelding*, `/aanmeldingen/…`): reason, goal, the admission criteria
//! A–D as a checklist with what each means, the partners involved, and whether the person will be
//! informed (and if not, why). From a case (accepting a suggestion, or *Aanmelden voor
//! procesregie* on the case page) or on its own for a person not in casework.
//!
//! Saving always keeps what was typed: procesregie saves an incomplete application as a draft and
//! says what is missing, which this page shows beside each field and as a list at the top. A
//! complete application is submitted with *Indienen* and goes to the triage procesregie names;
//! from then on the page shows it read-only, with the triage's outcome once there is one.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use rcn_contracts::envelope::NoParameters;
use rcn_contracts::identity::Role;
use rcn_contracts::procesregie_api::{
    ApplicationForm, ApplicationList, ApplicationQuery, ApplicationRef, ApplicationStatus,
    ApplicationView, Criteria, Criterion, Partner, SettingsView, StandalonePerson,
};
use rcn_contracts::{Bsn, Gemeentecode};
use uuid::Uuid;

use super::{FieldErrors, call, names, refusal, words};
use crate::AppState;
use crate::portal::fmt;
use crate::portal::form::{self, FormData};
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::reasons::Page;
use crate::portal::session::{self, Flash, Staff};

/// The admission criteria with what each means, as the form explains them.
pub const CRITERIA: [(&str, &str, &str); 4] = [
    (
        "a",
        "A. Meerdere leefgebieden",
        "Er zijn problemen op meer dan één leefgebied (wonen, inkomen, zorg, relaties, …) die leiden tot criminaliteit, overlast of verloedering.",
    ),
    (
        "b",
        "B. Meerdere ketens",
        "Er is meer dan één keten nodig, in elk geval zorg én veiligheid.",
    ),
    (
        "c",
        "C. Gezin of sociaal systeem",
        "De problemen raken het gezin of het sociale systeem van de persoon.",
    ),
    (
        "d",
        "D. Lokaal veiligheidsprobleem",
        "Er is een ernstig lokaal veiligheidsprobleem.",
    ),
];

pub struct CriterionRow {
    pub key: &'static str,
    pub label: &'static str,
    pub meaning: &'static str,
    pub met: bool,
    pub explanation: String,
    pub error: Option<String>,
    pub explanation_error: Option<String>,
}

pub struct PartnerRow {
    pub i: usize,
    pub fields: Vec<PartnerField>,
}

/// One input of a partner row.
pub struct PartnerField {
    /// The id part (`f-partner-<i>-<field>`).
    pub field: &'static str,
    /// The form field's name.
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One line of the list of what is missing: the field's anchor and the message.
pub struct Missing {
    pub anchor: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "portal/procesregie/application_form.html")]
struct FormPage {
    l: Layout,
    action: String,
    case_id: Option<Uuid>,
    /// The person of a standalone draft, read-only once given.
    person: Option<String>,
    ask_person: bool,
    family_name: String,
    given_names: String,
    date_of_birth: String,
    municipalities: Vec<Choice>,
    reason: String,
    goal: String,
    criteria: Vec<CriterionRow>,
    partners: Vec<PartnerRow>,
    informed: Option<bool>,
    not_informed_why: String,
    errors: FieldErrors,
    missing: Vec<Missing>,
    next_meeting: String,
    cutoff: String,
    earlier: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal/procesregie/application.html")]
struct ViewPage {
    l: Layout,
    a: ApplicationView,
    status: &'static str,
    person: String,
    municipality: String,
    applicant: String,
    submitted: String,
    triage: Option<(String, String)>,
    criteria: Vec<CriterionRow>,
    informed: String,
    outcome: Option<OutcomeText>,
    earlier: Vec<String>,
}

pub struct OutcomeText {
    pub outcome: &'static str,
    pub reason: String,
    pub advice: Option<String>,
    pub by: String,
    pub at: String,
    pub ico_id: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "portal/procesregie/applications.html")]
struct ListPage {
    l: Layout,
    rows: Vec<ListRow>,
}

pub struct ListRow {
    pub id: Uuid,
    pub who: String,
    pub municipality: String,
    pub applicant: String,
    pub status: &'static str,
    pub missing: u32,
    pub triage: String,
    pub outcome: String,
    pub updated: String,
}

/// `GET /aanmeldingen`: the applications the person may see, newest change first.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<Response, PortalError> {
    let who = &staff.identity;
    let reply: ApplicationList = call(
        &state,
        "application_list",
        who,
        &ApplicationQuery {
            why: Page::Applications.why(),
            ..ApplicationQuery::default()
        },
    )
    .await?
    .map_err(|p| refusal(&p).err().unwrap_or(PortalError::NotFound))?;
    let names = names(
        &state,
        reply.applications.iter().map(|a| a.applicant.clone()),
    )
    .await?;
    let rows = reply
        .applications
        .into_iter()
        .map(|a| ListRow {
            id: a.application_id,
            who: a.family_name.clone().unwrap_or_else(|| {
                if a.case_id.is_some() {
                    "Casus".into()
                } else {
                    "—".into()
                }
            }),
            municipality: a
                .gemeentecode
                .as_ref()
                .map_or("—".into(), fmt::municipality),
            applicant: names.get(&a.applicant).cloned().unwrap_or_default(),
            status: words::application_status(a.status),
            missing: a.missing,
            triage: a.triage_on.map_or("—".into(), words::day),
            outcome: a.outcome.map_or("—", words::outcome).to_owned(),
            updated: fmt::date_time(a.updated_at),
        })
        .collect();
    Ok(page::render(&ListPage {
        l: Layout::for_staff(&staff, "Aanmeldingen procesregie", "/aanmeldingen"),
        rows,
    }))
}

/// `GET /aanmeldingen/nieuw[?casus=<case id>]`: an empty form, about a case or on its own.
pub async fn new(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, PortalError> {
    let q = FormData::parse(raw.unwrap_or_default().as_bytes());
    let case_id = match q.get("casus") {
        Some(c) => Some(Uuid::parse_str(c).map_err(|_| PortalError::NotFound)?),
        None => None,
    };
    let form = ApplicationForm {
        case_id,
        ..ApplicationForm::default()
    };
    form_page(
        &state,
        &staff,
        None,
        &form,
        None,
        FieldErrors::default(),
        Vec::new(),
    )
    .await
}

/// `GET /aanmeldingen/{id}`: a draft as a form to complete, anything else read-only.
pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id = Uuid::parse_str(&id).map_err(|_| PortalError::NotFound)?;
    let view = get(&state, &staff, id).await?;
    if view.status == ApplicationStatus::Draft {
        let form = form_of(&view);
        let mut errors = FieldErrors::default();
        for m in &view.missing {
            errors.add(m.field.clone(), m.message.clone());
        }
        let earlier = earlier_lines(&view);
        return form_page(&state, &staff, Some(&view), &form, None, errors, earlier).await;
    }
    view_page(&state, &staff, view).await
}

async fn get(state: &AppState, staff: &Staff, id: Uuid) -> Result<ApplicationView, PortalError> {
    call::<ApplicationView>(
        state,
        "application_get",
        &staff.identity,
        &ApplicationRef {
            application_id: id,
            why: Page::Application.why(),
        },
    )
    .await?
    .map_err(|p| refusal(&p).err().unwrap_or(PortalError::NotFound))
}

/// `POST /aanmeldingen`: saves a new application.
pub async fn create(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    let posted = form::checked(&staff, &body)?;
    save(&state, &staff, None, &posted).await
}

/// `POST /aanmeldingen/{id}`: saves the next version of a draft (and submits it when asked and
/// complete).
pub async fn update(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let posted = form::checked(&staff, &body)?;
    let id = Uuid::parse_str(&id).map_err(|_| PortalError::NotFound)?;
    let draft = get(&state, &staff, id).await?;
    if draft.status != ApplicationStatus::Draft {
        session::set_flash(
            &state,
            &staff,
            Flash::error("Deze aanmelding is al ingediend en kan niet meer worden gewijzigd."),
        )
        .await?;
        return Ok(Redirect::to(&format!("/aanmeldingen/{id}")).into_response());
    }
    save(&state, &staff, Some(&draft), &posted).await
}

async fn save(
    state: &AppState,
    staff: &Staff,
    draft: Option<&ApplicationView>,
    posted: &FormData,
) -> Result<Response, PortalError> {
    let (form, errors) = parse(posted, draft);
    if !errors.is_empty() {
        return form_page(state, staff, draft, &form, Some(posted), errors, Vec::new()).await;
    }
    let reply = call::<ApplicationView>(state, "application_save", &staff.identity, &form).await?;
    let saved = match reply {
        Ok(v) => v,
        Err(p) if p.status == 400 => {
            let errors = FieldErrors::from_problem(&p);
            return form_page(state, staff, draft, &form, Some(posted), errors, Vec::new()).await;
        }
        Err(p) if p.status == 403 => {
            let mut errors = FieldErrors::default();
            errors.add(
                "gemeentecode",
                "U kunt alleen inwoners van uw eigen gemeente aanmelden.",
            );
            return form_page(state, staff, draft, &form, Some(posted), errors, Vec::new()).await;
        }
        Err(p) => {
            let text = refusal(&p)?;
            session::set_flash(state, staff, Flash::error(text)).await?;
            let to = draft.map_or_else(
                || "/aanmeldingen".to_owned(),
                |d| format!("/aanmeldingen/{}", d.application_id),
            );
            return Ok(Redirect::to(&to).into_response());
        }
    };
    let n = saved.missing.len();
    let flash = match (saved.status, form.submit) {
        (ApplicationStatus::Submitted, _) => Flash::ok(format!(
            "De aanmelding is ingediend. Ze staat op de agenda van de triage van {}.",
            saved.triage_on.map_or("—".into(), words::day)
        )),
        (_, true) => Flash::error(format!(
            "De aanmelding is nog niet compleet en is als concept opgeslagen. Er {} nog {n} {}; zie hieronder.",
            if n == 1 { "ontbreekt" } else { "ontbreken" },
            if n == 1 { "punt" } else { "punten" }
        )),
        (_, false) if n > 0 => Flash::ok(format!(
            "De aanmelding is als concept opgeslagen. Voor indienen {} nog {n} {}.",
            if n == 1 { "ontbreekt" } else { "ontbreken" },
            if n == 1 { "punt" } else { "punten" }
        )),
        (_, false) => Flash::ok(
            "De aanmelding is als concept opgeslagen en is compleet: u kunt haar indienen.",
        ),
    };
    session::set_flash(state, staff, flash).await?;
    Ok(Redirect::to(&format!("/aanmeldingen/{}", saved.application_id)).into_response())
}

/// The form as posted; errors of what the portal itself reads (a date, a BSN, a municipality).
fn parse(f: &FormData, draft: Option<&ApplicationView>) -> (ApplicationForm, FieldErrors) {
    let mut errors = FieldErrors::default();
    let text = |name: &str| f.get(name).map(str::to_owned);
    let criterion = |key: &str| Criterion {
        met: f.get(key) == Some("ja"),
        explanation: text(&format!("{key}_toelichting")),
    };
    let partners = parse_partners(f);
    let case_id = match draft {
        Some(d) => d.case_id,
        None => f.get("casus").and_then(|c| Uuid::parse_str(c).ok()),
    };
    let ask_person = case_id.is_none() && draft.is_none_or(|d| d.person.is_none());
    let mut person = None;
    let mut gemeentecode = None;
    if ask_person {
        match f.get("gemeente").map(Gemeentecode::parse) {
            Some(Ok(g)) => gemeentecode = Some(g),
            Some(Err(_)) => errors.add("gemeentecode", "Kies een gemeente uit de lijst."),
            None => {}
        }
        let bsn = match f.get("bsn").map(|b| Bsn::parse(&b.replace([' ', '.'], ""))) {
            Some(Ok(b)) => Some(b),
            Some(Err(_)) => {
                errors.add(
                    "person.bsn",
                    "Dit BSN klopt niet: het heeft 9 cijfers en voldoet aan de elfproef.",
                );
                None
            }
            None => None,
        };
        let date_of_birth = match f.get("geboortedatum").map(|d| d.parse::<NaiveDate>()) {
            Some(Ok(d)) => Some(d),
            Some(Err(_)) => {
                errors.add(
                    "person.date_of_birth",
                    "Vul een geldige datum in, bijvoorbeeld 1990-04-01.",
                );
                None
            }
            None => None,
        };
        if let Some(family_name) = text("achternaam") {
            person = Some(StandalonePerson {
                bsn,
                family_name,
                given_names: text("voornamen"),
                date_of_birth,
            });
        } else if bsn.is_some() || date_of_birth.is_some() || text("voornamen").is_some() {
            errors.add("person.family_name", "Vul de achternaam in.");
        }
    }
    let informed = match f.get("geinformeerd") {
        Some("ja") => Some(true),
        Some("nee") => Some(false),
        _ => None,
    };
    let form = ApplicationForm {
        application_id: draft.map(|d| d.application_id),
        case_id: if draft.is_some() { None } else { case_id },
        person,
        gemeentecode,
        reason: text("reden"),
        goal: text("doel"),
        criteria: Criteria {
            a: criterion("a"),
            b: criterion("b"),
            c: criterion("c"),
            d: criterion("d"),
        },
        partners,
        informed,
        not_informed_why: text("niet_geinformeerd_waarom"),
        submit: f.get("actie") == Some("indienen"),
    };
    (form, errors)
}

/// A saved draft as the form's values.
fn form_of(v: &ApplicationView) -> ApplicationForm {
    ApplicationForm {
        application_id: Some(v.application_id),
        case_id: v.case_id,
        person: None,
        gemeentecode: v.gemeentecode.clone(),
        reason: v.reason.clone(),
        goal: v.goal.clone(),
        criteria: v.criteria.clone(),
        partners: v.partners.clone(),
        informed: v.informed,
        not_informed_why: v.not_informed_why.clone(),
        submit: false,
    }
}

/// The anchor of a field in the form, for the list of what is missing.
fn anchor(field: &str) -> String {
    let id = match field {
        "person" | "person.family_name" => "f-achternaam".to_owned(),
        "person.bsn" => "f-bsn".into(),
        "person.date_of_birth" => "f-geboortedatum".into(),
        "gemeentecode" => "f-gemeente".into(),
        "reason" => "f-reden".into(),
        "goal" => "f-doel".into(),
        "criteria" => "f-c".into(),
        "partners" => "f-partner-0-organisatie".into(),
        "informed" => "f-geinformeerd-ja".into(),
        "not_informed_why" => "f-waarom".into(),
        f if f.starts_with("criteria.") => {
            let rest = &f["criteria.".len()..];
            match rest.split_once('.') {
                Some((k, _)) => format!("f-{k}-toelichting"),
                None => format!("f-{rest}"),
            }
        }
        f if f.starts_with("partners[") => {
            let (i, field) = f["partners[".len()..].split_once("].").unwrap_or(("0", ""));
            let field = match field {
                "contact" => "contactpersoon",
                "phone" => "telefoon",
                "email" => "email",
                _ => "organisatie",
            };
            format!("f-partner-{i}-{field}")
        }
        _ => "aanmelding".into(),
    };
    format!("#{id}")
}

fn earlier_lines(v: &ApplicationView) -> Vec<String> {
    v.earlier
        .iter()
        .map(|e| {
            let mut line = format!(
                "Aanmelding {} ({})",
                e.submitted_at
                    .map_or("niet ingediend".into(), fmt::date_time),
                words::application_status(e.status)
            );
            if let Some(o) = e.outcome {
                line.push_str(&format!(", uitkomst: {}", words::outcome(o)));
            }
            if let Some(s) = e.ico_status {
                line.push_str(&format!(", ICO {}", words::ico_status(s).to_lowercase()));
            }
            line
        })
        .collect()
}

fn municipalities(staff: &Staff, selected: Option<&Gemeentecode>) -> Vec<Choice> {
    rcn_contracts::region::RegionTable::kennemerland()
        .municipalities
        .iter()
        // Municipal staff apply for their own residents only; procesregie checks it again.
        .filter(|m| {
            staff.identity.role != Role::MunicipalStaff
                || staff.identity.gemeentecode.as_ref() == Some(&m.code)
        })
        .map(|m| Choice {
            value: m.code.as_str().to_owned(),
            label: m.name.clone(),
            selected: selected == Some(&m.code),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    staff: &Staff,
    draft: Option<&ApplicationView>,
    form: &ApplicationForm,
    posted: Option<&FormData>,
    errors: FieldErrors,
    earlier: Vec<String>,
) -> Result<Response, PortalError> {
    let settings: Option<SettingsView> = call(state, "settings", &staff.identity, &NoParameters {})
        .await?
        .ok();
    let case_id = draft.map_or(form.case_id, |d| d.case_id);
    let ask_person = case_id.is_none() && draft.is_none_or(|d| d.person.is_none());
    let echo = |name: &str| posted.and_then(|p| p.get(name)).unwrap_or("").to_owned();
    let c = &form.criteria;
    let criteria = CRITERIA
        .iter()
        .zip([&c.a, &c.b, &c.c, &c.d])
        .map(|((key, label, meaning), v)| CriterionRow {
            key,
            label,
            meaning,
            met: v.met,
            explanation: v.explanation.clone().unwrap_or_default(),
            error: errors.get(&format!("criteria.{key}")).map(str::to_owned),
            explanation_error: errors
                .get(&format!("criteria.{key}.explanation"))
                .map(str::to_owned),
        })
        .collect();
    let partners = partner_rows(form.partners.clone(), &errors);
    let missing = errors
        .all()
        .iter()
        .map(|(field, message)| Missing {
            anchor: anchor(field),
            message: message.clone(),
        })
        .collect();
    let person = draft.and_then(|d| d.person.as_ref()).map(|p| {
        let mut s = [p.given_names.as_deref(), Some(p.family_name.as_str())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(b) = &p.bsn_masked {
            s.push_str(&format!(" (BSN {b})"));
        }
        s
    });
    let person = match (person, case_id) {
        (Some(p), _) => Some(p),
        (None, Some(c)) => super::case_person(state, &staff.identity, c, Page::Application)
            .await?
            .map(|name| format!("{name}, uit de casus")),
        (None, None) => None,
    };
    let title = if draft.is_some() {
        "Aanmelding procesregie (concept)"
    } else {
        "Nieuwe aanmelding procesregie"
    };
    let page = FormPage {
        l: Layout::for_staff(staff, title, "/aanmeldingen"),
        action: draft.map_or_else(
            || "/aanmeldingen".to_owned(),
            |d| format!("/aanmeldingen/{}", d.application_id),
        ),
        case_id,
        person,
        ask_person,
        family_name: echo("achternaam"),
        given_names: echo("voornamen"),
        date_of_birth: echo("geboortedatum"),
        municipalities: municipalities(
            staff,
            form.gemeentecode
                .as_ref()
                .or(staff.identity.gemeentecode.as_ref()),
        ),
        reason: form.reason.clone().unwrap_or_default(),
        goal: form.goal.clone().unwrap_or_default(),
        criteria,
        partners,
        informed: form.informed,
        not_informed_why: form.not_informed_why.clone().unwrap_or_default(),
        errors,
        missing,
        next_meeting: settings
            .as_ref()
            .map_or("—".into(), |s| words::day(s.next_meeting_on)),
        cutoff: settings
            .as_ref()
            .map_or("—".into(), |s| fmt::date_time(s.next_cutoff_at)),
        earlier,
    };
    Ok(page::render(&page))
}

async fn view_page(
    state: &AppState,
    staff: &Staff,
    a: ApplicationView,
) -> Result<Response, PortalError> {
    let mut ids = vec![a.applicant.clone()];
    if let Some(o) = &a.outcome {
        ids.push(o.decided_by.clone());
    }
    let names = names(state, ids).await?;
    let person = match &a.person {
        Some(p) => {
            let mut s = [p.given_names.as_deref(), Some(p.family_name.as_str())]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(b) = &p.bsn_masked {
                s.push_str(&format!(" (BSN {b})"));
            }
            s
        }
        None => match a.case_id {
            Some(c) => super::case_person(state, &staff.identity, c, Page::Application)
                .await?
                .unwrap_or_else(|| "De persoon van de casus".into()),
            None => "—".into(),
        },
    };
    let c = &a.criteria;
    let criteria = CRITERIA
        .iter()
        .zip([&c.a, &c.b, &c.c, &c.d])
        .map(|((key, label, meaning), v)| CriterionRow {
            key,
            label,
            meaning,
            met: v.met,
            explanation: v.explanation.clone().unwrap_or_default(),
            error: None,
            explanation_error: None,
        })
        .collect();
    let outcome = a.outcome.as_ref().map(|o| OutcomeText {
        outcome: words::outcome(o.outcome),
        reason: o.reason.clone(),
        advice: o.advice.clone(),
        by: names.get(&o.decided_by).cloned().unwrap_or_default(),
        at: fmt::date_time(o.decided_at),
        ico_id: o.ico_id,
    });
    let page = ViewPage {
        l: Layout::for_staff(staff, "Aanmelding procesregie", "/aanmeldingen"),
        status: words::application_status(a.status),
        person,
        municipality: a
            .gemeentecode
            .as_ref()
            .map_or("—".into(), fmt::municipality),
        applicant: names.get(&a.applicant).cloned().unwrap_or_default(),
        submitted: a.submitted_at.map_or("—".into(), fmt::date_time),
        triage: a
            .triage_on
            .map(|d| (words::day(d), d.format("%Y-%m-%d").to_string())),
        criteria,
        informed: match (a.informed, &a.not_informed_why) {
            (Some(true), _) => "Ja".into(),
            (Some(false), Some(why)) => format!("Nee: {why}"),
            (Some(false), None) => "Nee".into(),
            (None, _) => "—".into(),
        },
        outcome,
        earlier: earlier_lines(&a),
        a,
    };
    Ok(page::render(&page))
}

/// The partner rows as posted (`partner_organisatie`, … repeated once per row), rows left empty
/// dropped. Shared by the application form and the ICO's partner form.
pub(super) fn parse_partners(f: &FormData) -> Vec<Partner> {
    let column = |name: &str| f.all(name).map(|v| v.trim().to_owned()).collect::<Vec<_>>();
    let (orgs, contacts, phones, emails) = (
        column("partner_organisatie"),
        column("partner_contactpersoon"),
        column("partner_telefoon"),
        column("partner_email"),
    );
    (0..orgs.len())
        .map(|i| Partner {
            organisation: orgs[i].clone(),
            contact: contacts.get(i).cloned().unwrap_or_default(),
            phone: phones.get(i).cloned().unwrap_or_default(),
            email: emails.get(i).cloned().unwrap_or_default(),
        })
        .filter(|p| {
            ![&p.organisation, &p.contact, &p.phone, &p.email]
                .iter()
                .all(|v| v.is_empty())
        })
        .collect()
}

/// The partner inputs of a form: the partners given with the error of each field
/// (`partners[i].organisation`, …), and two empty rows to add more (one when there are many).
pub(super) fn partner_rows(given: Vec<Partner>, errors: &FieldErrors) -> Vec<PartnerRow> {
    let mut rows = given;
    let blanks = if rows.len() < 3 { 2 } else { 1 };
    rows.extend(std::iter::repeat_n(Partner::default(), blanks));
    rows.into_iter()
        .enumerate()
        .map(|(i, p)| PartnerRow {
            i,
            fields: [
                (
                    "organisatie",
                    "partner_organisatie",
                    "Organisatie",
                    "text",
                    "organisation",
                    p.organisation,
                ),
                (
                    "contactpersoon",
                    "partner_contactpersoon",
                    "Contactpersoon",
                    "text",
                    "contact",
                    p.contact,
                ),
                (
                    "telefoon",
                    "partner_telefoon",
                    "Telefoon",
                    "tel",
                    "phone",
                    p.phone,
                ),
                (
                    "email",
                    "partner_email",
                    "E-mail",
                    "email",
                    "email",
                    p.email,
                ),
            ]
            .into_iter()
            .map(|(field, name, label, kind, contract, value)| PartnerField {
                field,
                name,
                label,
                kind,
                value,
                error: errors
                    .get(&format!("partners[{i}].{contract}"))
                    .map(str::to_owned),
            })
            .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_filled_form_keeps_what_was_typed_and_drops_empty_partner_rows() {
        let f = FormData::parse(
            "reden=Veel+zorgen&a=ja&a_toelichting=wonen&c=ja&partner_organisatie=GGZ&partner_contactpersoon=&partner_telefoon=&partner_email=x%40ggz.nl\
             &partner_organisatie=&partner_contactpersoon=&partner_telefoon=&partner_email=&geinformeerd=nee&actie=indienen"
                .as_bytes(),
        );
        let (form, errors) = parse(&f, None);
        assert!(errors.is_empty());
        assert_eq!(form.reason.as_deref(), Some("Veel zorgen"));
        assert!(form.criteria.a.met && !form.criteria.b.met && form.criteria.c.met);
        assert_eq!(form.partners.len(), 1);
        assert_eq!(form.partners[0].email, "x@ggz.nl");
        assert_eq!(form.informed, Some(false));
        assert!(form.submit);
    }

    #[test]
    fn a_bsn_failing_the_eleven_test_is_refused_beside_its_field() {
        let f = FormData::parse(b"achternaam=Jansen&bsn=111222334&gemeente=GM0392");
        let (form, errors) = parse(&f, None);
        assert!(errors.get("person.bsn").is_some());
        assert_eq!(form.person.map(|p| p.bsn), Some(None));
    }

    #[test]
    fn missing_fields_link_to_their_inputs() {
        assert_eq!(anchor("criteria.b.explanation"), "#f-b-toelichting");
        assert_eq!(anchor("partners[1].phone"), "#f-partner-1-telefoon");
        assert_eq!(anchor("criteria.a"), "#f-a");
        assert_eq!(anchor("informed"), "#f-geinformeerd-ja");
    }
}
