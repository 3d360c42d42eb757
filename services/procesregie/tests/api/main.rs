//! Procesregie as a service, against the real NATS and PostgreSQL servers: its API on the
//! endpoint kit, casework's events in on CASES, its own events out on PROCESREGIE.

mod cases_in;
mod helpers;
mod service_api;
