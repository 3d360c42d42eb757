//! Server-side sessions of the staff portal, in PostgreSQL (`gateway.portal_sessions`).
//!
//! A session id is 256 random bits, given to the browser once as an HttpOnly, SameSite=Lax cookie
//! (Secure, under the `__Host-` prefix, when the portal's public URL is https); only its SHA-256
//! is stored. A session ends on sign-out, after the idle time-out, at the absolute time-out, or
//! when its person is disabled. Every session has its own CSRF token, which every form carries.
//!
//! Whatever signs a person in — the built-in login form or OpenID Connect — ends with one call to
//! [`start`]. This module must never log a session id or a CSRF token.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponseParts, ResponseParts};
use rand::RngCore;
use rcn_contracts::identity::{Identity, Role};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::portal::page::PortalError;

/// The cookie's name over plain HTTP (development).
const COOKIE: &str = "rcn_sessie";
/// The cookie's name over TLS: the `__Host-` prefix pins it to this host and path `/`.
const SECURE_COOKIE: &str = "__Host-rcn_sessie";

/// Where sign-out sends the browser to end the session at the identity provider as well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpLogout {
    pub end_session_url: String,
}

/// Why a session could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The person's account is disabled.
    #[error("this account is disabled")]
    Disabled,
    /// The identity does not hold together (e.g. municipal staff without a municipality).
    #[error("the identity is not valid: {0}")]
    InvalidIdentity(String),
    #[error("the session store cannot be used")]
    Database(#[from] sqlx::Error),
}

/// The `Set-Cookie` header that hands a new session (or its end) to the browser; put it in the
/// response: `(set_cookie, Redirect::to("/"))`.
#[derive(Debug, Clone)]
pub struct SetCookie(HeaderValue);

impl IntoResponseParts for SetCookie {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.headers_mut().append(header::SET_COOKIE, self.0);
        Ok(res)
    }
}

/// A signed-in person, for handlers: who they are and their session's CSRF token.
#[derive(Clone)]
pub struct Staff {
    pub identity: Identity,
    pub display_name: String,
    pub csrf_token: String,
    /// The message left by the previous POST, shown once.
    pub flash: Option<Flash>,
    session_hash: [u8; 32],
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// A one-time message for the next page: what a POST did, or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: String,
    pub text: String,
}

impl Flash {
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            kind: "ok".into(),
            text: text.into(),
        }
    }
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            kind: "error".into(),
            text: text.into(),
        }
    }
}

/// Starts a session for `identity` (who the services will see in `Rcn-Identity`), shown in the
/// portal as `display_name`. Records the person among the known users (the colleagues a task can
/// be handed to); refuses a disabled person. `idp_logout`: where sign-out goes next, for a
/// session signed in through an identity provider.
pub async fn start(
    state: &AppState,
    identity: Identity,
    display_name: String,
    idp_logout: Option<IdpLogout>,
) -> Result<SetCookie, SessionError> {
    identity
        .check()
        .map_err(|e| SessionError::InvalidIdentity(e.0))?;
    let display_name = match display_name.trim() {
        "" => identity.user_id.clone(),
        name => name.chars().take(200).collect(),
    };
    let settings = &state.portal;
    let mut tx = state.pool.begin().await?;
    let disabled: Option<bool> = sqlx::query_scalar!(
        "INSERT INTO portal_users (user_id, display_name, role, gemeentecode, last_sign_in_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (user_id) DO UPDATE SET last_sign_in_at = now(),
             display_name = EXCLUDED.display_name, role = EXCLUDED.role,
             gemeentecode = EXCLUDED.gemeentecode
         WHERE portal_users.disabled_at IS NULL
         RETURNING false AS \"disabled!\"",
        &identity.user_id,
        &display_name,
        identity.role as Role,
        identity.gemeentecode.as_ref().map(|g| g.as_str()),
    )
    .fetch_optional(&mut *tx)
    .await?;
    if disabled.is_none() {
        return Err(SessionError::Disabled);
    }
    let id = random_hex();
    let identity_json = serde_json::to_value(&identity).expect("an identity serialises");
    let session_hash = hash(&id);
    sqlx::query!(
        "INSERT INTO portal_sessions
             (session_hash, user_id, identity, display_name, csrf_token, idp_end_session_url, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::double precision))",
        session_hash.as_slice(),
        &identity.user_id,
        identity_json,
        &display_name,
        random_hex(),
        idp_logout.map(|l| l.end_session_url),
        settings.absolute_timeout.as_secs_f64(),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(user = %identity.user_id, role = identity.role.as_str(), "portal session started");
    Ok(cookie(settings, &id, None))
}

/// Ends the session (sign-out): returns the cookie that clears it in the browser and, for a
/// session from an identity provider, where to end it there.
pub async fn end(
    state: &AppState,
    staff: &Staff,
) -> Result<(SetCookie, Option<IdpLogout>), sqlx::Error> {
    let url: Option<Option<String>> = sqlx::query_scalar!(
        "UPDATE portal_sessions SET ended_at = now() WHERE session_hash = $1 AND ended_at IS NULL
         RETURNING idp_end_session_url",
        staff.session_hash.as_slice(),
    )
    .fetch_optional(&state.pool)
    .await?;
    tracing::info!(user = %staff.identity.user_id, "portal session ended by sign-out");
    Ok((
        clear_cookie(&state.portal),
        url.flatten()
            .map(|end_session_url| IdpLogout { end_session_url }),
    ))
}

/// The cookie that removes the session cookie from the browser.
pub fn clear_cookie(settings: &crate::settings::PortalSettings) -> SetCookie {
    cookie(settings, "", Some(0))
}

/// Leaves `flash` for the next page this session shows.
pub async fn set_flash(state: &AppState, staff: &Staff, flash: Flash) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE portal_sessions SET flash = $2 WHERE session_hash = $1",
        staff.session_hash.as_slice(),
        serde_json::to_value(&flash).expect("a flash serialises"),
    )
    .execute(&state.pool)
    .await?;
    Ok(())
}

/// Whether `presented` is this session's CSRF token (compared in constant time).
pub fn csrf_ok(staff: &Staff, presented: Option<&str>) -> bool {
    presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(staff.csrf_token.as_bytes())))
}

/// How a request's session was found wanting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSession {
    /// No session cookie at all.
    Missing,
    /// A cookie whose session ended or timed out.
    Expired,
}

impl FromRequestParts<Arc<AppState>> for Staff {
    type Rejection = PortalError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        // A page shown takes the flash message with it; a POST leaves it for the page after.
        let take_flash = parts.method == axum::http::Method::GET;
        match lookup(state, &parts.headers, take_flash).await {
            Ok(Ok(staff)) => Ok(staff),
            Ok(Err(why)) => Err(PortalError::NotSignedIn(why)),
            Err(e) if rcn_runtime::db::is_unavailable(&e) => Err(PortalError::Unavailable),
            Err(e) => Err(PortalError::Internal(
                anyhow::Error::new(e).context("reading a portal session"),
            )),
        }
    }
}

/// The live session the request's cookie names, touched (its idle time starts again).
async fn lookup(
    state: &AppState,
    headers: &HeaderMap,
    take_flash: bool,
) -> Result<Result<Staff, NoSession>, sqlx::Error> {
    let Some(id) = session_cookie(headers) else {
        return Ok(Err(NoSession::Missing));
    };
    let session_hash = hash(&id);
    let row = sqlx::query!(
        r#"WITH old AS (
                 SELECT session_hash, flash FROM portal_sessions WHERE session_hash = $1 FOR UPDATE
             )
             UPDATE portal_sessions s
             SET last_seen_at = now(), flash = CASE WHEN $3 THEN NULL ELSE s.flash END
             FROM old
             WHERE s.session_hash = old.session_hash AND s.ended_at IS NULL
               AND s.expires_at > now()
               AND s.last_seen_at > now() - make_interval(secs => $2::double precision)
             RETURNING s.identity, s.display_name, s.csrf_token,
                 CASE WHEN $3 THEN old.flash END AS flash"#,
        session_hash.as_slice(),
        state.portal.idle_timeout.as_secs_f64(),
        take_flash,
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some((identity, display_name, csrf_token, flash)) =
        row.map(|r| (r.identity, r.display_name, r.csrf_token, r.flash))
    else {
        return Ok(Err(NoSession::Expired));
    };
    let Ok(identity) = serde_json::from_value::<Identity>(identity) else {
        // Written by `start` from a checked identity; unreadable means tampering or a bug.
        tracing::error!("a portal session holds an unreadable identity; treated as signed out");
        return Ok(Err(NoSession::Expired));
    };
    Ok(Ok(Staff {
        identity,
        display_name,
        csrf_token,
        flash: flash.and_then(|f| serde_json::from_value(f).ok()),
        session_hash,
    }))
}

/// Ends every live session of `user_id` (when the person is disabled).
pub async fn end_all_of(pool: &sqlx::PgPool, user_id: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE portal_sessions SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL",
        user_id,
    )
    .execute(pool)
    .await?
    .rows_affected())
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    key_cookie(headers, &[COOKIE, SECURE_COOKIE])
}

/// The value of the first cookie named one of `names` that is a random key of ours (64 hex
/// digits, as [`random_hex`] makes); anything else is as good as no cookie.
pub(crate) fn key_cookie(headers: &HeaderMap, names: &[&str]) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| names.contains(name))
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether the request carries a session cookie at all (signed in or expired).
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    session_cookie(headers).is_some()
}

fn cookie(
    settings: &crate::settings::PortalSettings,
    value: &str,
    max_age: Option<u64>,
) -> SetCookie {
    let (name, secure) = if settings.secure_cookies() {
        (SECURE_COOKIE, "; Secure")
    } else {
        (COOKIE, "")
    };
    let max_age = max_age.map_or(String::new(), |s| format!("; Max-Age={s}"));
    let value = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}");
    SetCookie(HeaderValue::from_str(&value).expect("a cookie of hex digits is a header value"))
}

/// A random password for a demo account: 16 letters and digits, easy to type.
pub fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::PortalSettings;

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_behind_tls() {
        let plain = cookie(&PortalSettings::default(), "ab", None);
        assert_eq!(
            plain.0.to_str().unwrap(),
            "rcn_sessie=ab; Path=/; HttpOnly; SameSite=Lax"
        );
        let tls = PortalSettings {
            public_url: "https://rcn.example.nl".into(),
            ..Default::default()
        };
        let secure = cookie(&tls, "ab", Some(0));
        assert_eq!(
            secure.0.to_str().unwrap(),
            "__Host-rcn_sessie=ab; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0"
        );
    }

    #[test]
    fn only_a_well_formed_session_cookie_is_looked_up() {
        let id = random_hex();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; rcn_sessie={id}")).unwrap(),
        );
        assert_eq!(session_cookie(&headers), Some(id));
        headers.insert(header::COOKIE, HeaderValue::from_static("rcn_sessie=xyz"));
        assert_eq!(session_cookie(&headers), None);
    }
}
