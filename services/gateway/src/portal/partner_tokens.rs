//! *Partnertoegang* (`/partnertoegang`), for the RCN coordinator and the administrator: the API
//! tokens of the detention institutions — list, issue, rotate (*Vernieuwen*) and revoke (*Sleutel
//! intrekken*) — through the gateway's own token library ([`crate::tokens`]), as `rcn tokens`
//! does.
//!
//! A new token is shown exactly once: in the page that answers the POST that made it (with
//! `Cache-Control: no-store`), never in a redirect, a flash, a URL or a log line; only its
//! SHA-256 is kept. Who issued, rotated or revoked which token, when and (when given) why is
//! recorded in the gateway's token log in the same transaction ([`tokens::log`]) and shown here
//! newest first, with the changes made on the command line (`rcn tokens`) as such.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rcn_contracts::identity::Role;
use uuid::Uuid;

use crate::AppState;
use crate::portal::form;
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::session::{self, Flash, Staff};
use crate::portal::{fmt, users};
use crate::tokens::{self, Actor, IssuedToken, LogEntry, TokenError, TokenState};

const NAV: &str = "/partnertoegang";

/// The most token-log entries the page shows.
const LOG_SHOWN: i64 = 200;

/// One change in the token log as the page shows it.
pub struct LogRow {
    pub at: String,
    pub who: String,
    pub action: String,
    pub institution: String,
    /// The first 8 hex digits of the token id: enough to tell the keys of one institution apart.
    pub token: String,
    pub why: String,
}

/// One token as the table shows it.
pub struct TokenRow {
    pub id: String,
    pub institution: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub state: String,
    pub active: bool,
}

/// The token just made, shown this once.
pub struct Secret {
    pub institution: String,
    pub token: String,
    pub rotated: bool,
}

#[derive(Template)]
#[template(path = "portal/partner_tokens.html")]
struct TokensPage {
    l: Layout,
    tokens: Vec<TokenRow>,
    secret: Option<Secret>,
    /// Who issued, rotated or revoked which key, newest first.
    log: Vec<LogRow>,
}

fn require_manager(staff: &Staff) -> Result<(), PortalError> {
    match staff.identity.role {
        Role::RcnCoordinator | Role::Administrator => Ok(()),
        _ => Err(PortalError::Forbidden(
            "Alleen de RCN-coördinator en de beheerder beheren de partnertoegang.".into(),
        )),
    }
}

/// The signed-in person, as the token log records them.
fn actor(staff: &Staff) -> Actor<'_> {
    Actor::Portal {
        user_id: &staff.identity.user_id,
        role: staff.identity.role,
    }
}

/// How a rotation's grace period reads.
fn grace_in_words(secs: Option<i64>) -> String {
    match secs.unwrap_or(0) {
        0 => "oude sleutel direct ingetrokken".to_owned(),
        3600 => "oude sleutel nog een uur geldig".to_owned(),
        86_400 => "oude sleutel nog een dag geldig".to_owned(),
        s if s % 86_400 == 0 => format!("oude sleutel nog {} dagen geldig", s / 86_400),
        s if s % 3600 == 0 => format!("oude sleutel nog {} uur geldig", s / 3600),
        s => format!("oude sleutel nog {} minuten geldig", (s + 59) / 60),
    }
}

fn short(id: Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}

/// The token log in words; `names` turns user ids into the names colleagues know.
fn log_rows(
    entries: Vec<LogEntry>,
    names: &std::collections::HashMap<String, String>,
) -> Vec<LogRow> {
    entries
        .into_iter()
        .map(|e| {
            let who = match (e.via.as_str(), &e.user_id) {
                ("portal", Some(id)) => {
                    let name = names.get(id).cloned().unwrap_or_else(|| id.clone());
                    match e.role.as_deref().and_then(Role::parse) {
                        Some(role) => format!("{name} ({})", fmt::role(role)),
                        None => name,
                    }
                }
                _ => "via de opdrachtregel".to_owned(),
            };
            let action = match (e.action.as_str(), e.successor_id) {
                ("issued", _) => "Uitgegeven".to_owned(),
                ("rotated", Some(next)) => format!(
                    "Vernieuwd: nieuwe sleutel {}, {}",
                    short(next),
                    grace_in_words(e.grace_secs)
                ),
                ("revoked", _) => "Ingetrokken".to_owned(),
                (other, _) => other.to_owned(),
            };
            LogRow {
                at: fmt::date_time(e.at),
                who,
                action,
                institution: e.institution_code,
                token: short(e.token_id),
                why: e.why.unwrap_or_else(|| "—".to_owned()),
            }
        })
        .collect()
}

fn token_error(e: TokenError) -> PortalError {
    match e {
        TokenError::Database(e) => e.into(),
        TokenError::NotFound(_) => PortalError::NotFound,
        other => PortalError::Internal(anyhow::Error::new(other)),
    }
}

async fn page_with(
    state: &AppState,
    staff: &Staff,
    secret: Option<Secret>,
) -> Result<Response, PortalError> {
    let now = Utc::now();
    let tokens = tokens::list(&state.pool)
        .await
        .map_err(token_error)?
        .into_iter()
        .map(|t| {
            let s = t.state(now);
            TokenRow {
                id: t.token_id.simple().to_string(),
                institution: t.institution_code,
                name: t.name.unwrap_or_default(),
                created: fmt::date_time(t.created_at),
                last_used: t
                    .last_used_at
                    .map_or_else(|| "nooit".to_owned(), fmt::date_time),
                state: match (s, t.revoked_at) {
                    (TokenState::Active, _) => "Geldig".to_owned(),
                    (TokenState::Expiring, Some(at)) => {
                        format!("Geldig tot {}", fmt::date_time(at))
                    }
                    (_, Some(at)) => format!("Ingetrokken op {}", fmt::date_time(at)),
                    (_, None) => "Ingetrokken".to_owned(),
                },
                active: s != TokenState::Revoked,
            }
        })
        .collect();
    let entries = tokens::log(&state.pool, LOG_SHOWN)
        .await
        .map_err(token_error)?;
    let mut people: Vec<String> = entries.iter().filter_map(|e| e.user_id.clone()).collect();
    people.sort();
    people.dedup();
    let names = users::display_names(&state.pool, &people).await?;
    let shown = secret.is_some();
    let mut response = page::render(&TokensPage {
        l: Layout::for_staff(staff, "Partnertoegang", NAV),
        tokens,
        secret,
        log: log_rows(entries, &names),
    });
    if shown {
        // The token is in this page: nothing may keep it.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// `GET /partnertoegang`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<Response, PortalError> {
    require_manager(&staff)?;
    page_with(&state, &staff, None).await
}

async fn back(state: &AppState, staff: &Staff, flash: Flash) -> Result<Response, PortalError> {
    session::set_flash(state, staff, flash).await?;
    Ok(Redirect::to(NAV).into_response())
}

fn shown_once(issued: IssuedToken, rotated: bool) -> Secret {
    Secret {
        institution: issued.institution_code,
        token: issued.token,
        rotated,
    }
}

/// `POST /partnertoegang/uitgeven`: a new token, shown in the answer.
pub async fn issue(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    require_manager(&staff)?;
    let Some(institution) = form.get("instelling").map(str::to_uppercase) else {
        return back(
            &state,
            &staff,
            Flash::error("Vul de code van de instelling in, bijvoorbeeld PI-HAARLEM."),
        )
        .await;
    };
    let name = form.get("naam");
    match tokens::issue(
        &state.pool,
        &institution,
        name,
        actor(&staff),
        form.get("reden"),
    )
    .await
    {
        Ok(issued) => {
            tracing::info!(user = %staff.identity.user_id, token_id = %issued.token_id, institution = %issued.institution_code, "partner token issued in the portal");
            let mut staff = staff;
            staff.flash = None;
            page_with(&state, &staff, Some(shown_once(issued, false))).await
        }
        Err(TokenError::InvalidInstitution(_)) => {
            back(&state, &staff, Flash::error(
                "Een instellingscode bestaat uit letters, cijfers, - en _ (bijvoorbeeld PI-HAARLEM).",
            ))
            .await
        }
        Err(TokenError::InvalidName) => {
            back(&state, &staff, Flash::error("Een naam heeft hoogstens 200 tekens.")).await
        }
        Err(TokenError::InvalidWhy) => back(&state, &staff, too_long_why()).await,
        Err(e) => Err(token_error(e)),
    }
}

fn too_long_why() -> Flash {
    Flash::error(format!(
        "Een reden heeft hoogstens {} tekens; er is niets gewijzigd.",
        tokens::MAX_WHY
    ))
}

fn token_id(raw: &str) -> Result<Uuid, PortalError> {
    Uuid::try_parse(raw).map_err(|_| PortalError::NotFound)
}

/// `POST /partnertoegang/{token_id}/vernieuwen`: a successor, shown in the answer; the old token
/// stays valid for the grace period chosen (none, an hour, a day).
pub async fn rotate(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    require_manager(&staff)?;
    let id = token_id(&id)?;
    let grace = match form.get("overgang") {
        Some("uur") => Duration::from_secs(3600),
        Some("dag") => Duration::from_secs(24 * 3600),
        _ => Duration::ZERO,
    };
    match tokens::rotate(&state.pool, id, grace, actor(&staff), form.get("reden")).await {
        Ok(issued) => {
            tracing::info!(user = %staff.identity.user_id, old_token_id = %id, token_id = %issued.token_id, grace_secs = grace.as_secs(), "partner token rotated in the portal");
            let mut staff = staff;
            staff.flash = None;
            page_with(&state, &staff, Some(shown_once(issued, true))).await
        }
        Err(TokenError::AlreadyRevoked(_)) => {
            back(
                &state,
                &staff,
                Flash::error("Deze sleutel is al ingetrokken en kan niet worden vernieuwd."),
            )
            .await
        }
        Err(TokenError::InvalidWhy) => back(&state, &staff, too_long_why()).await,
        Err(e) => Err(token_error(e)),
    }
}

/// `POST /partnertoegang/{token_id}/intrekken`: revoked now.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    require_manager(&staff)?;
    let id = token_id(&id)?;
    match tokens::revoke(&state.pool, id, actor(&staff), form.get("reden")).await {
        Ok(info) => {
            tracing::info!(user = %staff.identity.user_id, token_id = %id, "partner token revoked in the portal");
            back(
                &state,
                &staff,
                Flash::ok(format!(
                    "De sleutel van {} is ingetrokken; hij werkt vanaf nu niet meer.",
                    info.institution_code
                )),
            )
            .await
        }
        Err(TokenError::AlreadyRevoked(_)) => {
            back(
                &state,
                &staff,
                Flash::error("Deze sleutel was al ingetrokken."),
            )
            .await
        }
        Err(TokenError::InvalidWhy) => back(&state, &staff, too_long_why()).await,
        Err(e) => Err(token_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotations_grace_period_reads_as_staff_would_say_it() {
        assert_eq!(grace_in_words(Some(0)), "oude sleutel direct ingetrokken");
        assert_eq!(
            grace_in_words(Some(3600)),
            "oude sleutel nog een uur geldig"
        );
        assert_eq!(
            grace_in_words(Some(86_400)),
            "oude sleutel nog een dag geldig"
        );
        assert_eq!(
            grace_in_words(Some(7 * 86_400)),
            "oude sleutel nog 7 dagen geldig"
        );
        assert_eq!(
            grace_in_words(Some(90)),
            "oude sleutel nog 2 minuten geldig"
        );
    }

    #[test]
    fn the_log_names_the_person_or_the_command_line() {
        let entry = |via: &str, user: Option<&str>| LogEntry {
            at: Utc::now(),
            action: "revoked".into(),
            token_id: Uuid::nil(),
            institution_code: "PI-HAARLEM".into(),
            successor_id: None,
            grace_secs: None,
            via: via.into(),
            user_id: user.map(str::to_owned),
            role: user.map(|_| "rcn_coordinator".to_owned()),
            why: None,
        };
        let names = [("rita".to_owned(), "Rita Visser".to_owned())].into();
        let rows = log_rows(
            vec![entry("portal", Some("rita")), entry("command_line", None)],
            &names,
        );
        assert_eq!(rows[0].who, "Rita Visser (RCN-coördinator)");
        assert_eq!(rows[1].who, "via de opdrachtregel");
        assert_eq!(rows[0].action, "Ingetrokken");
        assert_eq!(rows[0].token, "00000000");
        assert_eq!(rows[0].why, "—");
    }
}
