//! *Partnertoegang* (`/partnertoegang`), for the RCN coordinator and the administrator: the API
//! tokens of the detention institutions — list, issue, rotate (*Vernieuwen*) and revoke (*Sleutel
//! intrekken*) — through the gateway's own token library ([`crate::tokens`]), as `rcn tokens`
//! does.
//!
//! A new token is shown exactly once: in the page that answers the POST that made it (with
//! `Cache-Control: no-store`), never in a redirect, a flash, a URL or a log line; only its
//! SHA-256 is kept. Who issued, rotated or revoked which token id is logged (never the token).

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
use crate::portal::fmt;
use crate::portal::form;
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::session::{self, Flash, Staff};
use crate::tokens::{self, IssuedToken, TokenError, TokenState};

const NAV: &str = "/partnertoegang";

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
}

fn require_manager(staff: &Staff) -> Result<(), PortalError> {
    match staff.identity.role {
        Role::RcnCoordinator | Role::Administrator => Ok(()),
        _ => Err(PortalError::Forbidden(
            "Alleen de RCN-coördinator en de beheerder beheren de partnertoegang.".into(),
        )),
    }
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
    let shown = secret.is_some();
    let mut response = page::render(&TokensPage {
        l: Layout::for_staff(staff, "Partnertoegang", NAV),
        tokens,
        secret,
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
    match tokens::issue(&state.pool, &institution, name).await {
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
        Err(e) => Err(token_error(e)),
    }
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
    match tokens::rotate(&state.pool, id, grace).await {
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
    form::checked(&staff, &body)?;
    require_manager(&staff)?;
    let id = token_id(&id)?;
    match tokens::revoke(&state.pool, id).await {
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
        Err(e) => Err(token_error(e)),
    }
}
