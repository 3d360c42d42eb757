//! Intake's API over NATS request-reply (`rcn.<region>.intake.submit`), against the real NATS
//! and PostgreSQL servers: what a sender is told, and what lands on the NOTICES stream.

mod helpers;
mod intake_fuzz;
mod intake_partner;
mod rejections;
mod resend;
mod submit;
