//! The launcher's integration tests: one test binary for the crate, one module per area.
//! They start real servers of their own and must never rely on (or touch) the machine's.

mod db_roles;
mod demo_feed;
mod infra;
mod own_identities;
mod provision;
mod registry;
mod restart;
