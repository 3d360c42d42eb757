//! Integration tests of the runtime's plumbing — the consumer loop, the dead-letter queue and the
//! outbox relay — against the real NATS and PostgreSQL servers, each test in its own region and
//! database.
//!
//! They need `rcn_runtime::testing` (the `testing` feature) and a crate cannot list itself as a
//! dev-dependency, so this binary declares `required-features = ["testing"]`. Run it with
//!
//! ```text
//! cargo test -p rcn-runtime --features testing
//! ```
//!
//! Without the feature cargo skips this binary and runs only the unit tests.

mod consumer;
mod dead_letter;
mod endpoint;
mod helpers;
mod outbox;
mod snapshot;
