//! The casework request-reply API the gateway calls: the inbox, claiming, handing over and
//! working condition tasks, closing cases. One subject per verb,
//! `rcn.<region>.api.casework.<verb>` (see [`crate::Subjects::casework_api`]); the caller's
//! [`crate::identity::Identity`] travels in the `Rcn-Identity` header, never in the body.
//!
//! Every reply is the endpoint kit's envelope ([`crate::envelope::ApiReply`]): `{"ok": …}` or
//! `{"problem": {type, title, status, detail, invalidParams}}`, the problem's `type` one of
//! [`ErrorCode`]'s (stable: clients branch on it); `detail` is an English sentence for a person
//! and never carries a database error. A BSN appears masked (`*****6782`), except in the [`CaseDetail`] that the
//! staff of the case's own municipality open (they need the number; each such read is logged).

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::condition::{Condition, ConditionStatus};
use crate::envelope::{ApiProblem, RequestBody};
use crate::notice::{NoticeKind, Problem, RiskFlag};
use crate::value::Gemeentecode;

/// The verbs of the casework API; each is the last segment of its subject.
pub const VERBS: [&str; 15] = [
    "inbox",
    "case",
    "claim",
    "claim_case",
    "claim_many",
    "unclaim",
    "handover",
    "reassign",
    "update_status",
    "close_case",
    "task_history",
    crate::privacy_api::WHO_SAW_VERB,
    OPEN_EPISODES_VERB,
    crate::retention::RETENTION_LOG_VERB,
    crate::privacy_export::EXPORT_VERB,
];

/// The verb intake's and the router's retention jobs ask casework on (another service, no
/// person): which of these episodes have a case that is still open? A notice linked to an open
/// case is kept past its months (DOMAIN.md, "Privacy").
pub const OPEN_EPISODES_VERB: &str = "open_episodes";

/// The most episode keys one `open_episodes` request may name.
pub const MAX_OPEN_EPISODES_ASKED: usize = 1_000;

/// Which of these episodes (episode pseudonyms, never a BSN) have an open case?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenEpisodesRequest {
    /// At most [`MAX_OPEN_EPISODES_ASKED`].
    pub episode_keys: Vec<String>,
}

impl RequestBody for OpenEpisodesRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        let request: Self = decode_request(bytes)?;
        if request.episode_keys.len() > MAX_OPEN_EPISODES_ASKED {
            return Err(Problem::new(
                "/episode_keys",
                format!("ask about {MAX_OPEN_EPISODES_ASKED} episodes at most"),
            ));
        }
        Ok(request)
    }
}

/// The asked episodes whose case is open now; the others have no case here or a closed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OpenEpisodesReply {
    pub open: Vec<String>,
}

/// The largest request body a casework verb reads, in bytes.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// Reads a casework request: at most [`MAX_REQUEST_BYTES`], one JSON document (the shared
/// decoder names the JSON path of a problem and never repeats a value); an empty body reads as
/// `{}`.
fn decode_request<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(Problem::new(
            "",
            format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
        ));
    }
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    crate::json::decode(bytes, "a casework request")
}

macro_rules! request_bodies {
    ($($t:ty),* $(,)?) => {$(
        impl RequestBody for $t {
            fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
                decode_request(bytes)
            }
        }
    )*};
}

request_bodies!(
    InboxQuery,
    CaseRequest,
    TaskRequest,
    TaskHistoryRequest,
    HandoverRequest,
    ClaimCaseRequest,
    ClaimManyRequest,
    ReassignRequest,
    UpdateStatusRequest,
    CloseCaseRequest,
);

/// The kinds of problem casework answers with, each a problem `type`
/// (`urn:rcn:problem:<slug>`) with one title and one HTTP status: the generic kinds of the
/// envelope (`invalid-request`, `not-found`, …) and casework's own (`claimed-by-other`, …).
/// Clients branch on [`ErrorCode::of`]; the `detail` is an English sentence for a person and
/// never carries a database error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No identity, or one that does not parse.
    Unauthenticated,
    /// The caller's role may not do this.
    Forbidden,
    /// The request body is malformed or breaks a rule of its own.
    BadRequest,
    /// No such case or task, or not one the caller may see.
    NotFound,
    /// Someone else holds the task (`heldBy` says who).
    ClaimedByOther,
    /// The caller does not hold the task (for unclaim and handover; `heldBy` says who does).
    NotClaimedByYou,
    /// For reassign: the task is no longer held by whom the caller expected (`heldBy`: by whom).
    HolderChanged,
    /// The task is arranged or not applicable; it cannot be claimed.
    TaskDone,
    /// The status change is not allowed from the current status.
    InvalidTransition,
    /// `not_applicable` needs a reason.
    ReasonRequired,
    /// Reopening a finished task, or closing a case for reason `other`, needs a note.
    NoteRequired,
    /// The task already has that status.
    NoChange,
    /// The case is closed; nothing in it changes any more.
    CaseClosed,
    /// A dependency is down, or the request collided with others; try again shortly.
    Unavailable,
    /// Something unexpected; it has been logged.
    Internal,
}

/// The extension member of a problem that names who holds the task (a user id), on
/// `claimed-by-other`, `not-claimed-by-you` and `holder-changed`.
pub const HELD_BY: &str = "heldBy";

impl ErrorCode {
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::BadRequest,
        ErrorCode::NotFound,
        ErrorCode::ClaimedByOther,
        ErrorCode::NotClaimedByYou,
        ErrorCode::HolderChanged,
        ErrorCode::TaskDone,
        ErrorCode::InvalidTransition,
        ErrorCode::ReasonRequired,
        ErrorCode::NoteRequired,
        ErrorCode::NoChange,
        ErrorCode::CaseClosed,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The problem type's last segment, its title and its HTTP status. The generic kinds say
    /// what the envelope's constructors say ([`ApiProblem::invalid`] and the others).
    fn parts(self) -> (&'static str, &'static str, u16) {
        match self {
            ErrorCode::Unauthenticated => ("unauthenticated", "Unauthenticated", 401),
            ErrorCode::Forbidden => ("forbidden", "Forbidden", 403),
            ErrorCode::BadRequest => ("invalid-request", "Invalid request", 400),
            ErrorCode::NotFound => ("not-found", "Not found", 404),
            ErrorCode::ClaimedByOther => ("claimed-by-other", "Task held by someone else", 409),
            ErrorCode::NotClaimedByYou => ("not-claimed-by-you", "Task not held by you", 409),
            ErrorCode::HolderChanged => ("holder-changed", "Task holder changed", 409),
            ErrorCode::TaskDone => ("task-done", "Task finished", 409),
            ErrorCode::InvalidTransition => {
                ("invalid-transition", "Status change not allowed", 409)
            }
            ErrorCode::ReasonRequired => ("reason-required", "Reason required", 400),
            ErrorCode::NoteRequired => ("note-required", "Note required", 400),
            ErrorCode::NoChange => ("no-change", "No change", 409),
            ErrorCode::CaseClosed => ("case-closed", "Case closed", 409),
            ErrorCode::Unavailable => ("unavailable", "Service unavailable", 503),
            ErrorCode::Internal => ("internal", "Internal error", 500),
        }
    }

    /// The problem's `type` URN.
    pub fn type_uri(self) -> String {
        format!("urn:rcn:problem:{}", self.parts().0)
    }

    /// The HTTP status the gateway answers with.
    pub fn status(self) -> u16 {
        self.parts().2
    }

    /// A problem of this kind, `detail` being the sentence for a person.
    pub fn problem(self, detail: impl Into<String>) -> ApiProblem {
        let (kind, title, status) = self.parts();
        ApiProblem::new(kind, title, status, detail)
    }

    /// The kind of `problem`, when it is one casework answers with.
    pub fn of(problem: &ApiProblem) -> Option<Self> {
        Self::ALL.into_iter().find(|c| problem.kind == c.type_uri())
    }
}

/// Who holds the task a problem is about ([`HELD_BY`]).
pub fn held_by(problem: &ApiProblem) -> Option<&str> {
    problem.extension_str(HELD_BY)
}

/// One condition task: the condition of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct TaskRef {
    pub case_id: Uuid,
    pub condition: Condition,
}

/// Which tasks an inbox shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxScope {
    /// Tasks the caller holds.
    #[default]
    Mine,
    /// Tasks nobody holds, in the caller's municipality.
    Unclaimed,
    /// Every task of the caller's municipality (the region for the RCN).
    All,
}

/// `inbox`: a page of tasks, most urgent first (spoed, then due date, then release date).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    #[serde(default)]
    pub scope: InboxScope,
    /// Only these conditions (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Only these statuses; when empty, the open ones (unknown, needs_action, in_progress).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<ConditionStatus>,
    /// Only cases released today or within this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_within_days: Option<u32>,
    /// Only spoed (`true`) or only non-spoed (`false`) tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoed: Option<bool>,
    /// Only overdue (`true`) or only not overdue (`false`) tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
    /// For region-wide roles: one municipality. Municipal staff always see their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    /// 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// At most [`MAX_PAGE_SIZE`]; [`DEFAULT_PAGE_SIZE`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Why the caller lists these tasks (the portal names its page, e.g. "Werkvoorraad van de
    /// gemeente"), kept with each row's read in the access log. At most [`MAX_WHY`] characters,
    /// one line ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 100;

/// A page of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    pub page: u32,
    pub page_size: u32,
    /// Tasks matching the query over all pages; counting stops at 1000, and then
    /// `total_is_lower_bound` says there are more.
    pub total: u64,
    /// `total` is a lower bound: at least that many tasks match (counting all of a large inbox
    /// would cost as much as reading it).
    #[serde(default)]
    pub total_is_lower_bound: bool,
}

/// One task in the inbox, with what a person needs to recognise the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InboxRow {
    pub case_id: Uuid,
    pub condition: Condition,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    /// The case is spoed (release within 7 days, or released unexpectedly).
    pub spoed: bool,
    pub gemeentecode: Gemeentecode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_release_on: Option<NaiveDate>,
    pub person: PersonSummary,
}

/// The person of a case as an inbox shows them: the BSN masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PersonSummary {
    pub family_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<String>,
    pub date_of_birth: NaiveDate,
    /// `*****6782`.
    pub bsn_masked: String,
}

/// A task after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskView {
    pub case_id: Uuid,
    pub condition: Condition,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
}

/// `claim`, `unclaim`: one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    pub task: TaskRef,
}

/// `task_history`: one task's changes, read (and logged) with the reason the caller gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskHistoryRequest {
    pub task: TaskRef,
    /// Why the caller reads the history (kept in the access log), e.g. "Casus bekijken". At most
    /// [`MAX_WHY`] characters, one line ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

/// `handover`: the caller gives a task they hold to a named colleague.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverRequest {
    pub task: TaskRef,
    pub to_user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `claim_case`: every open task of one case nobody else holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimCaseRequest {
    pub case_id: Uuid,
}

/// `claim_many`: several tasks at once; each succeeds or fails on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimManyRequest {
    pub tasks: Vec<TaskRef>,
}

/// `reassign`: move tasks to `to_user_id` (or to nobody), each only if it is still held by
/// `expected_holder` (`None`: unclaimed) — so a reassignment never overrides a claim the caller
/// did not see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignRequest {
    pub tasks: Vec<TaskRef>,
    #[serde(default)]
    pub expected_holder: Option<String>,
    #[serde(default)]
    pub to_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The most tasks one bulk request may name.
pub const MAX_BULK: usize = 200;

/// The outcome of a bulk request, task by task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BulkReply {
    pub results: Vec<BulkResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BulkResult {
    pub task: TaskRef,
    /// `None` when this task succeeded; otherwise why not, as a problem of [`ErrorCode`]'s kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiProblem>,
}

/// `update_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStatusRequest {
    pub task: TaskRef,
    pub status: ConditionStatus,
    /// Required when the status is `not_applicable`: why the condition does not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What was done; required when reopening an arranged or not applicable task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a case was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Every condition is done and the person is released.
    Completed,
    /// The institution cancelled the notices (a `cancelled` notice).
    Cancelled,
    /// The person lives outside the region now.
    MovedOutOfRegion,
    Deceased,
    /// The case duplicates another one.
    Duplicate,
    /// Anything else; a note says what.
    Other,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Completed => "completed",
            CloseReason::Cancelled => "cancelled",
            CloseReason::MovedOutOfRegion => "moved_out_of_region",
            CloseReason::Deceased => "deceased",
            CloseReason::Duplicate => "duplicate",
            CloseReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Completed,
            Self::Cancelled,
            Self::MovedOutOfRegion,
            Self::Deceased,
            Self::Duplicate,
            Self::Other,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// `close_case`: a person closes a case by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseCaseRequest {
    pub case_id: Uuid,
    pub reason: CloseReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The reply to `close_case`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseClosedReply {
    pub case_id: Uuid,
    pub reason: CloseReason,
    pub closed_at: DateTime<Utc>,
}

/// `task_history`: every change of one task, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskHistory {
    pub task: TaskRef,
    pub entries: Vec<HistoryEntry>,
}

/// One change of a task: who, when, from, to, and the note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// A user id, or `notice:<key>` / `system` for changes rcn made itself.
    pub by: String,
    /// `opened`, `status`, `claimed`, `unclaimed`, `handed_over`, `reassigned`, `deadline`, `urgent`.
    pub change: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_status: Option<ConditionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_status: Option<ConditionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_holder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_holder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A note was written here but the caller may not read it: notes on the care condition are
    /// health data, for whoever holds the care task and the RCN coordinator only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub note_withheld: bool,
}

/// The longest `why` a read request ([`CaseRequest`], [`InboxQuery`], [`TaskHistoryRequest`])
/// may carry, in characters: the one limit of every read ([`crate::access_log::MAX_WHY`]).
pub const MAX_WHY: usize = crate::access_log::MAX_WHY;

/// `case`: one case in full, for a person who may see it. The read is written to the access log,
/// with `why` when the caller gives a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRequest {
    pub case_id: Uuid,
    /// Why the caller opens the case (kept in the access log), e.g. "Casus bekijken". At most
    /// [`MAX_WHY`] characters, one line ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

/// Whether a case is still being worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Closed]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// The reply to `case`: one case as the caller may see it.
///
/// Municipal staff of the case's municipality get the full BSN (they arrange ID, income and care
/// with it) and no risk flags; the RCN and procesregie get the BSN masked and the risk flags. The
/// notes of the care task (health data) only for whoever holds it and the RCN coordinator (see
/// `CaseTask::note_withheld`). Casework keeps no address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseDetail {
    pub case_id: Uuid,
    pub status: CaseStatus,
    /// The case is spoed (release within 7 days, released unexpectedly, or marked spoed).
    pub spoed: bool,
    /// The municipality responsible for the aftercare.
    pub gemeentecode: Gemeentecode,
    /// The detention institution that sent the notices, e.g. `PI-HAARLEM`.
    pub institution_code: String,
    pub started_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_release_on: Option<NaiveDate>,
    /// The actual release date, when the person was released (unexpectedly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_reason: Option<CloseReason>,
    pub person: CasePerson,
    /// One per condition, in the region's order.
    pub tasks: Vec<CaseTask>,
    /// Every notice applied to the case, oldest first; what they said is not repeated here.
    pub notices: Vec<CaseNoticeRef>,
    /// Only for the RCN and procesregie; absent for municipal staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_flags: Option<Vec<RiskFlag>>,
}

/// The person of a case in the detail view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CasePerson {
    pub family_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<String>,
    pub date_of_birth: NaiveDate,
    /// The full BSN for staff of the case's municipality; `*****6782` for everyone else.
    pub bsn: String,
    /// Whether `bsn` is masked.
    pub bsn_masked: bool,
}

/// One condition task of a case in the detail view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseTask {
    pub condition: Condition,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    /// Who holds the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the condition does not apply (for `not_applicable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The task has a note or reason the caller may not read (`note` and `reason` are then
    /// absent): those of the care condition are health data, for whoever holds the care task and
    /// the RCN coordinator only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub note_withheld: bool,
}

/// A notice applied to a case: which kind and when, not its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseNoticeRef {
    /// `<institution_code>:<notice_id>`: what the router's decisions request names
    /// (`routing_api::DecisionsRequest`). Absent in replies from before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_key: Option<String>,
    pub kind: NoticeKind,
    pub sent_at: DateTime<Utc>,
    /// When intake accepted it. Absent in replies from before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_casework_problem_is_an_envelope_problem_that_names_its_kind_and_holder() {
        use crate::envelope::ApiReply;
        let err: ApiReply<TaskRequest> = ApiReply::Problem(
            ErrorCode::ClaimedByOther
                .problem("Anna holds this task")
                .with_extension(HELD_BY, "anna"),
        );
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["problem"]["type"], "urn:rcn:problem:claimed-by-other");
        assert_eq!(json["problem"]["status"], 409);
        assert_eq!(json["problem"]["heldBy"], "anna");
        let back = serde_json::from_value::<ApiReply<TaskRequest>>(json).unwrap();
        assert_eq!(back, err);
        let p = back.into_result().unwrap_err();
        assert_eq!(ErrorCode::of(&p), Some(ErrorCode::ClaimedByOther));
        assert_eq!(held_by(&p), Some("anna"));
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::of(&code.problem("x")), Some(code), "{code:?}");
        }
        // The generic kinds are the envelope's own.
        assert_eq!(
            ErrorCode::of(&ApiProblem::invalid(vec![])),
            Some(ErrorCode::BadRequest)
        );
        assert_eq!(
            ErrorCode::of(&ApiProblem::unauthenticated("x")),
            Some(ErrorCode::Unauthenticated)
        );
        assert_eq!(
            ErrorCode::of(&ApiProblem::not_found("x")),
            Some(ErrorCode::NotFound)
        );
        assert_eq!(ErrorCode::of(&ApiProblem::timed_out("x")), None);
    }

    #[test]
    fn a_casework_request_is_one_document_and_empty_reads_as_empty_object() {
        assert!(InboxQuery::from_json(b"{}").is_ok());
        assert_eq!(InboxQuery::from_json(b" ").unwrap(), InboxQuery::default());
        for body in [&b"{}xyz"[..], b"{}{}", b"{} 1"] {
            assert!(
                <InboxQuery as RequestBody>::from_json(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert!(<TaskRequest as RequestBody>::from_json(&big).is_err());
    }

    #[test]
    fn an_empty_inbox_query_means_my_open_tasks() {
        let q: InboxQuery = serde_json::from_str("{}").unwrap();
        assert_eq!(q.scope, InboxScope::Mine);
        assert!(q.statuses.is_empty() && q.page.is_none());
        assert!(serde_json::from_str::<InboxQuery>(r#"{"colour":"red"}"#).is_err());
    }

    #[test]
    fn casework_subjects_follow_the_scheme() {
        let s = crate::Region::parse("kennemerland").unwrap().subjects();
        let gm = Gemeentecode::parse("GM0392").unwrap();
        assert_eq!(
            s.casework_api("inbox"),
            "rcn.kennemerland.api.casework.inbox"
        );
        assert_eq!(
            s.task_due_soon(&gm),
            "rcn.kennemerland.casework.task_due_soon.GM0392"
        );
        assert_eq!(
            s.task_overdue(&gm),
            "rcn.kennemerland.casework.task_overdue.GM0392"
        );
        for subject in [
            s.task_assigned(&gm),
            s.task_status_changed(&gm),
            s.case_rescheduled(&gm),
            s.case_closed(&gm),
        ] {
            assert!(
                subject.starts_with("rcn.kennemerland.casework."),
                "{subject} is on the CASES stream"
            );
        }
        assert!(VERBS.iter().all(|v| !v.contains('.')));
    }

    #[test]
    fn a_case_request_names_the_case_and_nothing_about_the_caller() {
        let r: CaseRequest =
            serde_json::from_str(r#"{"case_id":"00000000-0000-0000-0000-000000000000"}"#).unwrap();
        assert_eq!(r.why, None);
        assert!(
            serde_json::from_str::<CaseRequest>(
                r#"{"case_id":"00000000-0000-0000-0000-000000000000","role":"rcn_coordinator"}"#
            )
            .is_err()
        );
        for s in [CaseStatus::Open, CaseStatus::Closed] {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn a_case_detail_without_risk_flags_leaves_them_out() {
        let detail = CaseDetail {
            case_id: Uuid::nil(),
            status: CaseStatus::Open,
            spoed: false,
            gemeentecode: Gemeentecode::parse("GM0392").unwrap(),
            institution_code: "PI-HAARLEM".into(),
            started_on: "2026-01-05".parse().unwrap(),
            expected_release_on: None,
            released_on: None,
            closed_at: None,
            closed_reason: None,
            person: CasePerson {
                family_name: "Jansen".into(),
                name_prefix: None,
                given_names: None,
                date_of_birth: "1990-01-01".parse().unwrap(),
                bsn: "*****6782".into(),
                bsn_masked: true,
            },
            tasks: vec![],
            notices: vec![],
            risk_flags: None,
        };
        let json = serde_json::to_value(&detail).unwrap();
        assert!(json.get("risk_flags").is_none());
        assert_eq!(json["status"], "open");
        assert_eq!(serde_json::from_value::<CaseDetail>(json).unwrap(), detail);
    }

    #[test]
    fn close_reasons_round_trip() {
        for r in [
            CloseReason::Completed,
            CloseReason::Cancelled,
            CloseReason::Other,
        ] {
            assert_eq!(CloseReason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }
}
