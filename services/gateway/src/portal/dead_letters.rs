//! The RCN's *Dode berichten* (`/dode-berichten`): what a service gave up on, per service, with
//! its age and the service's reason, never its content; one letter's page asks why before it
//! shows the content (which may hold personal data), and offers *Opnieuw aanbieden* (replay to
//! where it came from) and *Verwijderen*, each with a reason. The list below shows who settled
//! which letter, when and why.
//!
//! The dead-letter desk (the monitor's `rcn-dead-letters` service) does the work, checks the
//! role again and logs every look at a payload with who, role and why before answering; the
//! portal passes the person's signed identity and never reads the queue itself. A payload is
//! rendered only in the answer to the POST that gave the reason: never in a URL, a flash or a
//! log line.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rcn_contracts::dead_letters_api::{
    DeadLetterActReply, DeadLetterActRequest, DeadLetterAction, DeadLetterListReply,
    DeadLetterListRequest, DeadLetterShowReply, DeadLetterSummary, MAX_WHY,
};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::Role;

use crate::AppState;
use crate::portal::form::{self, FormData};
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::session::{self, Flash, Staff};
use crate::portal::{fmt, services};

const NAV: &str = "/dode-berichten";

/// A dead letter as the list shows it.
pub struct LetterRow {
    pub sequence: u64,
    pub service: String,
    pub since: String,
    pub age: String,
    pub error: String,
    pub deliveries: String,
    pub subject: String,
}

/// A settled letter: what, who, when, why.
pub struct SettledRow {
    pub sequence: u64,
    pub service: String,
    pub action: &'static str,
    pub by: String,
    pub at: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "portal/dead_letters.html")]
struct ListPage {
    l: Layout,
    letters: Vec<LetterRow>,
    settled: Vec<SettledRow>,
}

#[derive(Template)]
#[template(path = "portal/dead_letter.html")]
struct LetterPage {
    l: Layout,
    letter: LetterRow,
    /// The content, only in the answer to the POST that gave a reason.
    payload: Option<String>,
    why: String,
    max_why: usize,
}

fn require_rcn(staff: &Staff) -> Result<(), PortalError> {
    if staff.identity.role == Role::RcnCoordinator {
        Ok(())
    } else {
        Err(PortalError::Forbidden(
            "Alleen de RCN-coördinator werkt de dode berichten af.".into(),
        ))
    }
}

fn service_name(s: &str) -> String {
    match s {
        "intake" => "Ontvangst (intake)".into(),
        "router" => "Routering".into(),
        "casework" => "Casuswerk".into(),
        "procesregie" => "Procesregie".into(),
        "monitor" => "Monitor".into(),
        "" => "onbekend".into(),
        other => other.to_owned(),
    }
}

fn action_word(a: DeadLetterAction) -> &'static str {
    match a {
        DeadLetterAction::Replayed => "Opnieuw aangeboden",
        DeadLetterAction::Discarded => "Verwijderd",
        DeadLetterAction::Inspected => "Ingezien",
    }
}

/// How long ago, in words: `3 minuten`, `2 uur`, `5 dagen`.
fn age(since: chrono::DateTime<Utc>) -> String {
    let minutes = (Utc::now() - since).num_minutes().max(0);
    match minutes {
        0 => "minder dan een minuut".into(),
        1 => "1 minuut".into(),
        m if m < 60 => format!("{m} minuten"),
        m if m < 48 * 60 => format!("{} uur", m / 60),
        m => format!("{} dagen", m / (24 * 60)),
    }
}

fn row(l: DeadLetterSummary) -> LetterRow {
    LetterRow {
        sequence: l.sequence,
        service: service_name(&l.service),
        since: fmt::date_time(l.dead_lettered_at),
        age: age(l.dead_lettered_at),
        error: l.error,
        deliveries: l.deliveries,
        subject: l.original_subject,
    }
}

/// A refusal of the desk as the portal shows it.
fn refused(p: ApiProblem) -> PortalError {
    match p.status {
        404 => PortalError::NotFound,
        403 => {
            PortalError::Forbidden("Alleen de RCN-coördinator werkt de dode berichten af.".into())
        }
        _ => PortalError::BadRequest(
            "Het verzoek is niet compleet: geef een reden op (hoogstens 2000 tekens).".into(),
        ),
    }
}

async fn list_reply(state: &AppState, staff: &Staff) -> Result<DeadLetterListReply, PortalError> {
    services::endpoint(
        state,
        state.subjects.dead_letters_list(),
        &staff.identity,
        &DeadLetterListRequest::default(),
    )
    .await?
    .map_err(refused)
}

/// `GET /dode-berichten`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<Response, PortalError> {
    require_rcn(&staff)?;
    let reply = list_reply(&state, &staff).await?;
    let settled = reply
        .settled
        .into_iter()
        .map(|s| SettledRow {
            sequence: s.sequence,
            service: service_name(&s.service),
            action: action_word(s.action),
            by: s.by,
            at: fmt::date_time(s.at),
            why: s.why,
        })
        .collect();
    Ok(page::render(&ListPage {
        l: Layout::for_staff(&staff, "Dode berichten", NAV),
        letters: reply.waiting.into_iter().map(row).collect(),
        settled,
    }))
}

fn sequence(raw: &str) -> Result<u64, PortalError> {
    raw.parse().map_err(|_| PortalError::NotFound)
}

/// `GET /dode-berichten/{sequence}`: the letter without its content, and the forms.
pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(seq): Path<String>,
) -> Result<Response, PortalError> {
    require_rcn(&staff)?;
    let seq = sequence(&seq)?;
    // The list carries no payload: the letter's facts come from there.
    let reply = list_reply(&state, &staff).await?;
    let letter = reply
        .waiting
        .into_iter()
        .find(|l| l.sequence == seq)
        .ok_or(PortalError::NotFound)?;
    Ok(page::render(&LetterPage {
        l: Layout::for_staff(&staff, format!("Dood bericht {seq}"), NAV),
        letter: row(letter),
        payload: None,
        why: String::new(),
        max_why: MAX_WHY,
    }))
}

fn reason(form: &FormData) -> Option<String> {
    form.get("reden").map(str::to_owned)
}

/// `POST /dode-berichten/{sequence}/inzien`: the content, after the desk logged who asked why.
pub async fn inspect(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(seq): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    require_rcn(&staff)?;
    let seq = sequence(&seq)?;
    let Some(why) = reason(&form) else {
        session::set_flash(
            &state,
            &staff,
            Flash::error("Geef aan waarom u de inhoud wilt zien; dat wordt vastgelegd."),
        )
        .await?;
        return Ok(Redirect::to(&format!("/dode-berichten/{seq}")).into_response());
    };
    let shown: DeadLetterShowReply = services::endpoint(
        &state,
        state.subjects.dead_letters_show(),
        &staff.identity,
        &DeadLetterActRequest {
            sequence: seq,
            why: why.clone(),
        },
    )
    .await?
    .map_err(refused)?;
    let mut l = Layout::for_staff(&staff, format!("Dood bericht {seq}"), NAV);
    l.flash = Some(Flash::ok(
        "U ziet de inhoud; dat is vastgelegd met uw naam en reden.",
    ));
    let mut response = page::render(&LetterPage {
        l,
        letter: row(shown.letter),
        payload: Some(pretty(&shown.payload)),
        why,
        max_why: MAX_WHY,
    });
    // Personal data: not to be kept by the browser or anything in between.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// JSON indented for reading; anything else as it is.
fn pretty(payload: &str) -> String {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| payload.to_owned())
}

/// `POST /dode-berichten/{sequence}/opnieuw-aanbieden`.
pub async fn replay(
    state: State<Arc<AppState>>,
    staff: Staff,
    seq: Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    settle(state, staff, seq, body, DeadLetterAction::Replayed).await
}

/// `POST /dode-berichten/{sequence}/verwijderen`.
pub async fn discard(
    state: State<Arc<AppState>>,
    staff: Staff,
    seq: Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    settle(state, staff, seq, body, DeadLetterAction::Discarded).await
}

async fn settle(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(seq): Path<String>,
    body: Bytes,
    action: DeadLetterAction,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    require_rcn(&staff)?;
    let seq = sequence(&seq)?;
    let Some(why) = reason(&form) else {
        session::set_flash(
            &state,
            &staff,
            Flash::error("Geef een reden op; die wordt bij het bericht bewaard."),
        )
        .await?;
        return Ok(Redirect::to(&format!("/dode-berichten/{seq}")).into_response());
    };
    let subject = match action {
        DeadLetterAction::Replayed => state.subjects.dead_letters_replay(),
        _ => state.subjects.dead_letters_discard(),
    };
    let reply: Result<DeadLetterActReply, _> = services::endpoint(
        &state,
        subject,
        &staff.identity,
        &DeadLetterActRequest { sequence: seq, why },
    )
    .await?;
    let flash = match reply {
        Ok(_) if action == DeadLetterAction::Replayed => Flash::ok(format!(
            "Bericht {seq} is opnieuw aangeboden aan de dienst die het niet kon verwerken."
        )),
        Ok(_) => Flash::ok(format!("Bericht {seq} is verwijderd.")),
        Err(p) if p.status == 404 => Flash::error(format!(
            "Bericht {seq} staat niet (meer) in de wachtrij; misschien heeft een collega het al afgehandeld."
        )),
        Err(p) if p.status == 409 => Flash::error(format!(
            "Bericht {seq} zegt niet waar het vandaan kwam en kan niet opnieuw worden aangeboden."
        )),
        Err(p) => return Err(refused(p)),
    };
    session::set_flash(&state, &staff, flash).await?;
    Ok(Redirect::to(NAV).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_reads_in_dutch_units() {
        let now = Utc::now();
        assert_eq!(age(now), "minder dan een minuut");
        assert_eq!(age(now - chrono::Duration::minutes(5)), "5 minuten");
        assert_eq!(age(now - chrono::Duration::hours(3)), "3 uur");
        assert_eq!(age(now - chrono::Duration::days(4)), "4 dagen");
        assert_eq!(pretty("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty("{kapot"), "{kapot");
    }
}
