//! The plumbing every rcn service stands on: typed configuration, tracing, the NATS and
//! PostgreSQL connections, stream and consumer provisioning (`provision`), request-reply endpoints (`endpoint`), the
//! consumer loop (ack / nak with back-off / dead-letter), the transactional outbox and its relay,
//! and graceful shutdown.
//!
//! This crate knows no service and no business rule. It must never ack a message before the
//! handler's work is durable, and never publish an event outside the outbox.

pub mod backoff;
pub mod config;
pub mod consumer;
pub mod ctx;
pub mod db;
pub mod dlq;
pub mod endpoint;
pub mod headers;
pub mod metrics;
pub mod nats;
pub mod nats_auth;
pub mod outbox;
pub mod provision;
pub mod retention;
pub mod shutdown;
pub mod signed_identity;
pub mod telemetry;
pub mod trace_context;

pub use config::Config;
pub use consumer::{ConsumerSpec, Delivery, HandlerError};
pub use ctx::Ctx;
pub use shutdown::shutdown_signal;
pub use tokio_util::sync::CancellationToken;

#[cfg(feature = "testing")]
pub mod testing;
