//! Authentication of partners: `Authorization: Bearer <token>` on every partner route, checked
//! against the token store (see [`crate::tokens`]). Handlers that take a [`Partner`] cannot run
//! for an unauthenticated caller.
//!
//! It must never say why a token was refused (unknown, revoked, malformed look the same), and
//! never log a token. Every failure is logged with the client address and the token id (when the
//! token is well-formed; never its secret) and counted (see [`crate::auth_limit`]): an address
//! with too many recent failures gets 429 before its token is even looked at.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use rcn_contracts::intake::PartnerIdentity;

use crate::auth_limit::{AuthLimiter, Key};
use crate::{ApiError, AppState};

/// An authenticated institution.
#[derive(Debug, Clone)]
pub struct Partner(pub PartnerIdentity);

impl FromRequestParts<Arc<AppState>> for Partner {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let limiter = parts.extensions.get::<Arc<AuthLimiter>>().cloned();
        if let (Some(limiter), Some(ip)) = (&limiter, client)
            && let Some(wait) = limiter.blocked(Key::Address(ip), Instant::now())
        {
            tracing::warn!(client = %ip, "authentication refused: too many recent failures");
            return Err(ApiError::TooManyFailures {
                retry_after_seconds: u32::try_from(wait.as_secs_f64().ceil() as u64)
                    .unwrap_or(u32::MAX),
            });
        }
        let failed = || {
            let token_id = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .and_then(|(_, token)| crate::tokens::parse(token.trim()))
                .map(|(id, _)| id);
            let now = Instant::now();
            let (by_address, by_token) = match &limiter {
                Some(limiter) => (
                    client.map(|ip| limiter.record_failure(Key::Address(ip), now)),
                    token_id.map(|id| limiter.record_failure(Key::TokenId(id), now)),
                ),
                None => (None, None),
            };
            tracing::warn!(
                client = client
                    .map(|ip| ip.to_string())
                    .as_deref()
                    .unwrap_or("unknown"),
                token_id = token_id
                    .map(|id| id.to_string())
                    .as_deref()
                    .unwrap_or("none"),
                failures_from_client = by_address,
                failures_for_token = by_token,
                "authentication failed"
            );
            ApiError::Unauthorized { token_sent: true }
        };
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::Unauthorized { token_sent: false });
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(failed)?;
        match crate::tokens::authenticate(&state.pool, token).await {
            Ok(Some(identity)) => {
                tracing::Span::current().record("institution", identity.institution_code.as_str());
                Ok(Partner(identity))
            }
            Ok(None) => Err(failed()),
            Err(e) if rcn_runtime::db::is_unavailable(&e) => Err(ApiError::Unavailable {
                message: "credentials cannot be checked right now; try again later".into(),
                retry_after_seconds: 30,
            }),
            Err(e) => Err(ApiError::Internal(
                anyhow::Error::new(e).context("checking an API token"),
            )),
        }
    }
}
