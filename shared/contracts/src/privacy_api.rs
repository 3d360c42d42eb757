//! The privacy officer's question "who saw this person" (issue 16), asked of every service that
//! keeps an access log: `rcn.<region>.api.<service>.privacy_accesses`. Each owning service answers
//! for its own log only; the gateway (portal page) or the CLI asks them all and merges the
//! answers by time.
//!
//! The person is named by BSN in the request *body* (never in a subject, URL or log line); the
//! service turns it into the person pseudonym with the region's key and finds its own records
//! through that. Only a privacy officer may ask, and the question is itself logged, in the same
//! transaction as the answer is read, so it shows in the next answer.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identity::Role;
use crate::notice::Problem;
use crate::value::{Bsn, Gemeentecode};

/// The verb every service with an access log answers on.
pub const WHO_SAW_VERB: &str = "privacy_accesses";

/// The most entries one service returns for one person; more says `truncated`.
pub const MAX_ENTRIES: usize = 5_000;

/// Who saw the person with this BSN?
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhoSawRequest {
    /// The person's BSN (9 digits, 11-proef). Travels only in this body.
    pub bsn: Bsn,
}

impl crate::envelope::RequestBody for WhoSawRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        crate::json::decode(bytes, "a who-saw request")
    }
}

/// The services that keep an access log, with the subject each answers "who saw" on: the one
/// list the portal and the CLI ask. Casework and procesregie answer from their access logs; the
/// router from its log of routing-decision and manual-queue reads; the monitor from its
/// dead-letter desk's log (letters whose payload held the person's BSN); intake, which shows
/// nobody a notice, with the privacy questions asked of it. Each answer includes the privacy
/// questions about the person that service logged (this one too).
pub fn who_saw_subjects(subjects: &crate::Subjects) -> [(&'static str, String); 5] {
    [
        ("casework", subjects.casework_api(WHO_SAW_VERB)),
        ("procesregie", subjects.procesregie_api(WHO_SAW_VERB)),
        ("router", subjects.router_api(WHO_SAW_VERB)),
        ("monitor", subjects.monitor_api(WHO_SAW_VERB)),
        ("intake", subjects.intake_api(WHO_SAW_VERB)),
    ]
}

/// One read or change of the person's data, as the owning service logged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccessEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The service whose log holds it (`casework`, `procesregie`, `router`, `monitor`,
    /// `intake`).
    pub service: String,
    /// Who: the account id.
    pub user_id: String,
    pub role: Role,
    /// The organisation: the municipality the person works for, if any (otherwise the role's
    /// own organisation, the RCN or the ZVH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    /// What was read or done (`case_detail`, `inbox`, `ico_get`, `privacy_accesses`, …).
    pub what: String,
    /// Why, when the reader said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ico_id: Option<Uuid>,
}

/// One service's answer: its log entries about the person, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WhoSawReply {
    pub service: String,
    pub entries: Vec<AccessEntry>,
    /// More than [`MAX_ENTRIES`] entries: the newest were left out.
    pub truncated: bool,
}

/// Every service's answers as one list, by time (ties by service, then who), and whether any
/// service left entries out.
pub fn merge(replies: impl IntoIterator<Item = WhoSawReply>) -> (Vec<AccessEntry>, bool) {
    let mut truncated = false;
    let mut all = Vec::new();
    for reply in replies {
        truncated |= reply.truncated;
        all.extend(reply.entries);
    }
    all.sort_by(|a, b| {
        (a.at, &a.service, &a.user_id, &a.what).cmp(&(b.at, &b.service, &b.user_id, &b.what))
    });
    (all, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::RequestBody;

    fn entry(service: &str, secs: i64) -> AccessEntry {
        AccessEntry {
            at: DateTime::from_timestamp(secs, 0).unwrap(),
            service: service.into(),
            user_id: "u".into(),
            role: Role::RcnCoordinator,
            gemeentecode: None,
            what: "case".into(),
            why: None,
            case_id: None,
            application_id: None,
            ico_id: None,
        }
    }

    #[test]
    fn answers_merge_by_time_and_remember_truncation() {
        let a = WhoSawReply {
            service: "casework".into(),
            entries: vec![entry("casework", 10), entry("casework", 30)],
            truncated: false,
        };
        let b = WhoSawReply {
            service: "procesregie".into(),
            entries: vec![entry("procesregie", 20)],
            truncated: true,
        };
        let (all, truncated) = merge([a, b]);
        let order: Vec<i64> = all.iter().map(|e| e.at.timestamp()).collect();
        assert_eq!(order, [10, 20, 30]);
        assert!(truncated);
    }

    #[test]
    fn a_request_needs_a_valid_bsn_and_nothing_else() {
        assert!(WhoSawRequest::from_json(br#"{"bsn":"123456782"}"#).is_ok());
        let bad = WhoSawRequest::from_json(br#"{"bsn":"123456783"}"#).unwrap_err();
        assert!(!format!("{bad:?}").contains("123456783"), "{bad:?}");
        assert!(WhoSawRequest::from_json(br#"{"bsn":"123456782","x":1}"#).is_err());
        assert!(WhoSawRequest::from_json(b"").is_err());
    }
}
