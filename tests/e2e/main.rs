//! End-to-end: a partner's notice through intake, router and casework to a municipality's case,
//! on the real NATS and PostgreSQL.

mod dead_letters;
mod dlq_cli;
mod forwarding;
mod municipalities;
mod nats_credentials;
mod notice_to_case;
mod notice_to_ico;
mod partner_api;
mod partner_fuzz;
mod partner_nats_permissions;
mod portal_page_views;
mod privacy_export;
mod provisioning;
mod rerouting;
mod retention;
mod service_api;
mod trace_export;
mod trust_boundary;
mod who_saw;
