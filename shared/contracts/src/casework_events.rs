//! Events casework publishes to CASES about the work on a case, after [`crate::events::CaseOpened`]
//! and [`crate::events::CaseUpdated`]: who holds a task, its status, its deadline reminders, moved
//! deadlines and closure. Monitor measures from them; procesregie escalates on them.
//!
//! Like every case event they carry pseudonyms, statuses and staff user ids, never the person's
//! name, BSN or the notes staff write.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::casework_api::CloseReason;
use crate::condition::{Condition, ConditionStatus};
use crate::notice::RiskFlag;
use crate::value::Gemeentecode;

/// How the holder of a task changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentChange {
    Claimed,
    Unclaimed,
    HandedOver,
    Reassigned,
    /// The case moved to another municipality; its claims lapsed.
    Lapsed,
}

impl AssignmentChange {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentChange::Claimed => "claimed",
            AssignmentChange::Unclaimed => "unclaimed",
            AssignmentChange::HandedOver => "handed_over",
            AssignmentChange::Reassigned => "reassigned",
            AssignmentChange::Lapsed => "lapsed",
        }
    }
}

/// Someone took, gave back or passed on a task. Subject `rcn.<region>.casework.task_assigned.<gemeentecode>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskAssigned {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub episode_key: String,
    pub gemeentecode: Gemeentecode,
    pub condition: Condition,
    pub change: AssignmentChange,
    #[serde(default)]
    pub previous_holder: Option<String>,
    #[serde(default)]
    pub holder: Option<String>,
    /// Who made the change.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A task's status changed. Subject `rcn.<region>.casework.task_status_changed.<gemeentecode>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskStatusChanged {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub episode_key: String,
    pub gemeentecode: Gemeentecode,
    pub condition: Condition,
    pub from: ConditionStatus,
    pub to: ConditionStatus,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Which reminder a deadline raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// The due date is near (within the region's warning period) and the task is still open.
    DueSoon,
    /// The due date has passed and the task is still open.
    Overdue,
}

impl DeadlineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::DueSoon => "due_soon",
            DeadlineKind::Overdue => "overdue",
        }
    }
}

/// A deadline reminder, raised once per task, kind and due date. Subject
/// `rcn.<region>.casework.task_due_soon.<gemeentecode>` or `….task_overdue.<gemeentecode>`;
/// `Nats-Msg-Id` = `event_id`, which is fixed when the reminder is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskDeadline {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub kind: DeadlineKind,
    pub case_id: Uuid,
    pub episode_key: String,
    pub gemeentecode: Gemeentecode,
    pub condition: Condition,
    pub due_on: NaiveDate,
    pub status: ConditionStatus,
    #[serde(default)]
    pub holder: Option<String>,
    pub spoed: bool,
    #[serde(default)]
    pub expected_release_on: Option<NaiveDate>,
    pub raised_at: DateTime<Utc>,
}

/// A task's due date, after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskDue {
    pub condition: Condition,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
}

/// A later notice moved the release (or the person was released unexpectedly): new due dates,
/// maybe spoed now. Subject `rcn.<region>.casework.case_rescheduled.<gemeentecode>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseRescheduled {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub episode_key: String,
    pub gemeentecode: Gemeentecode,
    pub notice_key: String,
    #[serde(default)]
    pub previous_release_on: Option<NaiveDate>,
    #[serde(default)]
    pub expected_release_on: Option<NaiveDate>,
    /// Set when the person was released unexpectedly: every open task is urgent.
    pub released_unexpectedly: bool,
    pub spoed: bool,
    pub due: Vec<TaskDue>,
    pub at: DateTime<Utc>,
}

/// A case was closed, by a person or by a `cancelled` notice. Subject
/// `rcn.<region>.casework.case_closed.<gemeentecode>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseClosed {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub episode_key: String,
    pub gemeentecode: Gemeentecode,
    pub reason: CloseReason,
    /// A user id, or `notice:<key>` when a notice closed it.
    pub by: String,
    /// Conditions still open at closure.
    pub open_conditions: Vec<Condition>,
    pub closed_at: DateTime<Utc>,
}

/// The risk flags a notice of a case carried (the one that opened, moved or reopened it, or a
/// later one that brings flags), for procesregie's suggestion rule and the RCN. Subject
/// `rcn.<region>.casework.risk_flags_noted.<gemeentecode>`, published only when there is at
/// least one flag; only procesregie and RCN roles may read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RiskFlagsNoted {
    pub schema_version: u32,
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub episode_key: String,
    pub person_key: String,
    pub gemeentecode: Gemeentecode,
    pub risk_flags: Vec<RiskFlag>,
    pub noted_at: DateTime<Utc>,
}
