//! The router's request-reply contract for the RCN's manual routing queue:
//! - `rcn.<region>.api.router.queue.list`: body a [`QueueListRequest`] (or empty), reply a
//!   [`QueueListReply`] with the waiting notices, oldest first;
//! - `rcn.<region>.api.router.queue.decide`: body a [`QueueDecideRequest`], reply a
//!   [`QueueDecideReply`];
//! - `rcn.<region>.api.router.forwarded.list`: body empty, reply a [`ForwardedListReply`] with
//!   the notices forwarded to other regions and not yet acknowledged, oldest first;
//! - `rcn.<region>.api.router.forwarded.ack`: the receiving region's [`ForwardedAckRequest`],
//!   reply a [`ForwardedAckReply`];
//! - `rcn.<region>.api.router.decisions`: body a [`DecisionsRequest`] naming notices (a case's,
//!   as casework lists them), reply a [`DecisionsReply`] with the routing decision of each the
//!   caller may see: the outcome, the rule that decided, what it looked at and, by hand, who
//!   decided and why.
//!
//! Every reply travels in the envelope of `crate::envelope`: `{"ok": <reply>}` with a stable
//! `result` tag to branch on, or `{"problem": …}` when the request was not carried out (invalid,
//! not allowed, the router unavailable), in words for a person; never a database error. Nothing here carries a full BSN or a name: a waiting notice shows the
//! masked BSN (`*****6782`) and the inputs routing looked at, which is what a coordinator needs
//! to find the person in the BRP or to call the institution about the notice.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::events::{RoutingOutcome, RoutingRule};
use crate::notice::{NoticeKind, Problem};
use crate::value::Gemeentecode;

/// The most waiting notices one list reply carries.
pub const MAX_LIST_LIMIT: u32 = 500;
/// The most notices one decisions request may name.
pub const MAX_DECISIONS: usize = 100;
/// The longest `why` a coordinator may give for a decision by hand, in characters.
pub const MAX_WHY: usize = 2000;
/// The longest `why` a read ([`QueueListRequest`], [`DecisionsRequest`]) may carry: the one limit
/// of every read of personal data ([`crate::access_log::MAX_WHY`]).
pub const MAX_READ_WHY: usize = crate::access_log::MAX_WHY;

/// Which waiting notices to list. An empty request body means the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueListRequest {
    /// At most this many (oldest first); 100 when absent, at most [`MAX_LIST_LIMIT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = MAX_LIST_LIMIT))]
    pub limit: Option<u32>,
    /// Why the caller lists the queue (the portal names its page), kept with each person's
    /// read in the router's access log; at most [`MAX_READ_WHY`] characters, one line
    /// ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_READ_WHY))]
    pub why: Option<String>,
}

/// The answer to a list request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum QueueListReply {
    /// The waiting notices, oldest first; `more` when the limit cut the list short.
    Waiting {
        notices: Vec<WaitingNotice>,
        more: bool,
    },
}

/// A notice no rule could route, waiting for a coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WaitingNotice {
    /// `<institution_code>:<notice_id>`: what a decision names.
    pub notice_key: String,
    /// When intake accepted the notice: the queue's order.
    pub received_at: DateTime<Utc>,
    /// When the router found it could not decide.
    pub queued_at: DateTime<Utc>,
    /// Why no rule could decide, in words.
    pub reason: String,
    /// Set when a PC4 or the address register pointed at several municipalities.
    pub ambiguous: bool,
    /// What the rules looked at: BRP municipality, postcode and house number, the address
    /// register's answer. Never the BSN or a name.
    pub inputs: serde_json::Value,
    pub notice_kind: Option<NoticeKind>,
    /// The institution that sent the notice, to call about it.
    pub institution_code: Option<String>,
    /// `*****6782`: enough to match a BRP look-up, never the whole number.
    pub bsn_masked: Option<String>,
    pub expected_release_on: Option<NaiveDate>,
}

/// A coordinator's decision about one waiting notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueDecideRequest {
    pub notice_key: String,
    pub decision: ManualRouting,
    /// Who decides: the person's id as the gateway knows it. Kept with the decision.
    pub decided_by: String,
    /// Why, in words: required, kept with the decision and passed on in the routing event.
    #[schemars(length(min = 1, max = MAX_WHY))]
    pub why: String,
}

/// Where a coordinator sends a notice: `{"kind": "municipality", "gemeentecode": "GM0392"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualRouting {
    pub kind: ManualRoutingKind,
    pub gemeentecode: Gemeentecode,
}

/// Whether the chosen municipality is one of the region's or lies outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManualRoutingKind {
    /// A municipality of the region (the centrumgemeente when nobody else can be named).
    Municipality,
    /// A municipality outside the region; forwarded when its region is known.
    OutOfRegion,
}

/// The answer to a decide request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum QueueDecideReply {
    /// This request's decision was recorded and is being announced.
    Decided { decision: ManualDecision },
    /// Someone decided first; nothing changed. `decision` is theirs.
    AlreadyDecided {
        decision: ManualDecision,
        message: String,
    },
    /// No notice has this key.
    UnknownNotice { message: String },
    /// The notice exists but is not waiting: a rule routed it.
    NotWaiting { message: String },
}

/// A recorded manual decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManualDecision {
    pub notice_key: String,
    #[serde(flatten)]
    pub outcome: RoutingOutcome,
    pub decided_by: String,
    pub why: String,
    pub decided_at: DateTime<Utc>,
    /// The rcn region the notice was forwarded to, when out of region and that region is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_to: Option<String>,
}

/// The answer to a forwarded-list request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ForwardedListReply {
    /// Forwards not yet acknowledged, oldest first.
    Forwarded { forwards: Vec<ForwardedNotice> },
}

/// A notice sent on to another region, waiting for its acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ForwardedNotice {
    pub notice_key: String,
    /// The rcn region it was sent to.
    pub target_region: String,
    /// The municipality found responsible.
    pub gemeentecode: Gemeentecode,
    pub forwarded_at: DateTime<Utc>,
}

/// The receiving region says a forwarded notice arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardedAckRequest {
    pub notice_key: String,
    /// The acknowledging region's subject segment; must be the region it was forwarded to.
    pub region: String,
}

/// The answer to an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ForwardedAckReply {
    /// Recorded now.
    Acknowledged { acknowledged_at: DateTime<Utc> },
    /// Recorded before; an acknowledgement sent twice changes nothing.
    AlreadyAcknowledged { acknowledged_at: DateTime<Utc> },
    /// Nothing with this key was forwarded to this region.
    UnknownForward { message: String },
}

/// Which notices' routing decisions to show: the notice keys of a case's notices
/// (`CaseNoticeRef::notice_key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionsRequest {
    /// 1 to [`MAX_DECISIONS`] notice keys (`<institution_code>:<notice_id>`).
    #[schemars(length(min = 1, max = MAX_DECISIONS))]
    pub notice_keys: Vec<String>,
    /// Why the caller reads them (the portal names its page), kept with the read in the router's
    /// access log; at most [`MAX_READ_WHY`] characters, one line
    /// ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_READ_WHY))]
    pub why: Option<String>,
}

/// The answer to a decisions request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum DecisionsReply {
    /// The decisions the caller may see, in the order asked. A notice the router does not know,
    /// or one the caller may not see, is simply absent: the two look alike.
    Decisions { decisions: Vec<NoticeDecision> },
}

/// How the router decided about one notice, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NoticeDecision {
    pub notice_key: String,
    /// When intake accepted the notice.
    pub received_at: DateTime<Utc>,
    /// When the rules decided (or found they could not, and queued it).
    pub decided_at: DateTime<Utc>,
    /// Where the notice went as it stands: a coordinator's decision replaces `unroutable`.
    #[serde(flatten)]
    pub outcome: RoutingOutcome,
    /// The rule that decided: `manual` once a coordinator decided, `no_rule` while it waits.
    pub rule: RoutingRule,
    /// The rules' answer is a guess to be checked (a PC4 several municipalities claim).
    pub ambiguous: bool,
    /// What the rules recorded, in English words for the RCN (never personal data).
    pub reason: String,
    /// The municipality the deciding input named before following municipal mergers: the BRP
    /// registration (rule `brp_registration`) or the address register's answer
    /// (`address_lookup`). Differs from the outcome's when that municipality has merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_municipality: Option<crate::value::Gemeentecode>,
    /// The PC4 of the last address, when the notice had one (rule `pc4_table`'s input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pc4: Option<u16>,
    /// The coordinator's decision, when the notice was decided by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<ManualDecisionNote>,
    /// The rcn region the notice was forwarded to, when out of region and that region is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_to: Option<String>,
}

/// Who decided a notice by hand, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManualDecisionNote {
    pub decided_by: String,
    pub why: String,
    pub decided_at: DateTime<Utc>,
}

impl DecisionsRequest {
    /// Parses a decisions request: 1 to [`MAX_DECISIONS`] keys, none blank.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        let request: Self = crate::json::decode(bytes, "a decisions request")?;
        let n = request.notice_keys.len();
        if n == 0 || n > MAX_DECISIONS {
            return Err(Problem::new(
                "notice_keys",
                format!("name 1 to {MAX_DECISIONS} notices"),
            ));
        }
        if let Some(i) = request.notice_keys.iter().position(|k| k.trim().is_empty()) {
            return Err(Problem::new(
                format!("notice_keys[{i}]"),
                "a notice key is not blank",
            ));
        }
        crate::access_log::read_why(request.why.as_deref())?;
        Ok(request)
    }
}

impl crate::envelope::RequestBody for DecisionsRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        Self::from_json(bytes)
    }
}

impl ForwardedAckRequest {
    pub fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        crate::json::decode(bytes, "an acknowledgement")
    }
}

impl QueueListRequest {
    /// Parses a list request; an empty body is the default request.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let request: Self = crate::json::decode(bytes, "a list request")?;
        crate::access_log::read_why(request.why.as_deref())?;
        match request.limit {
            Some(n) if n == 0 || n > MAX_LIST_LIMIT => Err(Problem::new(
                "limit",
                format!("limit must be from 1 to {MAX_LIST_LIMIT}"),
            )),
            _ => Ok(request),
        }
    }

    /// How many to list.
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(100)
    }
}

impl QueueDecideRequest {
    /// Parses a decide request, naming the JSON path of the first structural problem.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        crate::json::decode(bytes, "a decision")
    }

    /// What is wrong with the request's content, apart from the region (the router checks that).
    pub fn problems(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        if self.notice_key.trim().is_empty() {
            p.push(Problem::new(
                "notice_key",
                "name the notice to decide (its notice_key)",
            ));
        }
        if self.decided_by.trim().is_empty() {
            p.push(Problem::new("decided_by", "say who decides"));
        }
        if self.why.trim().is_empty() {
            p.push(Problem::new(
                "why",
                "say why: the reason is kept with the decision and shown to the municipality",
            ));
        } else if self.why.chars().count() > MAX_WHY {
            p.push(Problem::new("why", format!("at most {MAX_WHY} characters")));
        }
        p
    }
}

impl crate::envelope::RequestBody for QueueListRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        Self::from_json(bytes)
    }
}

impl crate::envelope::RequestBody for QueueDecideRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        Self::from_json(bytes)
    }
}

impl crate::envelope::RequestBody for ForwardedAckRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        Self::from_json(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(v: serde_json::Value) -> Result<QueueDecideRequest, Problem> {
        QueueDecideRequest::from_json(&serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn a_decide_request_reads_as_documented() {
        let r = decide(serde_json::json!({
            "notice_key": "PI-HAARLEM:1",
            "decision": {"kind": "municipality", "gemeentecode": "GM0392"},
            "decided_by": "coordinator-7",
            "why": "Staat ingeschreven op briefadres in Haarlem.",
        }))
        .unwrap();
        assert_eq!(r.decision.kind, ManualRoutingKind::Municipality);
        assert_eq!(
            r.decision.gemeentecode,
            Gemeentecode::parse("GM0392").unwrap()
        );
        assert!(r.problems().is_empty());
    }

    #[test]
    fn a_wrong_decide_request_names_the_field() {
        let p = decide(serde_json::json!({
            "notice_key": "PI-HAARLEM:1",
            "decision": {"kind": "municipality", "gemeentecode": "0392"},
            "decided_by": "c", "why": "w",
        }))
        .unwrap_err();
        assert_eq!(p.path, "decision.gemeentecode");
        assert!(
            p.message.contains("GM followed by four digits"),
            "{}",
            p.message
        );
        let p = decide(serde_json::json!({"notice_key": "k", "decision": {"kind": "elsewhere"}}))
            .unwrap_err();
        assert_eq!(p.path, "decision.kind");
        let r = decide(serde_json::json!({
            "notice_key": " ", "decision": {"kind": "out_of_region", "gemeentecode": "GM0394"},
            "decided_by": "", "why": "  ",
        }))
        .unwrap();
        let paths: Vec<_> = r.problems().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["notice_key", "decided_by", "why"]);
    }

    #[test]
    fn a_list_request_may_be_empty_and_its_limit_is_bounded() {
        assert_eq!(QueueListRequest::from_json(b"").unwrap().limit(), 100);
        assert_eq!(
            QueueListRequest::from_json(br#"{"limit": 5}"#)
                .unwrap()
                .limit(),
            5
        );
        assert_eq!(
            QueueListRequest::from_json(br#"{"limit": 0}"#)
                .unwrap_err()
                .path,
            "limit"
        );
        assert_eq!(
            QueueListRequest::from_json(br#"{"limit": 501}"#)
                .unwrap_err()
                .path,
            "limit"
        );
        assert_eq!(
            QueueListRequest::from_json(br#"{"page": 2}"#)
                .unwrap_err()
                .path,
            "page"
        );
    }

    #[test]
    fn requests_followed_by_anything_else_are_refused() {
        let decide = br#"{"notice_key": "PI-HAARLEM:1", "decision": {"kind": "municipality", "gemeentecode": "GM0392"}, "decided_by": "c", "why": "w"}"#;
        assert!(QueueDecideRequest::from_json(decide).is_ok());
        assert!(QueueDecideRequest::from_json(&[&decide[..], b"xyz"].concat()).is_err());
        assert!(QueueListRequest::from_json(br#"{"limit": 5} {"limit": 6}"#).is_err());
        assert!(ForwardedAckRequest::from_json(br#"{"notice_key": "k", "region": "r"}]"#).is_err());
    }

    #[test]
    fn a_decisions_request_names_one_to_a_hundred_notices() {
        let r = DecisionsRequest::from_json(br#"{"notice_keys": ["PI-HAARLEM:1"]}"#).unwrap();
        assert_eq!(r.notice_keys, ["PI-HAARLEM:1"]);
        let p = DecisionsRequest::from_json(br#"{"notice_keys": []}"#).unwrap_err();
        assert_eq!(p.path, "notice_keys");
        let many = serde_json::json!({"notice_keys": vec!["k"; MAX_DECISIONS + 1]});
        let p = DecisionsRequest::from_json(&serde_json::to_vec(&many).unwrap()).unwrap_err();
        assert_eq!(p.path, "notice_keys");
        let p = DecisionsRequest::from_json(br#"{"notice_keys": ["k", " "]}"#).unwrap_err();
        assert_eq!(p.path, "notice_keys[1]");
        let p = DecisionsRequest::from_json(br#"{"notice_keys": ["k"], "bsn": "1"}"#).unwrap_err();
        assert_eq!(p.path, "bsn");
    }

    #[test]
    fn a_reads_reason_is_one_line_of_at_most_500_characters() {
        let long = serde_json::json!({"notice_keys": ["k"], "why": "x".repeat(MAX_READ_WHY + 1)});
        let p = DecisionsRequest::from_json(&serde_json::to_vec(&long).unwrap()).unwrap_err();
        assert_eq!(p.path, "why");
        let p =
            DecisionsRequest::from_json(br#"{"notice_keys": ["k"], "why": "a\nb"}"#).unwrap_err();
        assert_eq!(p.path, "why");
        let r = QueueListRequest::from_json(br#"{"why": "Routeringswachtrij"}"#).unwrap();
        assert_eq!(r.why.as_deref(), Some("Routeringswachtrij"));
        let long = serde_json::json!({"why": "x".repeat(MAX_READ_WHY + 1)});
        let p = QueueListRequest::from_json(&serde_json::to_vec(&long).unwrap()).unwrap_err();
        assert_eq!(p.path, "why");
        let p = QueueListRequest::from_json(br#"{"why": "tab\there"}"#).unwrap_err();
        assert_eq!(p.path, "why");
    }

    #[test]
    fn a_manual_decision_serialises_its_outcome_flat() {
        let d = ManualDecision {
            notice_key: "k".into(),
            outcome: RoutingOutcome::Routed {
                gemeentecode: Gemeentecode::parse("GM0392").unwrap(),
            },
            decided_by: "c".into(),
            why: "w".into(),
            decided_at: DateTime::parse_from_rfc3339("2026-11-20T09:30:00Z")
                .unwrap()
                .with_timezone(&Utc),
            forwarded_to: None,
        };
        let v = serde_json::to_value(QueueDecideReply::Decided { decision: d }).unwrap();
        assert_eq!(v["result"], "decided");
        assert_eq!(v["decision"]["outcome"], "routed");
        assert_eq!(v["decision"]["gemeentecode"], "GM0392");
    }
}
