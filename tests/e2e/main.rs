//! End-to-end: a partner's notice through intake, router and casework to a municipality's case,
//! on the real NATS and PostgreSQL.

mod notice_to_case;
mod dead_letters;
