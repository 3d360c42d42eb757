//! Events procesregie publishes on PROCESREGIE (`rcn.<region>.procesregie.<event>`), through its
//! outbox with `Nats-Msg-Id` = `event_id`, for the monitor: an application submitted, triaged,
//! an ICO opened, an action of its plan van aanpak changed, a review held, the ICO closed, and
//! once each an action or a review that is overdue.
//!
//! They carry ids, dates, statuses, outcomes and the municipality; never a name, a BSN, or the
//! free text staff write (reasons, goals, notes, action descriptions).

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::procesregie_api::{ActionStatus, IcoCloseReason, SuggestionRule, TriageOutcome};
use crate::value::Gemeentecode;

/// Which event: the subject token after `procesregie.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcesregieEvent {
    ApplicationSubmitted,
    ApplicationTriaged,
    IcoOpened,
    IcoActionChanged,
    IcoReviewHeld,
    IcoClosed,
    IcoActionOverdue,
    IcoReviewOverdue,
}

impl ProcesregieEvent {
    pub const ALL: [ProcesregieEvent; 8] = [
        ProcesregieEvent::ApplicationSubmitted,
        ProcesregieEvent::ApplicationTriaged,
        ProcesregieEvent::IcoOpened,
        ProcesregieEvent::IcoActionChanged,
        ProcesregieEvent::IcoReviewHeld,
        ProcesregieEvent::IcoClosed,
        ProcesregieEvent::IcoActionOverdue,
        ProcesregieEvent::IcoReviewOverdue,
    ];

    pub fn token(self) -> &'static str {
        match self {
            ProcesregieEvent::ApplicationSubmitted => "application_submitted",
            ProcesregieEvent::ApplicationTriaged => "application_triaged",
            ProcesregieEvent::IcoOpened => "ico_opened",
            ProcesregieEvent::IcoActionChanged => "ico_action_changed",
            ProcesregieEvent::IcoReviewHeld => "ico_review_held",
            ProcesregieEvent::IcoClosed => "ico_closed",
            ProcesregieEvent::IcoActionOverdue => "ico_action_overdue",
            ProcesregieEvent::IcoReviewOverdue => "ico_review_overdue",
        }
    }
}

/// A complete application was submitted and put on a triage agenda. Subject
/// `rcn.<region>.procesregie.application_submitted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationSubmitted {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub application_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// The suggestion rule it came from, when a person accepted a suggestion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_rule: Option<SuggestionRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    pub triage_on: NaiveDate,
    pub submitted_at: DateTime<Utc>,
}

/// The triage recorded an application's outcome. Subject
/// `rcn.<region>.procesregie.application_triaged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationTriaged {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub application_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    pub triage_on: NaiveDate,
    pub outcome: TriageOutcome,
    /// The ICO opened, for outcome `ico`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ico_id: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: DateTime<Utc>,
}

/// An ICO was opened after the triage admitted an application. Subject
/// `rcn.<region>.procesregie.ico_opened`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IcoOpened {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub ico_id: Uuid,
    pub application_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    pub procesregisseur: String,
    pub opened_at: DateTime<Utc>,
}

/// An action of a plan van aanpak was added or changed. Subject
/// `rcn.<region>.procesregie.ico_action_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IcoActionChanged {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub ico_id: Uuid,
    pub action_id: Uuid,
    /// True for a new action.
    pub created: bool,
    pub owner_organisation: String,
    pub status: ActionStatus,
    pub due_on: NaiveDate,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A review of an ICO was held. Subject `rcn.<region>.procesregie.ico_review_held`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IcoReviewHeld {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub ico_id: Uuid,
    pub review_id: Uuid,
    pub held_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_review_on: Option<NaiveDate>,
    pub at: DateTime<Utc>,
}

/// An ICO was closed. Subject `rcn.<region>.procesregie.ico_closed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IcoClosed {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub ico_id: Uuid,
    pub reason: IcoCloseReason,
    /// Actions neither done nor cancelled at closure.
    pub open_actions: u32,
    pub opened_at: DateTime<Utc>,
    pub closed_at: DateTime<Utc>,
}

/// An action of an open ICO passed its due date while still open; raised once per action and
/// due date. Subject `rcn.<region>.procesregie.ico_action_overdue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IcoActionOverdue {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub ico_id: Uuid,
    pub action_id: Uuid,
    pub owner_organisation: String,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
    pub raised_at: DateTime<Utc>,
}

/// The next review of an open ICO passed without a review held; raised once per planned date.
/// Subject `rcn.<region>.procesregie.ico_review_overdue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IcoReviewOverdue {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub ico_id: Uuid,
    pub next_review_on: NaiveDate,
    pub procesregisseur: String,
    pub raised_at: DateTime<Utc>,
}
