//! Signing in with a built-in account (`/inloggen`), signing out (`/uitloggen`), and the start
//! page (`/`), which sends each person to the pages of their role.
//!
//! The login form is protected against cross-site posting by a double-submit token (a cookie and
//! a form field that must match), since there is no session yet; failed logins count towards the
//! same per-address limit as the partner API's (`auth_limit`). A wrong name and a wrong password
//! get the same answer. A password is never logged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rcn_contracts::identity::Role;

use crate::AppState;
use crate::auth_limit::{AuthLimiter, Key};
use crate::portal::form::FormData;
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::session::{self, Staff};

/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "rcn_inlog";

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    l: Layout,
    builtin: bool,
    /// Whether staff may sign in through their organisation's identity provider.
    oidc: bool,
    token: String,
    user_id: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "portal/start.html")]
struct StartPage {
    l: Layout,
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    verlopen: Option<String>,
    afgemeld: Option<String>,
}

/// `GET /`: the pages of the person's role, or the sign-in page.
pub async fn start(staff: Staff) -> Response {
    match staff.identity.role {
        Role::MunicipalStaff => Redirect::to("/taken").into_response(),
        Role::RcnCoordinator => Redirect::to("/taken/gemeente").into_response(),
        // The procesregisseur's week turns around the triage.
        Role::Procesregisseur => Redirect::to("/triage").into_response(),
        Role::PrivacyOfficer => Redirect::to("/privacy").into_response(),
        Role::Administrator => page::render(&StartPage {
            l: Layout::for_staff(&staff, "Start", "/"),
        }),
    }
}

/// `GET /inloggen`.
pub async fn form(State(state): State<Arc<AppState>>, Query(q): Query<LoginQuery>) -> Response {
    let notice = if q.verlopen.is_some() {
        Some("Uw sessie is verlopen. Log opnieuw in.")
    } else if q.afgemeld.is_some() {
        Some("U bent uitgelogd.")
    } else {
        None
    };
    login_page(&state, StatusCode::OK, String::new(), None, notice)
}

pub(crate) fn login_page(
    state: &AppState,
    status: StatusCode,
    user_id: String,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Response {
    let token = session::random_hex();
    let mut response = page::render(&LoginPage {
        l: Layout::public("Inloggen"),
        builtin: state.portal.builtin_accounts,
        oidc: state.oidc.is_some(),
        token: token.clone(),
        user_id,
        error,
        notice,
    });
    *response.status_mut() = status;
    let secure = if state.portal.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; Path=/inloggen; HttpOnly; SameSite=Strict{secure}"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn login_cookie(headers: &HeaderMap) -> Option<String> {
    session::key_cookie(headers, &[LOGIN_COOKIE])
}

/// `POST /inloggen`.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PortalError> {
    if !state.portal.builtin_accounts {
        return Err(PortalError::NotFound);
    }
    let form = FormData::parse(&body);
    let token_ok = match (login_cookie(&headers), form.get("csrf")) {
        (Some(cookie), Some(field)) => {
            cookie.len() == 64
                && bool::from(subtle::ConstantTimeEq::ct_eq(
                    cookie.as_bytes(),
                    field.as_bytes(),
                ))
        }
        _ => false,
    };
    if !token_ok {
        return Err(PortalError::Csrf);
    }
    let user_id = form.get("gebruikersnaam").unwrap_or_default().to_owned();
    let password = form.get("wachtwoord").unwrap_or_default();
    let ip = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let limiter = extensions.get::<Arc<AuthLimiter>>().cloned();
    if let (Some(limiter), Some(ip)) = (&limiter, ip)
        && let Some(wait) = limiter.blocked(Key::Address(ip), Instant::now())
    {
        tracing::warn!(client = %ip, "portal sign-in refused: too many recent failures");
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return Ok(login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            user_id,
            Some(format!(
                "Er is te vaak geprobeerd in te loggen vanaf dit adres. Probeer het over {minutes} \
                 minuten opnieuw."
            )),
            None,
        ));
    }
    let verified = if user_id.is_empty() || password.is_empty() {
        None
    } else {
        crate::portal::users::verify(&state.pool, &user_id, password).await?
    };
    let Some((identity, display_name)) = verified else {
        let failures = match (&limiter, ip) {
            (Some(l), Some(ip)) => Some(l.record_failure(Key::Address(ip), Instant::now())),
            _ => None,
        };
        tracing::warn!(
            client = ip.map(|ip| ip.to_string()).as_deref().unwrap_or("unknown"),
            failures_from_client = failures,
            "portal sign-in failed"
        );
        return Ok(login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            user_id,
            Some("De gebruikersnaam of het wachtwoord klopt niet.".into()),
            None,
        ));
    };
    match session::start(&state, identity, display_name, None).await {
        Ok(cookie) => Ok((cookie, Redirect::to("/")).into_response()),
        Err(session::SessionError::Disabled) => Ok(login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            user_id,
            Some("De gebruikersnaam of het wachtwoord klopt niet.".into()),
            None,
        )),
        Err(session::SessionError::Database(e)) => Err(e.into()),
        Err(e) => Err(PortalError::Internal(anyhow::Error::new(e))),
    }
}

/// `POST /uitloggen`: ends the session, and at the identity provider when it came from one.
pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    crate::portal::form::checked(&staff, &body)?;
    let (cookie, idp) = session::end(&state, &staff).await?;
    let to = idp.map_or_else(|| "/inloggen?afgemeld=1".to_owned(), |l| l.end_session_url);
    Ok((cookie, Redirect::to(&to)).into_response())
}
