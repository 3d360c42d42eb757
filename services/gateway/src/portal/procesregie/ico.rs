//! The ICO page (`/icos/{ico_id}`): the individueel casusoverleg with its procesregisseur,
//! casusregisseur, partners and goal; the *plan van aanpak* (actions with owner, due date, status
//! and history); the reviews with the next review date; and closing it with a reason. And the
//! list (`/icos`): a procesregisseur's own (*Mijn ICO's*), or every ICO the person may see.
//!
//! Procesregie lets everyone who may see the ICO read it and only a procesregisseur change it;
//! the page leaves out the forms for everyone else. A refused form comes back with the Dutch
//! error beside its field and what was typed.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use rcn_contracts::identity::Role;
use rcn_contracts::procesregie_api::{
    ActionRequest, ActionStatus, Casusregisseur, CloseIcoRequest, IcoCloseReason, IcoList,
    IcoQuery, IcoRef, IcoStatus, IcoUpdate, IcoView, MAX_SHORT, MAX_TEXT, ReviewRequest,
};
use uuid::Uuid;

use super::application::{PartnerRow, parse_partners, partner_rows};
use super::{Echo, FieldErrors, call, names, refusal, words};
use crate::AppState;
use crate::portal::fmt;
use crate::portal::form::{self, FormData};
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::reasons::Page;
use crate::portal::session::{self, Flash, Staff};

pub struct ActionRow {
    pub id: Uuid,
    pub owner: String,
    pub description: String,
    pub due: String,
    pub due_iso: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub overdue: bool,
    pub history: Vec<String>,
}

pub struct ReviewRow {
    pub held: String,
    pub notes: String,
    pub next: String,
    pub by: String,
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// An input of the casusregisseur form.
pub struct CrField {
    pub id: &'static str,
    pub name: &'static str,
    pub label: &'static str,
    /// The contract's field, for its error.
    pub field: &'static str,
    pub value: String,
    pub kind: &'static str,
}

#[derive(Template)]
#[template(path = "portal/procesregie/ico.html")]
struct IcoPage {
    l: Layout,
    ico: IcoView,
    person: String,
    municipality: String,
    status: &'static str,
    regisseur: String,
    opened: String,
    closed: Option<String>,
    next_review: String,
    actions: Vec<ActionRow>,
    reviews: Vec<ReviewRow>,
    /// Whether the forms are shown: a procesregisseur, and the ICO open.
    may_change: bool,
    statuses: Vec<Choice>,
    close_reasons: Vec<Choice>,
    cr_fields: Vec<CrField>,
    /// The inputs of the partner form: what was typed when it was refused, else the partners.
    partners: Vec<PartnerRow>,
    /// The form that was refused (`casusregisseur`, `partners`, `actie`, `evaluatie`, `sluiten`), its errors
    /// and what was typed.
    refused: String,
    errors: FieldErrors,
    echo: Echo,
}

#[derive(Template)]
#[template(path = "portal/procesregie/icos.html")]
struct ListPage {
    l: Layout,
    heading: String,
    mine: bool,
    regisseur: bool,
    rows: Vec<ListRow>,
}

pub struct ListRow {
    pub id: Uuid,
    pub who: String,
    pub municipality: String,
    pub status: &'static str,
    pub regisseur: String,
    pub overdue: u32,
    pub next_review: String,
    pub opened: String,
}

fn ico_href(id: Uuid) -> String {
    format!("/icos/{id}")
}

/// `GET /icos[?alle=1]`: a procesregisseur's own ICOs (or all), everyone else's visible ones.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, PortalError> {
    let q = FormData::parse(raw.unwrap_or_default().as_bytes());
    let regisseur = staff.identity.role == Role::Procesregisseur;
    let mine = regisseur && q.get("alle").is_none();
    let reply: IcoList = call(
        &state,
        "ico_list",
        &staff.identity,
        &IcoQuery {
            mine,
            status: None,
            why: Page::Icos.why(),
        },
    )
    .await?
    .map_err(|p| refusal(&p).err().unwrap_or(PortalError::NotFound))?;
    let names = names(&state, reply.icos.iter().map(|i| i.procesregisseur.clone())).await?;
    let rows = reply
        .icos
        .into_iter()
        .map(|i| ListRow {
            id: i.ico_id,
            who: i.family_name.clone().unwrap_or_else(|| "Casus".into()),
            municipality: i
                .gemeentecode
                .as_ref()
                .map_or("—".into(), fmt::municipality),
            status: words::ico_status(i.status),
            regisseur: names.get(&i.procesregisseur).cloned().unwrap_or_default(),
            overdue: i.overdue_actions,
            next_review: fmt::opt_date(i.next_review_on),
            opened: fmt::date(i.opened_at.date_naive()),
        })
        .collect();
    let heading = if mine { "Mijn ICO's" } else { "ICO's" };
    Ok(page::render(&ListPage {
        l: Layout::for_staff(&staff, heading, "/icos"),
        heading: heading.into(),
        mine,
        regisseur,
        rows,
    }))
}

/// `GET /icos/{ico_id}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id = Uuid::parse_str(&id).map_err(|_| PortalError::NotFound)?;
    let ico = get(&state, &staff, id).await?;
    render(
        &state,
        &staff,
        ico,
        "",
        FieldErrors::default(),
        Echo::default(),
    )
    .await
}

async fn get(state: &AppState, staff: &Staff, id: Uuid) -> Result<IcoView, PortalError> {
    let request = IcoRef {
        ico_id: id,
        why: Page::Ico.why(),
    };
    call::<IcoView>(state, "ico_get", &staff.identity, &request)
        .await?
        .map_err(|p| refusal(&p).err().unwrap_or(PortalError::NotFound))
}

async fn render(
    state: &AppState,
    staff: &Staff,
    ico: IcoView,
    refused: &str,
    errors: FieldErrors,
    echo: Echo,
) -> Result<Response, PortalError> {
    let mut ids = vec![ico.procesregisseur.clone()];
    ids.extend(ico.reviews.iter().map(|r| r.recorded_by.clone()));
    ids.extend(
        ico.actions
            .iter()
            .flat_map(|a| a.history.iter().map(|h| h.by.clone())),
    );
    let names = names(state, ids).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let today = fmt::today();
    let open = ico.status == IcoStatus::Open;
    let actions = ico
        .actions
        .iter()
        .map(|a| ActionRow {
            id: a.action_id,
            owner: a.owner_organisation.clone(),
            description: a.description.clone(),
            due: fmt::date(a.due_on),
            due_iso: a.due_on.to_string(),
            status: words::action_status(a.status),
            status_code: a.status.as_str(),
            overdue: open
                && matches!(a.status, ActionStatus::Open | ActionStatus::InProgress)
                && a.due_on < today,
            history: a
                .history
                .iter()
                .rev()
                .map(|h| {
                    format!(
                        "{} · {} · {} · {}, uiterlijk {}: {}",
                        fmt::date_time(h.at),
                        name(&h.by),
                        words::action_status(h.status),
                        h.owner_organisation,
                        fmt::date(h.due_on),
                        h.description
                    )
                })
                .collect(),
        })
        .collect();
    let reviews = ico
        .reviews
        .iter()
        .map(|r| ReviewRow {
            held: fmt::date(r.held_on),
            notes: r.notes.clone(),
            next: fmt::opt_date(r.next_review_on),
            by: name(&r.recorded_by),
        })
        .collect();
    let person = match &ico.person {
        Some(p) => [p.given_names.as_deref(), Some(p.family_name.as_str())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        None => match ico.case_id {
            Some(c) => super::case_person(state, &staff.identity, c, Page::Ico)
                .await?
                .unwrap_or_else(|| "van een casus".into()),
            None => "—".into(),
        },
    };
    let page = IcoPage {
        l: Layout::for_staff(staff, format!("ICO {person}"), "/icos"),
        person,
        municipality: ico
            .gemeentecode
            .as_ref()
            .map_or("—".into(), fmt::municipality),
        status: words::ico_status(ico.status),
        regisseur: name(&ico.procesregisseur),
        opened: fmt::date_time(ico.opened_at),
        closed: ico.closed_at.map(|at| {
            let reason = ico.close_reason.map_or("", words::close_reason);
            format!("{} ({reason})", fmt::date_time(at))
        }),
        next_review: fmt::opt_date(ico.next_review_on),
        actions,
        reviews,
        may_change: open && staff.identity.role == Role::Procesregisseur,
        statuses: words::ACTION_STATUSES
            .iter()
            .map(|s| Choice {
                value: s.as_str(),
                label: words::action_status(*s),
            })
            .collect(),
        close_reasons: words::CLOSE_REASONS
            .iter()
            .map(|r| Choice {
                value: r.as_str(),
                label: words::close_reason(*r),
            })
            .collect(),
        cr_fields: {
            let c = ico.casusregisseur.as_ref();
            let v = |f: fn(&Casusregisseur) -> &str| c.map(f).unwrap_or("").to_owned();
            vec![
                CrField {
                    id: "cr-naam",
                    name: "naam",
                    label: "Naam van de casusregisseur",
                    field: "casusregisseur.name",
                    value: v(|c| &c.name),
                    kind: "text",
                },
                CrField {
                    id: "cr-organisatie",
                    name: "organisatie",
                    label: "Organisatie",
                    field: "casusregisseur.organisation",
                    value: v(|c| &c.organisation),
                    kind: "text",
                },
                CrField {
                    id: "cr-telefoon",
                    name: "telefoon",
                    label: "Telefoon",
                    field: "casusregisseur.phone",
                    value: v(|c| &c.phone),
                    kind: "tel",
                },
                CrField {
                    id: "cr-email",
                    name: "email",
                    label: "E-mail",
                    field: "casusregisseur.email",
                    value: v(|c| &c.email),
                    kind: "email",
                },
            ]
        },
        partners: if refused == "partners" {
            partner_rows(echo.partners().unwrap_or_default().to_vec(), &errors)
        } else {
            partner_rows(ico.partners.clone(), &FieldErrors::default())
        },
        refused: refused.to_owned(),
        errors,
        echo,
        ico,
    };
    Ok(page::render(&page))
}

/// What every change form shares: the CSRF check, the ICO, and where to go afterwards.
struct Change {
    ico: IcoView,
    form: FormData,
}

async fn begin(
    state: &AppState,
    staff: &Staff,
    id: &str,
    body: &[u8],
) -> Result<Change, PortalError> {
    let form = form::checked(staff, body)?;
    let id = Uuid::parse_str(id).map_err(|_| PortalError::NotFound)?;
    let ico = get(state, staff, id).await?;
    Ok(Change { ico, form })
}

/// Asks procesregie for the change; on success back to the ICO with `done`, on a refusal of a
/// field the page again with the error beside it.
async fn finish<Req: serde::Serialize>(
    state: &AppState,
    staff: &Staff,
    change: Change,
    verb: &str,
    request: &Req,
    (which, echo): (&str, Echo),
    done: String,
) -> Result<Response, PortalError> {
    let id = change.ico.ico_id;
    let flash = match call::<IcoView>(state, verb, &staff.identity, request).await? {
        Ok(_) => Flash::ok(done),
        Err(p) if p.status == 400 => {
            let errors = FieldErrors::from_problem(&p);
            return render(state, staff, change.ico, which, errors, echo).await;
        }
        Err(p) => Flash::error(refusal(&p)?),
    };
    session::set_flash(state, staff, flash).await?;
    Ok(Redirect::to(&ico_href(id)).into_response())
}

fn date(
    f: &FormData,
    name: &str,
    field: &str,
    errors: &mut FieldErrors,
    required: bool,
) -> Option<NaiveDate> {
    match f.get(name).map(|d| d.parse::<NaiveDate>()) {
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            errors.add(field, "Vul een geldige datum in, bijvoorbeeld 2026-12-20.");
            None
        }
        None => {
            if required {
                errors.add(field, "Vul een datum in.");
            }
            None
        }
    }
}

fn text(
    f: &FormData,
    name: &str,
    field: &str,
    max: usize,
    errors: &mut FieldErrors,
    what: &str,
) -> Option<String> {
    match f.get(name) {
        None => {
            errors.add(field, format!("Vul {what} in."));
            None
        }
        Some(v) if v.chars().count() > max => {
            errors.add(
                field,
                format!("Deze tekst is te lang: ten hoogste {max} tekens."),
            );
            None
        }
        Some(v) => Some(v.to_owned()),
    }
}

/// `POST /icos/{ico_id}/acties`: adds an action to the plan van aanpak, or changes one
/// (`actie` names it).
pub async fn action(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let change = begin(&state, &staff, &id, &body).await?;
    let f = &change.form;
    let action_id = match f.get("actie") {
        Some(a) => Some(Uuid::parse_str(a).map_err(|_| {
            PortalError::BadRequest("Het formulier noemt geen geldige actie.".into())
        })?),
        None => None,
    };
    let which = action_id.map_or_else(|| "actie".to_owned(), |a| format!("actie-{a}"));
    let echo = Echo::of(f, &["organisatie", "omschrijving", "deadline", "status"]);
    let mut errors = FieldErrors::default();
    let owner = text(
        f,
        "organisatie",
        "owner_organisation",
        MAX_SHORT,
        &mut errors,
        "de organisatie die de actie uitvoert",
    );
    let description = text(
        f,
        "omschrijving",
        "description",
        MAX_TEXT,
        &mut errors,
        "wat er moet gebeuren",
    );
    let due_on = date(f, "deadline", "due_on", &mut errors, true);
    let status = f.get("status").and_then(ActionStatus::parse);
    if status.is_none() {
        errors.add("status", "Kies een status.");
    }
    let (Some(owner), Some(description), Some(due_on), Some(status), true) =
        (owner, description, due_on, status, errors.is_empty())
    else {
        return render(&state, &staff, change.ico, &which, errors, echo).await;
    };
    let done = if action_id.is_some() {
        format!(
            "De actie is bijgewerkt: {}.",
            words::action_status(status).to_lowercase()
        )
    } else {
        format!("De actie is toegevoegd aan het plan van aanpak ({owner}).")
    };
    let request = ActionRequest {
        ico_id: change.ico.ico_id,
        action_id,
        owner_organisation: owner,
        description,
        due_on,
        status,
    };
    finish(
        &state,
        &staff,
        change,
        "ico_action",
        &request,
        (&which, echo),
        done,
    )
    .await
}

/// `POST /icos/{ico_id}/evaluaties`: records a review.
pub async fn review(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let change = begin(&state, &staff, &id, &body).await?;
    let f = &change.form;
    let echo = Echo::of(f, &["datum", "verslag", "volgende"]);
    let mut errors = FieldErrors::default();
    let held_on = date(f, "datum", "held_on", &mut errors, true);
    let notes = text(
        f,
        "verslag",
        "notes",
        MAX_TEXT,
        &mut errors,
        "wat er is besproken",
    );
    let next = date(f, "volgende", "next_review_on", &mut errors, false);
    if let (Some(h), Some(n)) = (held_on, next)
        && n <= h
    {
        errors.add(
            "next_review_on",
            "De volgende evaluatie ligt na deze evaluatie.",
        );
    }
    let (Some(held_on), Some(notes), true) = (held_on, notes, errors.is_empty()) else {
        return render(&state, &staff, change.ico, "evaluatie", errors, echo).await;
    };
    let request = ReviewRequest {
        ico_id: change.ico.ico_id,
        held_on,
        notes,
        next_review_on: next,
    };
    let done = match next {
        Some(n) => format!(
            "De evaluatie is vastgelegd. De volgende evaluatie is op {}.",
            fmt::date(n)
        ),
        None => "De evaluatie is vastgelegd.".to_owned(),
    };
    finish(
        &state,
        &staff,
        change,
        "ico_review",
        &request,
        ("evaluatie", echo),
        done,
    )
    .await
}

/// `POST /icos/{ico_id}/casusregisseur`: names the casusregisseur (and changes the goal).
pub async fn casusregisseur(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let change = begin(&state, &staff, &id, &body).await?;
    let f = &change.form;
    let echo = Echo::of(f, &["naam", "organisatie", "telefoon", "email", "doel"]);
    let mut errors = FieldErrors::default();
    let name = text(
        f,
        "naam",
        "casusregisseur.name",
        MAX_SHORT,
        &mut errors,
        "de naam van de casusregisseur",
    );
    let organisation = text(
        f,
        "organisatie",
        "casusregisseur.organisation",
        MAX_SHORT,
        &mut errors,
        "de organisatie van de casusregisseur",
    );
    let goal = text(
        f,
        "doel",
        "goal",
        MAX_TEXT,
        &mut errors,
        "het doel van de ICO",
    );
    let email = f.get("email").unwrap_or("").to_owned();
    if !email.is_empty() && !email.contains('@') {
        errors.add(
            "casusregisseur.email",
            "Dit is geen e-mailadres. Vul een adres in als naam@organisatie.nl.",
        );
    }
    let (Some(name), Some(organisation), Some(goal), true) =
        (name, organisation, goal, errors.is_empty())
    else {
        return render(&state, &staff, change.ico, "casusregisseur", errors, echo).await;
    };
    let request = IcoUpdate {
        ico_id: change.ico.ico_id,
        casusregisseur: Some(Casusregisseur {
            name: name.clone(),
            organisation,
            phone: f.get("telefoon").unwrap_or("").to_owned(),
            email,
        }),
        partners: None,
        goal: Some(goal),
    };
    let done = format!("{name} is de casusregisseur van deze ICO.");
    finish(
        &state,
        &staff,
        change,
        "ico_update",
        &request,
        ("casusregisseur", echo),
        done,
    )
    .await
}

/// `POST /icos/{ico_id}/partners`: replaces the list of partners around the ICO (a row left
/// empty is dropped; at least one stays).
pub async fn partners(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let change = begin(&state, &staff, &id, &body).await?;
    let partners = parse_partners(&change.form);
    let mut errors = FieldErrors::default();
    if partners.is_empty() {
        errors.add("partners", "Noem ten minste één partner van het overleg.");
    }
    for (i, p) in partners.iter().enumerate() {
        if p.organisation.is_empty() {
            errors.add(
                format!("partners[{i}].organisation"),
                "Vul de organisatie van deze partner in.",
            );
        }
    }
    let echo = Echo::of_partners(partners.clone());
    if !errors.is_empty() {
        return render(&state, &staff, change.ico, "partners", errors, echo).await;
    }
    let done = match partners.len() {
        1 => "De partners zijn opgeslagen: 1 partner.".to_owned(),
        n => format!("De partners zijn opgeslagen: {n} partners."),
    };
    let request = IcoUpdate {
        ico_id: change.ico.ico_id,
        casusregisseur: None,
        partners: Some(partners),
        goal: None,
    };
    finish(
        &state,
        &staff,
        change,
        "ico_update",
        &request,
        ("partners", echo),
        done,
    )
    .await
}

/// `POST /icos/{ico_id}/sluiten`: closes the ICO with a reason.
pub async fn close(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let change = begin(&state, &staff, &id, &body).await?;
    let f = &change.form;
    let echo = Echo::of(f, &["reden", "toelichting"]);
    let mut errors = FieldErrors::default();
    let reason = f.get("reden").and_then(IcoCloseReason::parse);
    if reason.is_none() {
        errors.add("reason", "Kies de reden waarom de ICO sluit.");
    }
    let note = f.get("toelichting").map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_TEXT) {
        errors.add(
            "note",
            format!("Deze tekst is te lang: ten hoogste {MAX_TEXT} tekens."),
        );
    }
    let (Some(reason), true) = (reason, errors.is_empty()) else {
        return render(&state, &staff, change.ico, "sluiten", errors, echo).await;
    };
    let request = CloseIcoRequest {
        ico_id: change.ico.ico_id,
        reason,
        note,
    };
    let done = format!(
        "De ICO is gesloten: {}.",
        words::close_reason(reason).to_lowercase()
    );
    finish(
        &state,
        &staff,
        change,
        "ico_close",
        &request,
        ("sluiten", echo),
        done,
    )
    .await
}
