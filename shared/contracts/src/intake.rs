//! The intake request-reply contract on `rcn.<region>.intake.submit`: the request body is a
//! [`ReleaseNotice`](crate::ReleaseNotice) as JSON, the reply a [`SubmitReply`]. And on
//! `rcn.<region>.api.intake.status`: a sender asks what became of a notice ([`StatusRequest`],
//! answered by a [`StatusReply`]).
//!
//! Who is asking travels beside the body, never in it: the gateway puts the authenticated
//! institution in the `Rcn-Identity` header as a [`PartnerIdentity`]; a partner on its own NATS
//! account submits on `rcn.<region>.intake.submit.<institution_code>`, a subject only that account
//! may publish on.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::notice::{NoticeKind, Problem};
use crate::value::{Gemeentecode, InvalidValue};

/// What intake answers to a submitted notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SubmitReply {
    /// The notice is durably accepted (or was already): it will be routed.
    Accepted { receipt: Receipt },
    /// The notice was not accepted; nothing was kept. Every problem found is listed.
    Rejected { problems: Vec<Problem> },
    /// Intake cannot keep the notice right now; send it again later (same notice_id).
    Unavailable {
        message: String,
        retry_after_seconds: u32,
    },
    /// A different notice was already accepted under this notice_id; nothing was kept. The
    /// problem names `notice_id`. (HTTP: 409.)
    Conflict { problems: Vec<Problem> },
    /// The caller may not send this notice: it names another institution as its sender, or the
    /// caller's identity is unreadable. Nothing was kept. (HTTP: 403.)
    Forbidden { message: String },
}

/// Proof of acceptance, for the sender's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Receipt {
    pub notice_id: String,
    pub received_at: DateTime<Utc>,
    pub status: ReceiptStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Accepted now.
    Accepted,
    /// The same notice_id was accepted before; this resend changes nothing.
    AlreadyReceived,
}

/// The institution a request comes from, as the gateway authenticated it (API token) and carries
/// in the `Rcn-Identity` header. Intake checks it against the notice's `sender.institution_code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerIdentity {
    /// The institution's code as registered with the RCN, e.g. `PI-HAARLEM`.
    pub institution_code: String,
    /// Which credential authenticated the request (e.g. `token:<uuid>`), for the logs.
    pub credential: String,
}

impl PartnerIdentity {
    /// Parses and checks the `Rcn-Identity` header value of a partner request.
    pub fn from_header(value: &str) -> Result<Self, InvalidValue> {
        let identity: PartnerIdentity = serde_json::from_str(value)
            .map_err(|_| InvalidValue("the identity header is not a partner identity".into()))?;
        check_institution_code(&identity.institution_code)?;
        Ok(identity)
    }

    /// The header value for this identity.
    pub fn to_header(&self) -> String {
        serde_json::to_string(self).expect("an identity serialises")
    }
}

/// An institution code: 1 to 32 letters, digits, `-` or `_` (so it is also a valid subject token).
pub fn check_institution_code(code: &str) -> Result<(), InvalidValue> {
    let ok = !code.is_empty()
        && code.len() <= 32
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(InvalidValue(format!(
            "institution code {code:?} must be 1 to 32 letters, digits, - or _"
        )))
    }
}

/// Request on `rcn.<region>.api.intake.status`: what became of one of the caller's notices. The
/// institution comes from the caller's identity, never from the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The sender's own notice id.
    pub notice_id: String,
}

/// Intake's answer to a [`StatusRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum StatusReply {
    Found {
        status: NoticeStatus,
    },
    /// No notice of the caller's institution has this id (or it is not recorded yet).
    NotFound,
    /// The request carried no readable partner identity or was malformed.
    Refused {
        message: String,
    },
    Unavailable {
        message: String,
        retry_after_seconds: u32,
    },
}

/// What became of a notice, as far as the sender needs to know: no personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NoticeStatus {
    pub notice_id: String,
    pub kind: NoticeKind,
    /// When intake accepted the notice (as in its receipt).
    pub received_at: DateTime<Utc>,
    pub status: NoticeState,
    /// The responsible municipality when routed, or the municipality outside the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    /// When the router decided (absent while the notice is only accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// Accepted; the router has not decided yet.
    Accepted,
    /// Routed to a municipality of this region (`gemeentecode`).
    Routed,
    /// The municipality lies outside this region (`gemeentecode`); forwarded to that region.
    OutOfRegion,
    /// No rule could decide: waiting in the RCN's manual routing queue.
    AwaitingManualRouting,
}

impl NoticeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeState::Accepted => "accepted",
            NoticeState::Routed => "routed",
            NoticeState::OutOfRegion => "out_of_region",
            NoticeState::AwaitingManualRouting => "awaiting_manual_routing",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partner_identity_round_trips_through_its_header() {
        let id = PartnerIdentity {
            institution_code: "PI-HAARLEM".into(),
            credential: "token:x".into(),
        };
        assert_eq!(PartnerIdentity::from_header(&id.to_header()).unwrap(), id);
        assert!(
            PartnerIdentity::from_header(r#"{"institution_code":"PI.HAARLEM","credential":"x"}"#)
                .is_err()
        );
        assert!(
            PartnerIdentity::from_header(r#"{"user_id":"anna","role":"rcn_coordinator"}"#).is_err()
        );
        assert!(PartnerIdentity::from_header("").is_err());
    }

    #[test]
    fn replies_are_tagged_by_result() {
        let v = serde_json::to_value(SubmitReply::Forbidden {
            message: "no".into(),
        })
        .unwrap();
        assert_eq!(v["result"], "forbidden");
        let v = serde_json::to_value(SubmitReply::Conflict {
            problems: vec![Problem::new("notice_id", "taken")],
        })
        .unwrap();
        assert_eq!(v["result"], "conflict");
        assert_eq!(
            serde_json::to_value(StatusReply::NotFound).unwrap(),
            serde_json::json!({"result": "not_found"})
        );
    }
}
