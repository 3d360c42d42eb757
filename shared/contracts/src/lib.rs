//! The shared language of rcn: the partner-facing release-notice contract, the value types that
//! validate themselves when constructed, the events services exchange, and the subject and stream
//! names built from a region.
//!
//! Everything here is plain data and pure functions. This crate must never do I/O, never depend on
//! a service crate, and never let a BSN leak through `Debug` or `Display`.

pub mod access_log;
pub mod asyncapi;
pub mod casework_api;
pub mod casework_events;
pub mod condition;
pub mod dead_letters_api;
pub mod deadlines;
pub mod envelope;
pub mod events;
pub mod examples;
pub mod forwarding;
pub mod holidays;
pub mod identity;
pub mod intake;
pub mod json;
pub mod monitor_api;
pub mod municipality;
pub mod notice;
pub mod privacy_api;
pub mod privacy_export;
pub mod procesregie_api;
pub mod procesregie_events;
pub mod pseudonym;
pub mod region;
pub mod retention;
pub mod routing_api;
pub mod schema;
#[cfg(feature = "sqlx")]
pub mod sql;
pub mod subjects;
pub mod trace_context;
pub mod value;

pub use condition::{Condition, ConditionStatus};
pub use notice::{NoticeKind, ReleaseNotice, RiskFlag};
pub use subjects::{Region, StreamDef, Subjects};
pub use value::{Bsn, Gemeentecode, Postcode};

/// The version of every event type in [`events`]. Bumped when a change is not backward compatible.
pub const SCHEMA_VERSION: u32 = 1;
