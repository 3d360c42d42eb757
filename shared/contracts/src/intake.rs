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

use crate::envelope::{ApiProblem, InvalidParam, RequestBody};
use crate::notice::{NoticeKind, Problem, ReleaseNotice};
use crate::value::{Gemeentecode, InvalidValue};

/// The largest notice accepted, in bytes (the gateway enforces the same limit).
pub const MAX_NOTICE_BYTES: usize = 64 * 1024;

/// Seconds a sender is asked to wait when intake cannot answer now, unless the problem says
/// otherwise ([`RETRY_AFTER`]).
pub const DEFAULT_RETRY_AFTER_SECONDS: u32 = 30;

/// The extension member of an `unavailable` problem that says how many seconds to wait.
pub const RETRY_AFTER: &str = "retryAfterSeconds";

/// A submitted notice as intake's endpoints read it: at most [`MAX_NOTICE_BYTES`], then the
/// notice's own structural checks ([`ReleaseNotice::from_json`]).
impl RequestBody for ReleaseNotice {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        if bytes.len() > MAX_NOTICE_BYTES {
            return Err(Problem::new(
                "",
                format!(
                    "the notice is {} bytes; at most {MAX_NOTICE_BYTES} are accepted",
                    bytes.len()
                ),
            ));
        }
        ReleaseNotice::from_json(bytes)
    }
}

impl RequestBody for StatusRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        crate::json::decode(bytes, "a status request ({\"notice_id\": \"…\"})")
    }
}

/// The problems of a 400 or 409 as the notice problems of [`SubmitReply`]: its `invalidParams`,
/// or its detail for the notice as a whole.
fn notice_problems(problem: ApiProblem) -> Vec<Problem> {
    if problem.invalid_params.is_empty() {
        return vec![Problem::new("", problem.detail)];
    }
    problem
        .invalid_params
        .into_iter()
        .map(|p| Problem::new(p.name, p.reason))
        .collect()
}

/// 409 with the problems that make it one (a notice_id used for another notice).
pub fn conflict(problems: Vec<Problem>) -> ApiProblem {
    let detail = match problems.as_slice() {
        [one] => format!("{}: {}", one.path, one.message),
        _ => "the notice conflicts with one accepted before".to_owned(),
    };
    ApiProblem {
        invalid_params: problems.into_iter().map(InvalidParam::from).collect(),
        ..ApiProblem::conflict(detail)
    }
}

/// 503 asking the sender to come back after `retry_after_seconds`.
pub fn unavailable(detail: impl Into<String>, retry_after_seconds: u32) -> ApiProblem {
    ApiProblem::unavailable(detail).with_extension(RETRY_AFTER, retry_after_seconds)
}

fn retry_after(problem: &ApiProblem) -> u32 {
    problem
        .extensions
        .get(RETRY_AFTER)
        .and_then(serde_json::Value::as_u64)
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(DEFAULT_RETRY_AFTER_SECONDS)
}

/// Intake's submit endpoints answer in this published partner shape rather than the kit's
/// `{"ok"|"problem"}` envelope (a compatibility choice: partners program against `result`).
/// The handler's outcome maps onto it: the receipt is `accepted`; a 400 is `rejected` and a 409
/// `conflict` (with the problems by JSON path); a 401 or 403 is `forbidden`; anything else
/// (503, a time-out, an internal error) is `unavailable`: nothing was kept, send it again.
impl From<Result<Receipt, ApiProblem>> for SubmitReply {
    fn from(outcome: Result<Receipt, ApiProblem>) -> Self {
        let problem = match outcome {
            Ok(receipt) => return SubmitReply::Accepted { receipt },
            Err(problem) => problem,
        };
        match problem.status {
            400 | 413 => SubmitReply::Rejected {
                problems: notice_problems(problem),
            },
            409 => SubmitReply::Conflict {
                problems: notice_problems(problem),
            },
            401 | 403 => SubmitReply::Forbidden {
                message: problem.detail,
            },
            _ => SubmitReply::Unavailable {
                retry_after_seconds: retry_after(&problem),
                message: problem.detail,
            },
        }
    }
}

/// The status endpoints answer in the published [`StatusReply`] shape, as [`SubmitReply`] does:
/// found; 404 is `not_found`; 503 (a time-out, an internal error) `unavailable`; any other
/// problem (no or an unreadable partner identity, a malformed request) `refused`.
impl From<Result<NoticeStatus, ApiProblem>> for StatusReply {
    fn from(outcome: Result<NoticeStatus, ApiProblem>) -> Self {
        let problem = match outcome {
            Ok(status) => return StatusReply::Found { status },
            Err(problem) => problem,
        };
        match problem.status {
            404 => StatusReply::NotFound,
            s if s >= 500 => StatusReply::Unavailable {
                retry_after_seconds: retry_after(&problem),
                message: problem.detail,
            },
            _ => StatusReply::Refused {
                message: problem.detail,
            },
        }
    }
}

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
    fn a_problem_maps_onto_the_published_partner_replies() {
        let rejected = SubmitReply::from(Err(ApiProblem::invalid(vec![Problem::new(
            "person.bsn",
            "fails the 11-proef",
        )])));
        assert_eq!(
            rejected,
            SubmitReply::Rejected {
                problems: vec![Problem::new("person.bsn", "fails the 11-proef")]
            }
        );
        let taken = vec![Problem::new("notice_id", "taken")];
        assert_eq!(
            SubmitReply::from(Err(conflict(taken.clone()))),
            SubmitReply::Conflict { problems: taken }
        );
        assert_eq!(
            SubmitReply::from(Err(ApiProblem::unauthenticated("who?"))),
            SubmitReply::Forbidden {
                message: "who?".into()
            }
        );
        assert_eq!(
            SubmitReply::from(Err(unavailable("later", 7))),
            SubmitReply::Unavailable {
                message: "later".into(),
                retry_after_seconds: 7
            }
        );
        assert!(matches!(
            SubmitReply::from(Err(ApiProblem::timed_out("slow"))),
            SubmitReply::Unavailable {
                retry_after_seconds: DEFAULT_RETRY_AFTER_SECONDS,
                ..
            }
        ));
        assert_eq!(
            StatusReply::from(Err(ApiProblem::not_found("no"))),
            StatusReply::NotFound
        );
        assert!(matches!(
            StatusReply::from(Err(ApiProblem::invalid(vec![]))),
            StatusReply::Refused { .. }
        ));
        assert!(matches!(
            StatusReply::from(Err(ApiProblem::internal("x"))),
            StatusReply::Unavailable { .. }
        ));
    }

    #[test]
    fn a_notice_over_the_limit_is_refused_before_it_is_read() {
        let big = vec![b' '; MAX_NOTICE_BYTES + 1];
        let p = <ReleaseNotice as RequestBody>::from_json(&big).unwrap_err();
        assert!(p.message.contains("at most 65536"), "{}", p.message);
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
