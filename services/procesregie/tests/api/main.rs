//! Procesregie as a service, against the real NATS and PostgreSQL servers: its API on the
//! endpoint kit, casework's events in on CASES, its own events out on PROCESREGIE.

mod applications;
mod cases_in;
mod helpers;
mod ico;
mod need_to_know;
mod privacy;
mod retention;
mod service_api;
mod suggestions;
mod triage_board;
mod watched_cases;
