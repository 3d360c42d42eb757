//! Signing in through the organisation's identity provider (OpenID Connect, [`super::oidc`]):
//! `/inloggen/oidc` starts the sign-in and sends the browser to the provider, `/oidc/callback`
//! finishes it there and starts the portal session ([`session::start`]), with the provider's
//! end-session address so signing out ends the session at the provider too.
//!
//! The sign-in's state, nonce and PKCE verifier stay server-side (`gateway.portal_oidc_logins`);
//! the browser holds a random key in a cookie scoped to `/oidc`, of which only the SHA-256 is
//! stored. A callback takes its record once: a replayed or forged callback finds nothing.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::portal::login::login_page;
use crate::portal::oidc::{CallbackQuery, OidcError, PendingLogin};
use crate::portal::page::PortalError;
use crate::portal::session::{self, IdpLogout};

/// The cookie that ties the callback to the browser that started the sign-in.
const LOGIN_COOKIE: &str = "rcn_oidc";
/// Pending sign-ins older than this are removed (the module refuses them after 10 minutes).
const FORGET_AFTER_SECS: f64 = 3600.0;

/// `GET /inloggen/oidc`: to the identity provider.
pub async fn begin(State(state): State<Arc<AppState>>) -> Result<Response, PortalError> {
    let Some(oidc) = state.oidc.clone() else {
        return Err(PortalError::NotFound);
    };
    let (url, pending) = match oidc.begin().await {
        Ok(started) => started,
        Err(e) => return Ok(refused(&state, &e)),
    };
    let key = session::random_hex();
    let pending = serde_json::to_value(&pending).map_err(|e| PortalError::Internal(e.into()))?;
    sqlx::query!(
        "DELETE FROM portal_oidc_logins WHERE created_at < now() - make_interval(secs => $1)",
        FORGET_AFTER_SECS,
    )
    .execute(&state.pool)
    .await?;
    let login_hash = session::hash(&key);
    sqlx::query!(
        "INSERT INTO portal_oidc_logins (login_hash, pending) VALUES ($1, $2)",
        login_hash.as_slice(),
        pending,
    )
    .execute(&state.pool)
    .await?;
    let mut response = Redirect::to(url.as_str()).into_response();
    // Lax, not Strict: the provider's redirect back is a top-level navigation from its site.
    let secure = if state.portal.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{LOGIN_COOKIE}={key}; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=600{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `GET /oidc/callback`: the provider's answer; a session, or a page saying why not.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, PortalError> {
    let Some(oidc) = state.oidc.clone() else {
        return Err(PortalError::NotFound);
    };
    let pending = match login_cookie(&headers) {
        Some(key) => take_pending(&state, &key).await?,
        None => None,
    };
    let Some(pending) = pending else {
        tracing::warn!("an OpenID Connect callback without a sign-in this browser started");
        return Ok(login_page(
            &state,
            StatusCode::BAD_REQUEST,
            String::new(),
            Some(
                "Deze aanmelding hoort niet bij een inlogpoging in deze browser, of is al \
                 gebruikt. Log opnieuw in."
                    .into(),
            ),
            None,
        ));
    };
    let signed_in = match oidc.finish(&pending, &query).await {
        Ok(s) => s,
        Err(e) => return Ok(refused(&state, &e)),
    };
    let back = format!(
        "{}/inloggen?afgemeld=1",
        state.portal.public_url.trim_end_matches('/')
    );
    let logout = match oidc.end_session_url(Some(&signed_in.id_token), &back).await {
        Ok(url) => url.map(|u| IdpLogout {
            end_session_url: u.to_string(),
        }),
        Err(e) => {
            tracing::warn!(error = %e.kind(), "no end-session address: sign-out will end only rcn's session");
            None
        }
    };
    let person = signed_in.person;
    match session::start(&state, person.identity, person.display_name, logout).await {
        Ok(cookie) => {
            let mut response = (cookie, Redirect::to("/")).into_response();
            // Appended, not inserted: the session cookie is a Set-Cookie header too.
            if let Ok(v) = HeaderValue::from_str(&clear_login_cookie(&state)) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(response)
        }
        Err(session::SessionError::Disabled) => Err(PortalError::Forbidden(
            "Uw account is bij rcn uitgeschakeld. Neem contact op met de beheerder.".into(),
        )),
        Err(session::SessionError::InvalidIdentity(reason)) => {
            tracing::warn!(%reason, "an identity from the provider does not hold together");
            Err(PortalError::Forbidden(
                "Uw gegevens bij uw organisatie zijn niet compleet genoeg om rcn te gebruiken."
                    .into(),
            ))
        }
        Err(session::SessionError::Database(e)) => Err(e.into()),
    }
}

/// The page for a sign-in that did not succeed: "no access" (a role or municipality rcn does
/// not know) as a 403 page, anything else on the sign-in page, in Dutch either way.
fn refused(state: &AppState, e: &OidcError) -> Response {
    tracing::warn!(
        kind = e.kind(),
        "sign-in through the identity provider refused"
    );
    if e.is_no_access() {
        return PortalError::Forbidden(e.message_nl()).into_response();
    }
    login_page(
        state,
        StatusCode::BAD_GATEWAY,
        String::new(),
        Some(e.message_nl()),
        None,
    )
}

/// Takes (and deletes) the pending sign-in of `key`: once only.
async fn take_pending(state: &AppState, key: &str) -> Result<Option<PendingLogin>, PortalError> {
    let login_hash = session::hash(key);
    let row: Option<serde_json::Value> = sqlx::query_scalar!(
        "DELETE FROM portal_oidc_logins WHERE login_hash = $1 RETURNING pending",
        login_hash.as_slice(),
    )
    .fetch_optional(&state.pool)
    .await?;
    Ok(row.and_then(|v| serde_json::from_value(v).ok()))
}

fn login_cookie(headers: &HeaderMap) -> Option<String> {
    session::key_cookie(headers, &[LOGIN_COOKIE])
}

/// The `Set-Cookie` value that removes the sign-in's key from the browser.
fn clear_login_cookie(state: &AppState) -> String {
    let secure = if state.portal.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{LOGIN_COOKIE}=; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}
