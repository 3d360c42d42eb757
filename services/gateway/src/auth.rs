//! Authentication of partners: `Authorization: Bearer <token>` on every partner route, checked
//! against the token store (see [`crate::tokens`]). Handlers that take a [`Partner`] cannot run
//! for an unauthenticated caller.
//!
//! It must never say why a token was refused (unknown, revoked, malformed look the same), and
//! never log a token.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rcn_contracts::intake::PartnerIdentity;

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
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::Unauthorized { token_sent: false });
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(ApiError::Unauthorized { token_sent: true })?;
        match crate::tokens::authenticate(&state.pool, token).await {
            Ok(Some(identity)) => {
                tracing::Span::current().record("institution", identity.institution_code.as_str());
                Ok(Partner(identity))
            }
            Ok(None) => Err(ApiError::Unauthorized { token_sent: true }),
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
