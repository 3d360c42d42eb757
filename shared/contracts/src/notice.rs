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

/// A release notice as sent by a detention institution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "ReleaseNotice",
    description = "A release notice (v1) from a detention institution to the RCN"
)]
pub struct ReleaseNotice {
    /// The sender's own unique id for this notice; a resend with the same id is the same notice.
    pub notice_id: String,
    pub kind: NoticeKind,
    pub sent_at: DateTime<Utc>,
    pub sender: Sender,
    pub person: Person,
    pub detention: Detention,
    /// The institution's screening of the five conditions; missing ones are `unknown`.
    #[serde(default)]
    pub conditions: Screening,
    #[serde(default)]
    pub risk_flags: Vec<RiskFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub institution_code: String,
    pub institution_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// The casemanager or desk the municipality can call about this person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub bsn: Bsn,
    pub family_name: String,
    /// Tussenvoegsel, e.g. `van der`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<String>,
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
    pub house_number: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_letter: Option<String>,
    /// Huisnummertoevoeging, e.g. `bis` or `2hg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Detention {
    pub started_on: NaiveDate,
    /// Expected (or, for `released_unexpectedly`, actual) release date; unknown at first for some.
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
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Problem::new(
                "",
                "the request body is empty; send a release notice as JSON",
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            // "." is the document itself; "?" is where serde could not tell (not JSON at all).
            let path = if path == "." || path == "?" {
                String::new()
            } else {
                path
            };
            Problem::new(path, describe_serde_error(e.inner()))
        })
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
        check_len("notice_id", &self.notice_id, 1, 100);
        check_len(
            "sender.institution_code",
            &self.sender.institution_code,
            1,
            32,
        );
        check_len(
            "sender.institution_name",
            &self.sender.institution_name,
            1,
            200,
        );
        if let Some(c) = &self.sender.contact {
            check_len("sender.contact.name", &c.name, 1, 200);
            if let Some(phone) = &c.phone {
                check_len("sender.contact.phone", phone, 1, 32);
            }
            if let Some(email) = &c.email {
                check_len("sender.contact.email", email, 3, 254);
            }
        }
        check_len("person.family_name", &self.person.family_name, 1, 200);
        if let Some(v) = &self.person.name_prefix {
            check_len("person.name_prefix", v, 0, 20);
        }
        if let Some(v) = &self.person.given_names {
            check_len("person.given_names", v, 0, 200);
        }
        if let Some(a) = &self.person.address {
            if let Some(v) = &a.house_letter {
                check_len("person.address.house_letter", v, 1, 1);
            }
            if let Some(v) = &a.addition {
                check_len("person.address.addition", v, 1, 4);
            }
            if let Some(v) = &a.city {
                check_len("person.address.city", v, 1, 80);
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
                    2000,
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
            if !(1..=99_999).contains(&a.house_number) {
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

fn years_between(from: NaiveDate, to: NaiveDate) -> i32 {
    let mut years = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years
}

/// Turns serde's message into one a sender can act on, without Rust type names.
fn describe_serde_error(e: &serde_json::Error) -> String {
    let raw = e.to_string();
    // serde_json appends " at line X column Y"; the path already says where.
    let msg = raw.split(" at line ").next().unwrap_or(&raw).to_string();
    if let Some(field) = msg.strip_prefix("missing field ") {
        return format!("the field {field} is required");
    }
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let field = rest.split(',').next().unwrap_or(rest);
        return format!("the field {field} is not part of the release notice");
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        return format!("unknown value {rest}");
    }
    if let Some(rest) = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "))
    {
        // serde quotes the value it found (`123456782`); it may be a BSN, so never echo it.
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        let kind = found.split(['`', '"']).next().unwrap_or(found).trim();
        return format!("wrong type: found {kind}, expected {expected}");
    }
    if e.is_syntax() || e.is_eof() {
        return format!("the body is not valid JSON ({raw})");
    }
    msg
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
