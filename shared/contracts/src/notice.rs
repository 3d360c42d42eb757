//! The release notice, v1: what a detention institution (PI) tells the RCN about a detainee.
//!
//! Parsing is two-staged so a sender learns what is wrong in words: [`ReleaseNotice::from_json`]
//! first checks the structure (and the self-validating value types) and names the JSON path of
//! the first structural problem; then [`ReleaseNotice::problems`] lists every rule the content
//! breaks (dates in order, lengths, what each kind must carry).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::condition::{Condition, ConditionStatus};
use crate::value::{Bsn, Gemeentecode, Postcode};

/// The longest remarks a notice may carry, in characters.
pub const MAX_REMARKS: usize = 2000;

// The limits the content rules check, in characters. The published schemas carry the same
// numbers (the `schemars` attributes below name these constants), so a sender that follows the
// schema is never refused for a length or a character the schema allowed.
pub const NOTICE_ID_MAX: usize = 100;
/// What a notice id may contain: letters, digits and `- _ . :` (also in a URL path, as is).
pub const NOTICE_ID_PATTERN: &str = "^[A-Za-z0-9_.:-]+$";
pub const INSTITUTION_CODE_MAX: usize = 32;
pub const INSTITUTION_CODE_PATTERN: &str = "^[A-Za-z0-9_-]+$";
pub const INSTITUTION_NAME_MAX: usize = 200;
pub const CONTACT_NAME_MAX: usize = 200;
pub const PHONE_MAX: usize = 32;
pub const EMAIL_MIN: usize = 3;
pub const EMAIL_MAX: usize = 254;
pub const FAMILY_NAME_MAX: usize = 200;
pub const NAME_PREFIX_MAX: usize = 20;
pub const GIVEN_NAMES_MAX: usize = 200;
pub const ADDITION_MAX: usize = 4;
pub const CITY_MAX: usize = 80;
pub const NOTE_MAX: usize = 2000;
pub const HOUSE_NUMBER_MAX: u32 = 99_999;

/// Whether `id` is a well-formed notice id: 1 to [`NOTICE_ID_MAX`] letters, digits and `- _ . :`.
pub fn is_valid_notice_id(id: &str) -> bool {
    (1..=NOTICE_ID_MAX).contains(&id.chars().count())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
}

/// A release notice as sent by a detention institution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "ReleaseNotice",
    description = "A release notice (v1) from a detention institution to the RCN",
    transform = release_kinds_need_a_release_date
)]
pub struct ReleaseNotice {
    /// The sender's own unique id for this notice; a resend with the same id is the same notice.
    #[schemars(length(min = 1, max = NOTICE_ID_MAX), regex(pattern = NOTICE_ID_PATTERN))]
    pub notice_id: String,
    pub kind: NoticeKind,
    /// When the institution sent it; not later than tomorrow.
    pub sent_at: DateTime<Utc>,
    pub sender: Sender,
    pub person: Person,
    pub detention: Detention,
    /// The institution's screening of the five conditions; missing ones are `unknown`.
    #[serde(default)]
    pub conditions: Screening,
    /// Each flag at most once.
    #[serde(default)]
    #[schemars(extend("uniqueItems" = true))]
    pub risk_flags: Vec<RiskFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_REMARKS))]
    pub remarks: Option<String>,
}

/// What the notice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    DetentionStarted,
    Update,
    ReleasePlanned,
    ReleaseDateChanged,
    ReleasedUnexpectedly,
    Transferred,
    Cancelled,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 7] = [
        NoticeKind::DetentionStarted,
        NoticeKind::Update,
        NoticeKind::ReleasePlanned,
        NoticeKind::ReleaseDateChanged,
        NoticeKind::ReleasedUnexpectedly,
        NoticeKind::Transferred,
        NoticeKind::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::DetentionStarted => "detention_started",
            NoticeKind::Update => "update",
            NoticeKind::ReleasePlanned => "release_planned",
            NoticeKind::ReleaseDateChanged => "release_date_changed",
            NoticeKind::ReleasedUnexpectedly => "released_unexpectedly",
            NoticeKind::Transferred => "transferred",
            NoticeKind::Cancelled => "cancelled",
        }
    }

    /// Kinds that are about the release itself and so must say when it is (or was).
    pub fn needs_release_date(self) -> bool {
        matches!(
            self,
            NoticeKind::ReleasePlanned
                | NoticeKind::ReleaseDateChanged
                | NoticeKind::ReleasedUnexpectedly
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    /// The institution's code as registered with the RCN, e.g. `PI-HAARLEM`.
    #[schemars(
        length(min = 1, max = INSTITUTION_CODE_MAX),
        regex(pattern = INSTITUTION_CODE_PATTERN)
    )]
    pub institution_code: String,
    #[schemars(length(min = 1, max = INSTITUTION_NAME_MAX))]
    pub institution_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// The casemanager or desk the municipality can call about this person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[schemars(length(min = 1, max = CONTACT_NAME_MAX))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = PHONE_MAX))]
    pub phone: Option<String>,
    /// Checked only for an `@`: the institution's mail system knows its addresses best.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = EMAIL_MIN, max = EMAIL_MAX), regex(pattern = "@"))]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub bsn: Bsn,
    #[schemars(length(min = 1, max = FAMILY_NAME_MAX))]
    pub family_name: String,
    /// Tussenvoegsel, e.g. `van der`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = NAME_PREFIX_MAX))]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = GIVEN_NAMES_MAX))]
    pub given_names: Option<String>,
    /// Not before 1900, not in the future, and at least 12 years before `detention.started_on`.
    pub date_of_birth: NaiveDate,
    /// The municipality of BRP registration (woonadres or briefadres) before detention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brp_municipality: Option<Gemeentecode>,
    /// The last known address before detention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Zonder vaste woon- of verblijfplaats.
    #[serde(default)]
    pub no_fixed_abode: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub postcode: Postcode,
    #[schemars(range(min = 1, max = HOUSE_NUMBER_MAX))]
    pub house_number: u32,
    /// Huisletter: one letter, e.g. `A`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1), regex(pattern = "^[A-Za-z]$"))]
    pub house_letter: Option<String>,
    /// Huisnummertoevoeging, e.g. `bis` or `2hg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = ADDITION_MAX))]
    pub addition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = CITY_MAX))]
    pub city: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Detention {
    /// Not before 1950 and not later than tomorrow.
    pub started_on: NaiveDate,
    /// Expected (or, for `released_unexpectedly`, actual) release date; unknown at first for some,
    /// required for `release_planned`, `release_date_changed` and `released_unexpectedly`. Not
    /// before `started_on`, and less than 30 years from today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_release_on: Option<NaiveDate>,
    #[serde(default)]
    pub release_date_firm: bool,
    pub title: DetentionTitle,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_type: Option<ReleaseType>,
}

/// The legal title of detention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DetentionTitle {
    Pretrial,
    Sentence,
    Isd,
    Substitute,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseType {
    EndOfSentence,
    Conditional,
    PretrialSuspended,
    Other,
}

/// The institution's screening: one entry per condition, each optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Screening {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ScreenedCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub housing: Option<ScreenedCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income: Option<ScreenedCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debts: Option<ScreenedCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care: Option<ScreenedCondition>,
}

impl Screening {
    /// The screened entry for one condition, if the institution gave one.
    pub fn get(&self, condition: Condition) -> Option<&ScreenedCondition> {
        match condition {
            Condition::Id => self.id.as_ref(),
            Condition::Housing => self.housing.as_ref(),
            Condition::Income => self.income.as_ref(),
            Condition::Debts => self.debts.as_ref(),
            Condition::Care => self.care.as_ref(),
            Condition::SocialNetwork => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenedCondition {
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = NOTE_MAX))]
    pub note: Option<String>,
}

/// Risk flags that make a case a candidate for procesregie (ICO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(clippy::upper_case_acronyms)]
pub enum RiskFlag {
    #[serde(rename = "BIJ")]
    BIJ,
    #[serde(rename = "TBS")]
    TBS,
    #[serde(rename = "PIJ")]
    PIJ,
    SexualOffence,
    Terrorism,
    Radicalisation,
    ConfusedBehaviourHighRisk,
    TopX,
    #[serde(rename = "ISD")]
    ISD,
    DomesticViolence,
    HighRecidivism,
    #[serde(rename = "LVB")]
    LVB,
}

/// One thing wrong with a submitted notice: where (a JSON path such as `person.bsn`) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// Where the problem is, as a dotted JSON path (`person.address.postcode`); empty for the
    /// document as a whole.
    pub path: String,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl ReleaseNotice {
    /// Parses a notice from JSON bytes. On failure the single problem names the JSON path of the
    /// first structural error (wrong type, missing field, unknown field, invalid BSN, …).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        crate::json::decode(bytes, "a release notice")
    }

    /// Every content rule this notice breaks, judged on `today`; empty when it is acceptable.
    pub fn problems(&self, today: NaiveDate) -> Vec<Problem> {
        let mut p = Vec::new();
        let mut check_len = |path: &str, value: &str, min: usize, max: usize| {
            let n = value.chars().count();
            if n < min {
                p.push(Problem::new(path, "must not be empty"));
            } else if n > max {
                p.push(Problem::new(
                    path,
                    format!("is too long: {n} characters, at most {max} allowed"),
                ));
            }
        };
        check_len("notice_id", &self.notice_id, 1, NOTICE_ID_MAX);
        check_len(
            "sender.institution_code",
            &self.sender.institution_code,
            1,
            INSTITUTION_CODE_MAX,
        );
        check_len(
            "sender.institution_name",
            &self.sender.institution_name,
            1,
            INSTITUTION_NAME_MAX,
        );
        if let Some(c) = &self.sender.contact {
            check_len("sender.contact.name", &c.name, 1, CONTACT_NAME_MAX);
            if let Some(phone) = &c.phone {
                check_len("sender.contact.phone", phone, 1, PHONE_MAX);
            }
            if let Some(email) = &c.email {
                check_len("sender.contact.email", email, EMAIL_MIN, EMAIL_MAX);
            }
        }
        check_len(
            "person.family_name",
            &self.person.family_name,
            1,
            FAMILY_NAME_MAX,
        );
        if let Some(v) = &self.person.name_prefix {
            check_len("person.name_prefix", v, 0, NAME_PREFIX_MAX);
        }
        if let Some(v) = &self.person.given_names {
            check_len("person.given_names", v, 0, GIVEN_NAMES_MAX);
        }
        if let Some(a) = &self.person.address {
            if let Some(v) = &a.house_letter {
                check_len("person.address.house_letter", v, 1, 1);
            }
            if let Some(v) = &a.addition {
                check_len("person.address.addition", v, 1, ADDITION_MAX);
            }
            if let Some(v) = &a.city {
                check_len("person.address.city", v, 1, CITY_MAX);
            }
        }
        if let Some(r) = &self.remarks {
            check_len("remarks", r, 0, MAX_REMARKS);
        }
        for (condition, entry) in Condition::DEFAULT
            .iter()
            .filter_map(|c| Some((c, self.conditions.get(*c)?)))
        {
            if let Some(note) = &entry.note {
                check_len(
                    &format!("conditions.{}.note", condition.as_str()),
                    note,
                    0,
                    NOTE_MAX,
                );
            }
        }

        if !self
            .notice_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        {
            p.push(Problem::new(
                "notice_id",
                "may only contain letters, digits and - _ . :",
            ));
        }
        if !self
            .sender
            .institution_code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            p.push(Problem::new(
                "sender.institution_code",
                "may only contain letters, digits, - and _",
            ));
        }
        if let Some(email) = self.sender.contact.as_ref().and_then(|c| c.email.as_ref())
            && !email.contains('@')
        {
            p.push(Problem::new(
                "sender.contact.email",
                "is not an e-mail address",
            ));
        }
        if let Some(a) = &self.person.address {
            if !(1..=HOUSE_NUMBER_MAX).contains(&a.house_number) {
                p.push(Problem::new(
                    "person.address.house_number",
                    "must be between 1 and 99999",
                ));
            }
            if a.house_letter
                .as_deref()
                .is_some_and(|l| !l.chars().all(|c| c.is_ascii_alphabetic()))
            {
                p.push(Problem::new(
                    "person.address.house_letter",
                    "must be a single letter",
                ));
            }
        }

        let dob = self.person.date_of_birth;
        let d = &self.detention;
        if dob.year() < 1900 {
            p.push(Problem::new("person.date_of_birth", "lies before 1900"));
        } else if dob > today {
            p.push(Problem::new("person.date_of_birth", "lies in the future"));
        } else if years_between(dob, d.started_on) < 12 {
            p.push(Problem::new(
                "person.date_of_birth",
                "makes the person younger than 12 at the start of detention",
            ));
        }
        if d.started_on.year() < 1950 {
            p.push(Problem::new("detention.started_on", "lies before 1950"));
        } else if d.started_on > today + chrono::Days::new(1) {
            p.push(Problem::new("detention.started_on", "lies in the future"));
        }
        if let Some(release) = d.expected_release_on {
            if release < d.started_on {
                p.push(Problem::new(
                    "detention.expected_release_on",
                    "lies before detention.started_on",
                ));
            } else if years_between(today, release) >= 30 {
                p.push(Problem::new(
                    "detention.expected_release_on",
                    "lies 30 years or more from today",
                ));
            }
        } else if self.kind.needs_release_date() {
            p.push(Problem::new(
                "detention.expected_release_on",
                format!("is required for a {} notice", self.kind.as_str()),
            ));
        }
        if self.sent_at.date_naive() > today + chrono::Days::new(1) {
            p.push(Problem::new("sent_at", "lies in the future"));
        }
        // Judged on the day the notice was sent: a municipality that merged since is still
        // accepted (the router follows it to its successor), a code CBS never gave is not.
        if let Some(code) = &self.person.brp_municipality
            && let Some(why) = crate::municipality::refusal(code, self.sent_at.date_naive())
        {
            p.push(Problem::new("person.brp_municipality", why));
        }
        let mut seen = Vec::new();
        for (i, flag) in self.risk_flags.iter().enumerate() {
            if seen.contains(flag) {
                p.push(Problem::new(format!("risk_flags[{i}]"), "appears twice"));
            }
            seen.push(*flag);
        }
        p
    }

    /// The key that identifies this notice across the system: the sender's code and its notice id.
    /// Used as `Nats-Msg-Id`, so a resend within the duplicate window is accepted once.
    pub fn notice_key(&self) -> String {
        format!("{}:{}", self.sender.institution_code, self.notice_id)
    }

    /// A digest of the notice's content, so a resend can be told apart from a different notice
    /// sent under the same id. Formatting and key order of the sender's JSON do not matter.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let canonical = serde_json::to_vec(self).expect("a notice serialises");
        hex::encode(Sha256::digest(canonical))
    }
}

/// The schema's version of [`NoticeKind::needs_release_date`]: those kinds require
/// `detention.expected_release_on`.
fn release_kinds_need_a_release_date(schema: &mut schemars::Schema) {
    let kinds: Vec<&str> = NoticeKind::ALL
        .into_iter()
        .filter(|k| k.needs_release_date())
        .map(NoticeKind::as_str)
        .collect();
    schema.insert(
        "if".into(),
        serde_json::json!({"properties": {"kind": {"enum": kinds}}, "required": ["kind"]}),
    );
    schema.insert(
        "then".into(),
        serde_json::json!({"properties": {"detention": {
            "required": ["expected_release_on"],
            "properties": {"expected_release_on": {"type": "string", "format": "date"}}
        }}}),
    );
}

fn years_between(from: NaiveDate, to: NaiveDate) -> i32 {
    let mut years = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> serde_json::Value {
        serde_json::json!({
            "notice_id": "PIH-2026-0001",
            "kind": "release_planned",
            "sent_at": "2026-11-20T09:30:00Z",
            "sender": {"institution_code": "PI-HAARLEM", "institution_name": "PI Haarlem",
                       "contact": {"name": "J. de Vries", "phone": "023-5555555", "email": "cm@pi.example"}},
            "person": {"bsn": "123456782", "family_name": "Jansen", "given_names": "Piet",
                       "date_of_birth": "1990-04-01", "brp_municipality": "GM0392",
                       "address": {"postcode": "2011 AB", "house_number": 12}},
            "detention": {"started_on": "2026-09-01", "expected_release_on": "2026-12-15",
                          "release_date_firm": true, "title": "sentence", "release_type": "end_of_sentence"},
            "conditions": {"id": {"status": "arranged"}, "housing": {"status": "needs_action", "note": "geen woning"}},
            "risk_flags": ["LVB"],
            "remarks": "Meldt zich na vrijlating bij het wijkteam."
        })
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn parse(v: &serde_json::Value) -> Result<ReleaseNotice, Problem> {
        ReleaseNotice::from_json(&serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn a_complete_notice_parses_and_has_no_problems() {
        let n = parse(&sample()).unwrap();
        assert_eq!(n.problems(today()), vec![]);
        assert_eq!(
            n.person.address.as_ref().unwrap().postcode.as_str(),
            "2011AB"
        );
        assert_eq!(
            n.conditions.get(Condition::Housing).unwrap().status,
            ConditionStatus::NeedsAction
        );
        assert_eq!(n.notice_key(), "PI-HAARLEM:PIH-2026-0001");
    }

    #[test]
    fn an_invalid_bsn_is_named_by_its_path() {
        let mut v = sample();
        v["person"]["bsn"] = "111222334".into();
        let p = parse(&v).unwrap_err();
        assert_eq!(p.path, "person.bsn");
        assert!(p.message.contains("11-proef"), "{}", p.message);
    }

    #[test]
    fn structural_errors_name_the_field() {
        let mut v = sample();
        v["person"].as_object_mut().unwrap().remove("family_name");
        let p = parse(&v).unwrap_err();
        assert_eq!(
            (p.path.as_str(), p.message.as_str()),
            ("person", "the field `family_name` is required")
        );

        let mut v = sample();
        v["kind"] = "released".into();
        let p = parse(&v).unwrap_err();
        assert_eq!(p.path, "kind");
        assert!(
            p.message.starts_with("unknown value `released`"),
            "{}",
            p.message
        );

        let mut v = sample();
        v["detention"]["colour"] = "red".into();
        let p = parse(&v).unwrap_err();
        assert_eq!(p.path, "detention.colour");
        assert_eq!(
            p.message,
            "the field `colour` is not part of the release notice"
        );

        let mut v = sample();
        v["person"]["address"]["postcode"] = "20111".into();
        assert_eq!(parse(&v).unwrap_err().path, "person.address.postcode");

        assert_eq!(
            ReleaseNotice::from_json(b"").unwrap_err().message,
            "the request body is empty; send a release notice as JSON"
        );
        assert!(
            ReleaseNotice::from_json(b"{not json")
                .unwrap_err()
                .message
                .contains("not valid JSON")
        );
    }

    #[test]
    fn a_notice_followed_by_anything_else_is_refused() {
        let mut body = serde_json::to_vec(&sample()).unwrap();
        body.extend_from_slice(b"xyz");
        let p = ReleaseNotice::from_json(&body).unwrap_err();
        assert_eq!(p.path, "");
        assert!(
            p.message.contains("after the end of the JSON document"),
            "{}",
            p.message
        );
        let twice = [
            serde_json::to_vec(&sample()).unwrap(),
            serde_json::to_vec(&sample()).unwrap(),
        ]
        .concat();
        assert!(ReleaseNotice::from_json(&twice).is_err());
        let padded = [
            b" \n".to_vec(),
            serde_json::to_vec(&sample()).unwrap(),
            b"\r\n".to_vec(),
        ]
        .concat();
        assert!(
            ReleaseNotice::from_json(&padded).is_ok(),
            "whitespace around it is fine"
        );
    }

    #[test]
    fn content_rules_list_every_problem() {
        let mut v = sample();
        v["detention"]["expected_release_on"] = "2026-08-01".into();
        v["person"]["date_of_birth"] = "1850-01-01".into();
        v["remarks"] = "x".repeat(MAX_REMARKS + 1).into();
        let n = parse(&v).unwrap();
        let paths: Vec<_> = n.problems(today()).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "remarks",
                "person.date_of_birth",
                "detention.expected_release_on"
            ]
        );
    }

    #[test]
    fn release_kinds_require_a_release_date() {
        let mut v = sample();
        v["detention"]
            .as_object_mut()
            .unwrap()
            .remove("expected_release_on");
        v["kind"] = "detention_started".into();
        assert_eq!(parse(&v).unwrap().problems(today()), vec![]);
        v["kind"] = "release_planned".into();
        let p = parse(&v).unwrap().problems(today());
        assert_eq!(
            p,
            vec![Problem::new(
                "detention.expected_release_on",
                "is required for a release_planned notice"
            )]
        );
    }

    #[test]
    fn absurd_dates_are_refused() {
        let mut v = sample();
        v["detention"]["expected_release_on"] = "2070-01-01".into();
        assert_eq!(
            parse(&v).unwrap().problems(today())[0].path,
            "detention.expected_release_on"
        );
        let mut v = sample();
        v["detention"]["started_on"] = "2027-06-01".into();
        v["detention"]["expected_release_on"] = "2027-07-01".into();
        assert_eq!(
            parse(&v).unwrap().problems(today())[0].path,
            "detention.started_on"
        );
    }

    #[test]
    fn every_risk_flag_of_the_contract_parses() {
        let names = [
            "BIJ",
            "TBS",
            "PIJ",
            "SEXUAL_OFFENCE",
            "TERRORISM",
            "RADICALISATION",
            "CONFUSED_BEHAVIOUR_HIGH_RISK",
            "TOP_X",
            "ISD",
            "DOMESTIC_VIOLENCE",
            "HIGH_RECIDIVISM",
            "LVB",
        ];
        for name in names {
            let flag: RiskFlag =
                serde_json::from_value(name.into()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(serde_json::to_value(flag).unwrap(), name);
        }
    }

    #[test]
    fn a_gemeentecode_cbs_never_gave_is_refused_without_echoing_it() {
        let mut v = sample();
        v["person"]["brp_municipality"] = "GM9999".into();
        let p = parse(&v).unwrap().problems(today());
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "person.brp_municipality");
        assert!(p[0].message.contains("CBS list"), "{}", p[0].message);
        assert!(!p[0].message.contains("9999"), "{}", p[0].message);
    }

    #[test]
    fn a_merged_municipality_is_accepted_and_a_future_one_is_not() {
        let mut v = sample();
        // Weesp joined Amsterdam on 2022-03-24; the router routes it to Amsterdam.
        v["person"]["brp_municipality"] = "GM0457".into();
        assert_eq!(parse(&v).unwrap().problems(today()), vec![]);
        // Voorne aan Zee exists from 2023-01-01: not yet a municipality for a notice of 2022.
        v["person"]["brp_municipality"] = "GM1992".into();
        v["sent_at"] = "2022-06-01T09:00:00Z".into();
        let p = parse(&v).unwrap().problems(today());
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "person.brp_municipality");
        assert!(p[0].message.contains("2023-01-01"), "{}", p[0].message);
    }

    #[test]
    fn every_kind_round_trips() {
        for kind in NoticeKind::ALL {
            let mut v = sample();
            v["kind"] = kind.as_str().into();
            assert_eq!(parse(&v).unwrap().kind, kind);
        }
    }
}
