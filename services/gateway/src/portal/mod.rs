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
pub mod case_routing;
pub mod dashboard;
pub mod dead_letters;
pub mod deletion_log;
pub mod fmt;
pub mod form;
pub mod inbox;
pub mod log_words;
pub mod login;
pub mod oidc;
pub mod oidc_login;
pub mod page;
pub mod partner_tokens;
pub mod privacy;
pub mod privacy_export;
pub mod procesregie;
pub mod reasons;
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
        .route(
            "/casussen/{case_id}/voorstel/accepteren",
            post(procesregie::suggestion::accept),
        )
        .route(
            "/casussen/{case_id}/voorstel/afwijzen",
            post(procesregie::suggestion::dismiss),
        )
        .route(
            "/aanmeldingen",
            get(procesregie::application::list).post(procesregie::application::create),
        )
        .route("/aanmeldingen/nieuw", get(procesregie::application::new))
        .route(
            "/aanmeldingen/{application_id}",
            get(procesregie::application::show).post(procesregie::application::update),
        )
        .route("/triage", get(procesregie::triage::board))
        .route("/triage/beslissen", post(procesregie::triage::decide))
        .route("/icos", get(procesregie::ico::list))
        .route("/icos/{ico_id}", get(procesregie::ico::show))
        .route("/icos/{ico_id}/acties", post(procesregie::ico::action))
        .route("/icos/{ico_id}/evaluaties", post(procesregie::ico::review))
        .route(
            "/icos/{ico_id}/casusregisseur",
            post(procesregie::ico::casusregisseur),
        )
        .route("/icos/{ico_id}/partners", post(procesregie::ico::partners))
        .route("/icos/{ico_id}/sluiten", post(procesregie::ico::close))
        .route("/routering", get(routing::queue))
        .route("/routering/beslissen", post(routing::decide))
        .route("/dode-berichten", get(dead_letters::list))
        .route("/dode-berichten/{sequence}", get(dead_letters::show))
        .route(
            "/dode-berichten/{sequence}/inzien",
            post(dead_letters::inspect),
        )
        .route(
            "/dode-berichten/{sequence}/opnieuw-aanbieden",
            post(dead_letters::replay),
        )
        .route(
            "/dode-berichten/{sequence}/verwijderen",
            post(dead_letters::discard),
        )
        .route("/partnertoegang", get(partner_tokens::list))
        .route("/partnertoegang/uitgeven", post(partner_tokens::issue))
        .route(
            "/partnertoegang/{token_id}/vernieuwen",
            post(partner_tokens::rotate),
        )
        .route(
            "/partnertoegang/{token_id}/intrekken",
            post(partner_tokens::revoke),
        )
        .route("/privacy", get(privacy::show))
        .route("/privacy/wie-heeft-ingezien", post(privacy::who_saw_form))
        .route("/privacy/verwijderlogboek", get(deletion_log::show))
        .route(
            "/privacy/inzage",
            get(privacy_export::show).post(privacy_export::export_form),
        )
        .route("/overzicht", get(dashboard::show))
        .route("/overzicht/maandrapport", get(dashboard::report))
        .route("/overzicht/export/{file}", get(dashboard::export))
        .route("/assets/{*path}", get(assets::asset))
        .layer(DefaultBodyLimit::max(form::MAX_FORM_BYTES))
}
