//! Retention: the record classes rcn keeps personal data in, each with its own retention period
//! counted from release or closure (DOMAIN.md, "Privacy"). The periods themselves are
//! configuration (`rcn_runtime::retention::RetentionPolicy`); this module only names the classes,
//! so a stream definition can say which classes its messages carry and the deletion log can say
//! which class it removed. It must never carry personal data: a deletion log row is a class, a
//! rule, a count and a time.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A kind of record with one retention rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordClass {
    /// Release notices and everything derived from one notice: intake's receipts and outcomes,
    /// the router's routing decision (which goes with its notice), a case's notice list.
    /// Counted from the release date, unless linked to an open case.
    Notice,
    /// A case with its tasks, history and reminders. Counted from its closure.
    Case,
    /// An ICO application and the ICO with its plan van aanpak. Counted from its closure.
    Ico,
    /// The append-only log of who read what. Kept longer than the records it covers.
    AccessLog,
    /// The ids of messages a service has applied, kept so that a redelivered message changes
    /// nothing: no personal data. Kept until the stream it came from can no longer deliver it
    /// again (its maximum age), not for a period of its own.
    EventIds,
}

impl RecordClass {
    pub const ALL: [RecordClass; 5] = [
        RecordClass::Notice,
        RecordClass::Case,
        RecordClass::Ico,
        RecordClass::AccessLog,
        RecordClass::EventIds,
    ];

    /// The word used in the deletion log and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordClass::Notice => "notice",
            RecordClass::Case => "case",
            RecordClass::Ico => "ico",
            RecordClass::AccessLog => "access_log",
            RecordClass::EventIds => "event_ids",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == word)
    }
}

impl std::fmt::Display for RecordClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verb every service with a retention job answers its deletion log on
/// (`rcn.<region>.api.<service>.retention_log`): only for the privacy officer and the
/// administrator.
pub const RETENTION_LOG_VERB: &str = "retention_log";

/// The most lines one service returns.
pub const MAX_LOG_LINES: u32 = 1_000;

/// Every service with a retention job, with the subject it answers its deletion log on: the one
/// list the portal and the CLI ask.
pub fn retention_log_subjects(subjects: &crate::Subjects) -> [(&'static str, String); 5] {
    [
        ("intake", subjects.intake_api(RETENTION_LOG_VERB)),
        ("router", subjects.router_api(RETENTION_LOG_VERB)),
        ("casework", subjects.casework_api(RETENTION_LOG_VERB)),
        ("procesregie", subjects.procesregie_api(RETENTION_LOG_VERB)),
        // The dead-letter desk's log and the privacy questions (its service rcn-dead-letters).
        ("monitor", subjects.monitor_api(RETENTION_LOG_VERB)),
    ]
}

/// Show me your deletion log: the newest `limit` lines (100 when absent, at most
/// [`MAX_LOG_LINES`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionLogRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl RetentionLogRequest {
    /// How many lines to return.
    pub fn lines(&self) -> u32 {
        self.limit.unwrap_or(100).clamp(1, MAX_LOG_LINES)
    }
}

impl crate::envelope::RequestBody for RetentionLogRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, crate::notice::Problem> {
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            bytes
        };
        crate::json::decode(bytes, "a retention log request")
    }
}

/// One line of a service's deletion log: what one rule removed in one run. No personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RetentionLogLine {
    pub run_id: uuid::Uuid,
    /// When the run was (its clock's "now").
    pub run_at: chrono::DateTime<chrono::Utc>,
    pub class: RecordClass,
    /// The rule in words, as the service states it (English).
    pub rule: String,
    /// Root records removed (0 when nothing had expired, or the rule was skipped).
    pub removed: i64,
}

/// One service's deletion log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RetentionLogReply {
    pub service: String,
    pub lines: Vec<RetentionLogLine>,
}
