//! rcn — the launcher: one binary that runs every service of the stack in one process (or a
//! single one with `run --only <service>`), and starts its own NATS and PostgreSQL when none are
//! configured.
//!
//! It wires services together only through NATS and PostgreSQL, exactly as separate processes
//! would meet; it must never let one service call into another's code or tables.

pub mod bench;
pub mod db_roles;
pub mod demo;
pub mod dlq;
pub mod feed;
pub mod inbox_bench;
pub mod infra;
pub mod nats_provision;
pub mod pages_bench;
pub mod privacy;
pub mod provision;
pub mod retention;
pub mod stack;
pub mod who_saw_bench;
