//! The events services publish to each other, one type per message. Each carries
//! `schema_version`; each is published with `Nats-Msg-Id` = its idempotency key, so a redelivery
//! or a republish after a crash is recognised as the same message.
//!
//! Personal data travels only to receivers that need it: routing decisions carry the notice
//! (casework shows it to the municipality), case events carry pseudonyms and statuses only.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::condition::{Condition, ConditionStatus};
use crate::notice::{NoticeKind, ReleaseNotice};
use crate::value::Gemeentecode;

/// Intake accepted a notice. Subject `rcn.<region>.intake.accepted`, `Nats-Msg-Id` = notice key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NoticeAccepted {
    pub schema_version: u32,
    /// `<institution_code>:<notice_id>`: unique per notice across all senders.
    pub notice_key: String,
    pub received_at: DateTime<Utc>,
    /// Pseudonym of the person (keyed hash of the BSN); never the BSN itself.
    pub person_key: String,
    /// Pseudonym of the detention episode: the same for every notice about it.
    pub episode_key: String,
    pub notice: ReleaseNotice,
    /// The region that forwarded this notice here, when another region routed it to us. A
    /// forwarded notice is never forwarded again, so two regions cannot bounce it between them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_from: Option<String>,
}

/// Which rule decided where a notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoutingRule {
    /// The BRP registration (woonadres or briefadres) before detention, from the notice.
    BrpRegistration,
    /// Postcode and house number looked up in the address register.
    AddressLookup,
    /// The PC4 of the last address in the region's table (a fallback).
    Pc4Table,
    /// An RCN coordinator decided by hand.
    Manual,
    /// No rule could decide: the notice waits in the manual routing queue.
    NoRule,
}

impl RoutingRule {
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingRule::BrpRegistration => "brp_registration",
            RoutingRule::AddressLookup => "address_lookup",
            RoutingRule::Pc4Table => "pc4_table",
            RoutingRule::Manual => "manual",
            RoutingRule::NoRule => "no_rule",
        }
    }
}

/// Where a notice goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RoutingOutcome {
    /// A municipality of this region is responsible.
    Routed { gemeentecode: Gemeentecode },
    /// The responsible municipality lies outside this region.
    OutOfRegion { gemeentecode: Gemeentecode },
    /// Nobody could tell: the RCN's manual routing queue.
    Unroutable,
}

impl RoutingOutcome {
    /// The outcome without its municipality: what the router's and intake's tables store.
    pub fn kind(&self) -> RoutingOutcomeKind {
        match self {
            RoutingOutcome::Routed { .. } => RoutingOutcomeKind::Routed,
            RoutingOutcome::OutOfRegion { .. } => RoutingOutcomeKind::OutOfRegion,
            RoutingOutcome::Unroutable => RoutingOutcomeKind::Unroutable,
        }
    }

    /// The municipality the outcome names (none when unroutable).
    pub fn gemeentecode(&self) -> Option<&Gemeentecode> {
        match self {
            RoutingOutcome::Routed { gemeentecode }
            | RoutingOutcome::OutOfRegion { gemeentecode } => Some(gemeentecode),
            RoutingOutcome::Unroutable => None,
        }
    }
}

/// [`RoutingOutcome`] without its municipality, as stored (`outcome` columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoutingOutcomeKind {
    Routed,
    OutOfRegion,
    Unroutable,
}

impl RoutingOutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingOutcomeKind::Routed => "routed",
            RoutingOutcomeKind::OutOfRegion => "out_of_region",
            RoutingOutcomeKind::Unroutable => "unroutable",
        }
    }
}

/// The router's decision about one notice, with why. Subject
/// `rcn.<region>.routing.{routed|out_of_region}.<gemeentecode>` or `rcn.<region>.routing.unroutable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NoticeRouted {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub notice_key: String,
    pub person_key: String,
    pub episode_key: String,
    #[serde(flatten)]
    pub outcome: RoutingOutcome,
    pub rule: RoutingRule,
    /// Why, in words for the RCN coordinator: which input led to which answer.
    pub reason: String,
    /// Set when the answer is a guess to be checked (e.g. a PC4 shared by two municipalities).
    #[serde(default)]
    pub ambiguous: bool,
    pub decided_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub notice: ReleaseNotice,
}

/// A condition as it stands in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConditionState {
    pub condition: Condition,
    pub status: ConditionStatus,
}

/// Casework opened a case. Subject `rcn.<region>.casework.case_opened.<gemeentecode>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseOpened {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub episode_key: String,
    /// Pseudonym of the person (as in [`NoticeAccepted`]), so procesregie can show earlier
    /// referrals of the same person; absent in events from before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_key: Option<String>,
    pub gemeentecode: Gemeentecode,
    /// The notice that opened the case.
    pub notice_key: String,
    pub expected_release_on: Option<NaiveDate>,
    /// Spoed: release within 7 days or unexpected; handled the same day, shown first.
    pub spoed: bool,
    pub conditions: Vec<ConditionState>,
    pub opened_at: DateTime<Utc>,
    /// When intake received the notice, so monitor can measure notice → case time.
    pub notice_received_at: DateTime<Utc>,
}

/// A later notice reached an existing case. Subject `rcn.<region>.casework.case_updated.<gemeentecode>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseUpdated {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub episode_key: String,
    pub gemeentecode: Gemeentecode,
    pub notice_key: String,
    pub notice_kind: NoticeKind,
    pub updated_at: DateTime<Utc>,
}
