//! The gateway's HTTP API on a real socket, against the real NATS and PostgreSQL servers. Intake
//! is either absent (so it is unavailable) or played by a stand-in on its NATS subject that gives
//! the contract's answers: this crate tests the gateway, and a service crate does not depend on
//! another service crate (the whole chain is tested end to end in `tests/`).

mod edge;
mod edge_limits;
mod health;
mod helpers;
mod notices;
mod partner_auth;
mod portal;
