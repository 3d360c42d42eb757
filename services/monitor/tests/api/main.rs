//! The monitor as a service, against the real NATS and PostgreSQL servers: hand-built event
//! sequences in on NOTICES, ROUTING, CASES, PROCESREGIE and DLQ; figures with known answers out.

mod dead_letter_desk;
mod helpers;
mod monitor_figures;
mod monitor_read_models;
mod retention;
mod story;
