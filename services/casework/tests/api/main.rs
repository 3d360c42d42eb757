//! Casework as a service, against the real NATS and PostgreSQL servers: routed notices in on
//! ROUTING, one case per detention episode with its condition tasks, and events out on CASES.

mod access_ends;
mod attach;
mod casework_case_detail;
mod casework_claims;
mod casework_deadlines;
mod casework_inbox;
mod casework_privacy;
mod casework_scale;
mod casework_stats;
mod casework_status;
mod casework_support;
mod casework_updates;
mod claim_races;
mod episodes;
mod helpers;
mod need_to_know;
mod open;
mod retention;
