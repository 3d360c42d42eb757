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
}

impl RecordClass {
    pub const ALL: [RecordClass; 4] = [
        RecordClass::Notice,
        RecordClass::Case,
        RecordClass::Ico,
        RecordClass::AccessLog,
    ];

    /// The word used in the deletion log and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordClass::Notice => "notice",
            RecordClass::Case => "case",
            RecordClass::Ico => "ico",
            RecordClass::AccessLog => "access_log",
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
