//! The RCN's dead-letter desk (served by the monitor as `rcn-dead-letters`), for RCN coordinators
//! in their own name:
//! - `rcn.<region>.api.monitor.dead-letters.list`: body a [`DeadLetterListRequest`] (or empty), reply a
//!   [`DeadLetterListReply`]: the letters waiting (service, time, deliveries, why the service
//!   gave up, the subject it came from — never the payload) and the latest settled ones with who
//!   settled them and why;
//! - `rcn.<region>.api.monitor.dead-letters.show`: body a [`DeadLetterActRequest`] whose `why` says why
//!   the payload is needed, reply a [`DeadLetterShowReply`] with the payload (which may hold
//!   personal data: the read is logged with who, role and why before it is answered);
//! - `rcn.<region>.api.monitor.dead-letters.replay` / `.discard`: body a [`DeadLetterActRequest`], reply
//!   a [`DeadLetterActReply`]; the action and its reason are kept.
//!
//! Every reply travels in the kit's envelope; a refusal is a problem (`forbidden` for anyone but
//! an RCN coordinator, `not_found` for a letter that is not (or no longer) there).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::notice::Problem;

/// The longest `why` a coordinator may give, in characters.
pub const MAX_WHY: usize = 2000;
/// The most settled letters a list reply carries.
pub const SETTLED_SHOWN: i64 = 50;

/// Which dead letters to list. An empty body lists every service's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterListRequest {
    /// Only the letters of this service (`intake`, `router`, `casework`, `procesregie`,
    /// `monitor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// The dead letters waiting, oldest first, and the latest settled ones, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetterListReply {
    pub waiting: Vec<DeadLetterSummary>,
    pub settled: Vec<SettledDeadLetter>,
}

/// A dead letter without its payload: nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetterSummary {
    /// Its sequence in the region's DLQ stream: how it is named in the other requests.
    pub sequence: u64,
    /// The service that gave up on it.
    pub service: String,
    pub dead_lettered_at: DateTime<Utc>,
    /// Why the service gave up (its own words, one line).
    pub error: String,
    /// The subject the message was first published on (and a replay goes to).
    pub original_subject: String,
    /// How often it was delivered before the service gave up.
    pub deliveries: String,
}

/// What a coordinator did with a dead letter, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterAction {
    /// Looked at its payload.
    Inspected,
    /// Published it to its original subject again.
    Replayed,
    /// Removed it without handling it.
    Discarded,
}

impl DeadLetterAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterAction::Inspected => "inspected",
            DeadLetterAction::Replayed => "replayed",
            DeadLetterAction::Discarded => "discarded",
        }
    }
}

/// A dead letter that was replayed or discarded: who did it, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SettledDeadLetter {
    pub sequence: u64,
    pub service: String,
    pub action: DeadLetterAction,
    /// The coordinator's user id.
    pub by: String,
    pub at: DateTime<Utc>,
    pub why: String,
}

/// One dead letter to look at, replay or discard, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterActRequest {
    pub sequence: u64,
    /// Why: kept with the action (and, for `show`, in the access log).
    pub why: String,
}

impl DeadLetterActRequest {
    /// What is wrong with the request's content.
    pub fn problems(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        if self.why.trim().is_empty() {
            p.push(Problem::new("why", "say why: the reason is kept"));
        } else if self.why.chars().count() > MAX_WHY {
            p.push(Problem::new("why", format!("at most {MAX_WHY} characters")));
        }
        p
    }
}

/// One dead letter with its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetterShowReply {
    pub letter: DeadLetterSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_msg_id: Option<String>,
    /// The message as it was published (UTF-8, lossily); may hold personal data.
    pub payload: String,
}

/// What a replay or discard did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetterActReply {
    pub settled: SettledDeadLetter,
}

impl crate::envelope::RequestBody for DeadLetterListRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        crate::json::decode(bytes, "a dead-letter list request")
    }
}

impl crate::envelope::RequestBody for DeadLetterActRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        crate::json::decode(bytes, "a dead-letter request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::RequestBody;

    #[test]
    fn an_action_needs_a_reason_of_bounded_length() {
        let mut r = DeadLetterActRequest::from_json(br#"{"sequence":3,"why":"  "}"#).unwrap();
        assert_eq!(r.problems()[0].path, "why");
        r.why = "x".repeat(MAX_WHY + 1);
        assert_eq!(r.problems()[0].path, "why");
        r.why = "bug in de router is opgelost".into();
        assert!(r.problems().is_empty());
        assert!(DeadLetterActRequest::from_json(br#"{"sequence":3,"why":"x","extra":1}"#).is_err());
        assert_eq!(
            DeadLetterListRequest::from_json(b" ").unwrap(),
            DeadLetterListRequest::default()
        );
    }
}
