//! What one rcn region sends another when a notice belongs there: subject
//! `rcn.<target-region>.intake.forwarded` (stream FORWARDED of the target), `Nats-Msg-Id` =
//! `event_id`. It carries the accepted notice as this region received it, plus where it came from
//! and why, so the receiving RCN can route it and tell the sender it arrived.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::{NoticeAccepted, RoutingRule};
use crate::value::Gemeentecode;

/// A notice forwarded to the region that serves the responsible municipality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NoticeForwarded {
    pub schema_version: u32,
    pub event_id: Uuid,
    /// The region that forwards (its subject segment), where an acknowledgement goes.
    pub from_region: String,
    /// The municipality the sending region found responsible.
    pub gemeentecode: Gemeentecode,
    pub rule: RoutingRule,
    /// Why the sending region decided so, in words.
    pub reason: String,
    pub forwarded_at: DateTime<Utc>,
    /// The notice as the sending region accepted it. Its `person_key` and `episode_key` are
    /// pseudonyms under the sender's key: the receiver derives its own from the notice.
    pub accepted: NoticeAccepted,
}

/// The region a notice was forwarded to acknowledged it: the forward no longer waits. Subject
/// `rcn.<region>.routing.forward_acknowledged` (stream ROUTING of the forwarding region),
/// `Nats-Msg-Id` = `event_id`. The monitor counts forwards still waiting from it; it carries no
/// personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ForwardAcknowledged {
    pub schema_version: u32,
    pub event_id: Uuid,
    /// `<institution_code>:<notice_id>` of the forwarded notice.
    pub notice_key: String,
    /// The region that acknowledged.
    pub target_region: String,
    pub gemeentecode: Gemeentecode,
    pub forwarded_at: DateTime<Utc>,
    pub acknowledged_at: DateTime<Utc>,
}
