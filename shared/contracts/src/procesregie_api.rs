//! Procesregie's request-reply contract: `rcn.<region>.api.procesregie.<verb>`, each verb with its
//! request and reply type (see [`VERBS`]), every reply in the endpoint kit's envelope
//! (`crate::envelope`: `{"ok": …}` or `{"problem": …}`).
//!
//! Procesregie (the Zorg- en Veiligheidshuis' escalation of complex cases into an individueel
//! casusoverleg, ICO): suggestions by rule, applications (aanmeldingen), the weekly triage, and
//! the ICO with its plan van aanpak. The caller is always a person (`Rcn-Identity`); who may see
//! and do what is decided by procesregie, not by the body.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::notice::Problem;
use crate::value::{Bsn, Gemeentecode};

/// Implements [`crate::envelope::RequestBody`] with the shared decoder for request types.
macro_rules! request_bodies {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl crate::envelope::RequestBody for $t {
            fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
                crate::json::decode(bytes, $what)
            }
        }
    )*};
}

/// Every verb of procesregie's API: `rcn.<region>.api.procesregie.<verb>`.
pub const VERBS: [&str; 18] = [
    "settings",
    "application_save",
    "application_get",
    "application_list",
    "triage_agenda",
    "triage_decide",
    "ico_get",
    "ico_list",
    "ico_update",
    "ico_action",
    "ico_review",
    "ico_close",
    "suggestion_list",
    "suggestion_accept",
    "suggestion_dismiss",
    crate::privacy_api::WHO_SAW_VERB,
    crate::retention::RETENTION_LOG_VERB,
    crate::privacy_export::EXPORT_VERB,
];

/// The longest free text (reason, goal, explanation, notes) accepted, in characters.
pub const MAX_TEXT: usize = 4000;
/// The longest short text (a name, an organisation, a phone number) accepted, in characters.
pub const MAX_SHORT: usize = 200;
/// The longest `why` a read request may carry, in characters: the one limit of every read of
/// personal data ([`crate::access_log::MAX_WHY`]).
pub const MAX_WHY: usize = crate::access_log::MAX_WHY;

/// A day of the week, as region settings name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DayOfWeek {
    pub const ALL: [DayOfWeek; 7] = [
        DayOfWeek::Monday,
        DayOfWeek::Tuesday,
        DayOfWeek::Wednesday,
        DayOfWeek::Thursday,
        DayOfWeek::Friday,
        DayOfWeek::Saturday,
        DayOfWeek::Sunday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DayOfWeek::Monday => "monday",
            DayOfWeek::Tuesday => "tuesday",
            DayOfWeek::Wednesday => "wednesday",
            DayOfWeek::Thursday => "thursday",
            DayOfWeek::Friday => "friday",
            DayOfWeek::Saturday => "saturday",
            DayOfWeek::Sunday => "sunday",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s.trim().to_ascii_lowercase())
    }

    /// Days after Monday: Monday 0, Sunday 6.
    pub fn days_from_monday(self) -> u32 {
        self as u32
    }
}

/// What happens when the triage day is a public holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolidayPolicy {
    /// The meeting moves to the next working day (Koningsdag on a Tuesday: Wednesday).
    #[default]
    NextWorkingDay,
    /// The meeting moves to the last working day before it.
    PreviousWorkingDay,
    /// There is no meeting that week; its applications go to the next week's.
    NextWeek,
}

impl HolidayPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            HolidayPolicy::NextWorkingDay => "next_working_day",
            HolidayPolicy::PreviousWorkingDay => "previous_working_day",
            HolidayPolicy::NextWeek => "next_week",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::NextWorkingDay,
            Self::PreviousWorkingDay,
            Self::NextWeek,
        ]
        .into_iter()
        .find(|p| p.as_str() == s.trim())
    }
}

/// The region's procesregie settings as the triage board shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SettingsView {
    /// The day of the weekly cut-off (Europe/Amsterdam): an application complete before it goes
    /// to that week's triage.
    pub cutoff_day: DayOfWeek,
    /// The time of the cut-off on that day, `HH:MM` Europe/Amsterdam.
    pub cutoff_time: String,
    /// The day of the weekly triage meeting.
    pub triage_day: DayOfWeek,
    /// What happens when the triage day is a public holiday.
    pub on_holiday: HolidayPolicy,
    /// The meeting an application completed now goes to, and its cut-off.
    pub next_meeting_on: NaiveDate,
    pub next_cutoff_at: DateTime<Utc>,
    /// The region's suggestion rules.
    pub rules: RulesView,
}

/// The thresholds of the suggestion rules; 0 means the rule is off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RulesView {
    pub risk_flags: bool,
    pub open_conditions: u32,
    pub open_conditions_days: u32,
    pub spoed_overdue: u32,
}

// ---------------------------------------------------------------------------------------------
// Applications (aanmeldingen)
// ---------------------------------------------------------------------------------------------

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Saved, not complete or not yet submitted: waits for completion.
    Draft,
    /// Complete and submitted: on the agenda of its triage meeting.
    Submitted,
    /// The triage recorded its outcome.
    Triaged,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "draft",
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Triaged => "triaged",
        }
    }
}

/// One admission criterion as the applicant answered it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Whether the criterion applies.
    #[serde(default)]
    pub met: bool,
    /// Why, in the applicant's words; required for a criterion that applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_TEXT))]
    pub explanation: Option<String>,
}

/// The admission criteria: admitted when A and B and (C or D).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Criteria {
    /// A: problems in more than one life domain, leading to crime, nuisance or decline.
    #[serde(default)]
    pub a: Criterion,
    /// B: more than one chain is needed, at least care and safety.
    #[serde(default)]
    pub b: Criterion,
    /// C: it affects the family or the social system.
    #[serde(default)]
    pub c: Criterion,
    /// D: there is a serious local safety problem.
    #[serde(default)]
    pub d: Criterion,
}

/// A partner organisation involved, and whom to call there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    #[serde(default)]
    #[schemars(length(max = MAX_SHORT))]
    pub organisation: String,
    /// The contact person at the organisation.
    #[serde(default)]
    #[schemars(length(max = MAX_SHORT))]
    pub contact: String,
    #[serde(default)]
    #[schemars(length(max = MAX_SHORT))]
    pub phone: String,
    #[serde(default)]
    #[schemars(length(max = MAX_SHORT))]
    pub email: String,
}

/// The person of an application not made from a case (someone not in casework).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StandalonePerson {
    /// When known: turned into the person's pseudonym (to find earlier referrals) and kept only
    /// masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsn: Option<Bsn>,
    #[schemars(length(min = 1, max = MAX_SHORT))]
    pub family_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_SHORT))]
    pub given_names: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
}

/// The application form: a new application, or the next version of a draft (`application_id`).
/// With `submit`, a complete application is submitted; an incomplete one is saved as a draft and
/// the reply says what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationForm {
    /// The draft to change; absent for a new application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Uuid>,
    /// The casework case it is about; absent for a person not in casework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// The person, when not from a case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<StandalonePerson>,
    /// The person's municipality, when not from a case (a case's own is used otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_TEXT))]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_TEXT))]
    pub goal: Option<String>,
    #[serde(default)]
    pub criteria: Criteria,
    #[serde(default)]
    pub partners: Vec<Partner>,
    /// Whether the person will be informed of the application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub informed: Option<bool>,
    /// Why not, when the person will not be informed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_TEXT))]
    pub not_informed_why: Option<String>,
    /// Submit it when complete (otherwise: save as a draft).
    #[serde(default)]
    pub submit: bool,
}

/// Something an application still lacks, for the form to show beside the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Missing {
    /// The form field, as a JSON path (`criteria.a.explanation`, `partners[0].phone`).
    pub field: String,
    /// What to fill in, in Dutch for the staff member.
    pub message: String,
}

/// The person as an application shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PersonView {
    pub family_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    /// `*****6782`, never the whole number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsn_masked: Option<String>,
}

/// A triage outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriageOutcome {
    /// Admitted: an ICO is opened.
    Ico,
    /// Not admitted; the triage gives advice (the text says what).
    Advice,
    /// Referred to a local table (a municipal or district case meeting).
    LocalTable,
    /// Not admitted (the reason says why).
    NotAccepted,
}

impl TriageOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TriageOutcome::Ico => "ico",
            TriageOutcome::Advice => "advice",
            TriageOutcome::LocalTable => "local_table",
            TriageOutcome::NotAccepted => "not_accepted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Ico, Self::Advice, Self::LocalTable, Self::NotAccepted]
            .into_iter()
            .find(|o| o.as_str() == s)
    }

    /// The outcome as staff read it.
    pub fn dutch(self) -> &'static str {
        match self {
            TriageOutcome::Ico => "ICO",
            TriageOutcome::Advice => "advies",
            TriageOutcome::LocalTable => "verwezen naar lokale tafel",
            TriageOutcome::NotAccepted => "niet aangenomen",
        }
    }
}

/// What the triage decided about an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeView {
    pub outcome: TriageOutcome,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
    /// The ICO opened, for outcome `ico`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ico_id: Option<Uuid>,
}

/// An earlier application about the same person (a repeat referral), found by pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EarlierReferral {
    pub application_id: Uuid,
    pub status: ApplicationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<TriageOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ico_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ico_status: Option<IcoStatus>,
}

/// An application as its readers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationView {
    pub application_id: Uuid,
    pub status: ApplicationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    /// Who applied (user id).
    pub applicant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    pub criteria: Criteria,
    pub partners: Vec<Partner>,
    /// The partners' contact person, phone and email are left blank for this caller: contact
    /// details are for the procesregisseur, the applicant and the municipality's staff.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partner_contacts_withheld: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub informed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_informed_why: Option<String>,
    /// What is still missing before it can be submitted; empty when complete.
    pub missing: Vec<Missing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
    /// The triage meeting it is (or was) on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeView>,
    /// Earlier applications about the same person, newest first.
    pub earlier: Vec<EarlierReferral>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An application in a list: enough for the triage board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationSummary {
    pub application_id: Uuid,
    pub status: ApplicationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    pub applicant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<TriageOutcome>,
    /// How many things a draft still lacks.
    pub missing: u32,
    pub updated_at: DateTime<Utc>,
}

/// Names one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRef {
    pub application_id: Uuid,
    /// Why the caller reads this (the portal names its page), kept with the read in
    /// procesregie's access log; at most [`MAX_WHY`] characters, one line
    /// ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

/// Which applications to list (the ones the caller may see); an empty body lists all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ApplicationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// Why the caller reads this (the portal names its page), kept with the read in
    /// procesregie's access log; at most [`MAX_WHY`] characters, one line
    /// ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

/// Applications, newest change first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationList {
    pub applications: Vec<ApplicationSummary>,
}

// ---------------------------------------------------------------------------------------------
// Triage
// ---------------------------------------------------------------------------------------------

/// Which meeting's agenda; absent: the next meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_on: Option<NaiveDate>,
    /// Why the caller reads this (the portal names its page), kept with the read in
    /// procesregie's access log; at most [`MAX_WHY`] characters, one line
    /// ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

/// The triage board: one meeting's agenda, its cut-off, and the drafts waiting for completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TriageAgenda {
    pub meeting_on: NaiveDate,
    /// Applications completed before this instant are on this agenda.
    pub cutoff_at: DateTime<Utc>,
    /// Submitted and triaged applications of this meeting, oldest first.
    pub applications: Vec<ApplicationSummary>,
    /// Drafts of the region waiting for completion, oldest first.
    pub drafts: Vec<ApplicationSummary>,
}

/// A procesregisseur records the triage's outcome for one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageDecision {
    pub application_id: Uuid,
    pub outcome: TriageOutcome,
    /// Why, in words; required for every outcome.
    #[schemars(length(min = 1, max = MAX_TEXT))]
    pub reason: String,
    /// The advice, required for outcome `advice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_TEXT))]
    pub advice: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// ICO
// ---------------------------------------------------------------------------------------------

/// Whether an ICO runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IcoStatus {
    Open,
    Closed,
}

impl IcoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IcoStatus::Open => "open",
            IcoStatus::Closed => "closed",
        }
    }
}

/// Why an ICO closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IcoCloseReason {
    GoalReached,
    /// Handed back to the regular chain.
    HandedBack,
    NoCooperation,
    MovedOutOfRegion,
    DetainedAgain,
    Deceased,
}

impl IcoCloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            IcoCloseReason::GoalReached => "goal_reached",
            IcoCloseReason::HandedBack => "handed_back",
            IcoCloseReason::NoCooperation => "no_cooperation",
            IcoCloseReason::MovedOutOfRegion => "moved_out_of_region",
            IcoCloseReason::DetainedAgain => "detained_again",
            IcoCloseReason::Deceased => "deceased",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::GoalReached,
            Self::HandedBack,
            Self::NoCooperation,
            Self::MovedOutOfRegion,
            Self::DetainedAgain,
            Self::Deceased,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Where an action of the plan van aanpak stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::InProgress, Self::Done, Self::Cancelled]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// The casusregisseur: the professional of a partner who owns the content of the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Casusregisseur {
    #[schemars(length(min = 1, max = MAX_SHORT))]
    pub name: String,
    #[schemars(length(min = 1, max = MAX_SHORT))]
    pub organisation: String,
    #[serde(default)]
    #[schemars(length(max = MAX_SHORT))]
    pub phone: String,
    #[serde(default)]
    #[schemars(length(max = MAX_SHORT))]
    pub email: String,
}

/// One change of an action, for its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionChange {
    pub at: DateTime<Utc>,
    pub by: String,
    pub status: ActionStatus,
    pub due_on: NaiveDate,
    pub description: String,
    pub owner_organisation: String,
}

/// An action of the plan van aanpak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionView {
    pub action_id: Uuid,
    pub owner_organisation: String,
    pub description: String,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
    /// Every version, oldest first.
    pub history: Vec<ActionChange>,
}

/// A review of the ICO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewView {
    pub review_id: Uuid,
    pub held_on: NaiveDate,
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_review_on: Option<NaiveDate>,
    pub recorded_by: String,
}

/// An individueel casusoverleg with its plan van aanpak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IcoView {
    pub ico_id: Uuid,
    pub application_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonView>,
    pub status: IcoStatus,
    /// The procesregisseur (user id) who chairs it.
    pub procesregisseur: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub casusregisseur: Option<Casusregisseur>,
    pub partners: Vec<Partner>,
    /// The casusregisseur's name, phone and email and the partners' contact person, phone and
    /// email are left blank for this caller: contact details are for the procesregisseur, the
    /// applicant and the municipality's staff.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partner_contacts_withheld: bool,
    pub goal: String,
    pub actions: Vec<ActionView>,
    /// Reviews, oldest first.
    pub reviews: Vec<ReviewView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_review_on: Option<NaiveDate>,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<IcoCloseReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_note: Option<String>,
}

/// An ICO in a list ("my ICOs").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IcoSummary {
    pub ico_id: Uuid,
    pub application_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub status: IcoStatus,
    pub procesregisseur: String,
    /// Open actions past their due date.
    pub overdue_actions: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_review_on: Option<NaiveDate>,
    pub opened_at: DateTime<Utc>,
}

/// Names one ICO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IcoRef {
    pub ico_id: Uuid,
    /// Why the caller reads this (the portal names its page), kept with the read in
    /// procesregie's access log; at most [`MAX_WHY`] characters, one line
    /// ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

/// Which ICOs to list; `mine`: the ones the caller chairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IcoQuery {
    #[serde(default)]
    pub mine: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IcoStatus>,
    /// Why the caller reads this (the portal names its page), kept with the read in
    /// procesregie's access log; at most [`MAX_WHY`] characters, one line
    /// ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

/// ICOs, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IcoList {
    pub icos: Vec<IcoSummary>,
}

/// Changes the ICO's casusregisseur, partners or goal (what is absent stays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IcoUpdate {
    pub ico_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub casusregisseur: Option<Casusregisseur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partners: Option<Vec<Partner>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_TEXT))]
    pub goal: Option<String>,
}

/// Adds an action to the plan van aanpak (no `action_id`) or changes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub ico_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<Uuid>,
    #[schemars(length(min = 1, max = MAX_SHORT))]
    pub owner_organisation: String,
    #[schemars(length(min = 1, max = MAX_TEXT))]
    pub description: String,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
}

/// Records a review of the ICO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub ico_id: Uuid,
    pub held_on: NaiveDate,
    #[schemars(length(min = 1, max = MAX_TEXT))]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_review_on: Option<NaiveDate>,
}

/// Closes an ICO with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIcoRequest {
    pub ico_id: Uuid,
    pub reason: IcoCloseReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_TEXT))]
    pub note: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Suggestions
// ---------------------------------------------------------------------------------------------

/// The rule that suggested escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionRule {
    /// The notice carried a risk flag.
    RiskFlag,
    /// Several conditions still open close to the release.
    OpenConditionsNearRelease,
    /// A condition of a spoed case is overdue.
    SpoedOverdue,
}

impl SuggestionRule {
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionRule::RiskFlag => "risk_flag",
            SuggestionRule::OpenConditionsNearRelease => "open_conditions_near_release",
            SuggestionRule::SpoedOverdue => "spoed_overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::RiskFlag,
            Self::OpenConditionsNearRelease,
            Self::SpoedOverdue,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// The rule as staff read it.
    pub fn dutch(self) -> &'static str {
        match self {
            SuggestionRule::RiskFlag => "risicosignaal in de melding",
            SuggestionRule::OpenConditionsNearRelease => {
                "meerdere voorwaarden nog open kort voor ontslag"
            }
            SuggestionRule::SpoedOverdue => "voorwaarde over tijd bij een spoedzaak",
        }
    }
}

/// Where a suggestion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionStatus {
    Open,
    /// A person accepted it: it became an application.
    Accepted,
    /// A person dismissed it, with a reason.
    Dismissed,
}

impl SuggestionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionStatus::Open => "open",
            SuggestionStatus::Accepted => "accepted",
            SuggestionStatus::Dismissed => "dismissed",
        }
    }
}

/// A suggestion to escalate a case, with the rule and what it looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SuggestionView {
    pub suggestion_id: Uuid,
    pub case_id: Uuid,
    pub gemeentecode: Gemeentecode,
    pub rule: SuggestionRule,
    /// The rule in words.
    pub rule_text: String,
    /// What the rule looked at (thresholds, counts, dates, the risk flags). Absent for
    /// municipal staff when it names risk flags: their details are for procesregie and RCN roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<serde_json::Value>,
    pub raised_at: DateTime<Utc>,
    pub status: SuggestionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dismiss_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Uuid>,
}

/// Which suggestions to list (those the caller may see); an empty body lists the open ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SuggestionStatus>,
    /// Why the caller reads this (the portal names its page), kept with the read in
    /// procesregie's access log; at most [`MAX_WHY`] characters, one line
    /// ([`crate::access_log::read_why`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_WHY))]
    pub why: Option<String>,
}

/// Suggestions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SuggestionList {
    pub suggestions: Vec<SuggestionView>,
    /// ICOs the listed cases are in (open ones), so the case can show it.
    pub icos: Vec<IcoSummary>,
}

/// Names one suggestion (to accept it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionRef {
    pub suggestion_id: Uuid,
}

/// Dismisses a suggestion, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionDismiss {
    pub suggestion_id: Uuid,
    #[schemars(length(min = 1, max = MAX_TEXT))]
    pub reason: String,
}

request_bodies!(
    ApplicationForm => "an application",
    ApplicationRef => "an application reference",
    TriageDecision => "a triage decision",
    IcoRef => "an ICO reference",
    IcoUpdate => "an ICO update",
    ActionRequest => "an action",
    ReviewRequest => "a review",
    CloseIcoRequest => "a closure",
    SuggestionRef => "a suggestion reference",
    SuggestionDismiss => "a dismissal",
);

/// Request types whose empty body means "the defaults".
macro_rules! optional_bodies {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl crate::envelope::RequestBody for $t {
            fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Ok(Self::default());
                }
                crate::json::decode(bytes, $what)
            }
        }
    )*};
}

optional_bodies!(
    ApplicationQuery => "an application query",
    AgendaQuery => "an agenda query",
    IcoQuery => "an ICO query",
    SuggestionQuery => "a suggestion query",
);
