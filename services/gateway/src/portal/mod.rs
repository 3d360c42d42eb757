//! The staff portal: Dutch pages for municipal aftercare staff, the RCN coordinator and the
//! procesregisseur, server-rendered from compile-checked templates (askama) in the NL Design
//! System's look, with htmx only as an enhancement: every action works as a plain form with
//! POST-redirect-GET. Pages live outside `/v1` (that is the partner API).
//!
//! The portal authenticates people (built-in accounts here; OpenID Connect plugs into
//! [`session::start`]) and asks the owning services over NATS with the person's identity; it
//! never decides what a person may see, and never puts personal data in a URL.

pub mod assets;
pub mod case;
pub mod dashboard;
pub mod fmt;
pub mod form;
pub mod inbox;
pub mod login;
pub mod oidc;
pub mod oidc_login;
pub mod page;
pub mod routing;
pub mod services;
pub mod session;
pub mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(login::start))
        .route("/inloggen", get(login::form).post(login::submit))
        .route("/uitloggen", post(login::sign_out))
        .route("/inloggen/oidc", get(oidc_login::begin))
        .route("/oidc/callback", get(oidc_login::callback))
        .route("/taken", get(inbox::mine))
        .route("/taken/gemeente", get(inbox::municipality))
        .route("/taken/claimen", post(inbox::bulk_claim))
        .route("/taken/weergaven", post(inbox::save_view))
        .route("/casussen/{case_id}", get(case::show))
        .route("/casussen/{case_id}/claimen", post(case::claim))
        .route("/casussen/{case_id}/alles-claimen", post(case::claim_case))
        .route("/casussen/{case_id}/vrijgeven", post(case::release))
        .route("/casussen/{case_id}/overdragen", post(case::hand_over))
        .route("/casussen/{case_id}/status", post(case::change_status))
        .route("/casussen/{case_id}/sluiten", post(case::close))
        .route("/routering", get(routing::queue))
        .route("/routering/beslissen", post(routing::decide))
        .route("/overzicht", get(dashboard::show))
        .route("/overzicht/maandrapport", get(dashboard::report))
        .route("/overzicht/export/{file}", get(dashboard::export))
        .route("/assets/{*path}", get(assets::asset))
        .layer(DefaultBodyLimit::max(form::MAX_FORM_BYTES))
}
