//! The person's right of access (AVG art. 15, issue 16): an export of everything rcn holds about
//! one BSN, asked by the privacy officer of every service that keeps personal data, each on
//! `rcn.<region>.api.<service>.privacy_export` ([`export_subjects`]). Each owning service answers
//! for its own schema only (intake: its receipts; router: its routing decisions; casework: the
//! cases with their conditions and history; procesregie: the applications and ICOs), found
//! through the person pseudonym it computes from the BSN in the request body, and logs the
//! question (who, when, why; the pseudonym, never the BSN) in the same transaction as it reads.
//! The portal and the CLI put the answers together into one [`PersonExport`] with the list of
//! [`Recipient`]s.
//!
//! The BSN travels only in a request body. This module must never put it in a subject or a log.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::casework_api::{CaseStatus, CloseReason, HistoryEntry};
use crate::events::{RoutingOutcomeKind, RoutingRule};
use crate::notice::Problem;
use crate::procesregie_api::{ApplicationView, IcoView};
use crate::value::{Bsn, Gemeentecode};
use crate::{Condition, ConditionStatus, NoticeKind, RiskFlag};

/// The verb every service that keeps personal data answers the export on.
pub const EXPORT_VERB: &str = "privacy_export";

/// The longest reason the privacy officer may give, in characters.
pub const MAX_WHY: usize = 500;

/// The version of [`PersonExport`]'s shape.
pub const EXPORT_VERSION: u32 = 1;

/// Everything rcn holds about the person with this BSN, and why it is asked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The person's BSN (9 digits, 11-proef). Travels only in this body.
    pub bsn: Bsn,
    /// Why the export is made (e.g. the date and reference of the person's request); kept in
    /// each service's log of privacy questions. 1 to [`MAX_WHY`] characters.
    #[schemars(length(min = 1, max = MAX_WHY))]
    pub why: String,
}

impl ExportRequest {
    /// The reason, trimmed; a problem when blank or too long.
    pub fn checked_why(why: &str) -> Result<String, Problem> {
        let why = why.trim();
        if why.is_empty() {
            Err(Problem::new("why", "give the reason for the export"))
        } else if why.chars().count() > MAX_WHY {
            Err(Problem::new(
                "why",
                format!("the reason may be at most {MAX_WHY} characters"),
            ))
        } else {
            Ok(why.to_owned())
        }
    }
}

impl crate::envelope::RequestBody for ExportRequest {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        let mut request: Self = crate::json::decode(bytes, "an export request")?;
        request.why = Self::checked_why(&request.why)?;
        Ok(request)
    }
}

/// The services that keep personal data, with the subject each answers the export on: the one
/// list the portal and the CLI ask.
pub fn export_subjects(subjects: &crate::Subjects) -> ExportSubjects {
    ExportSubjects {
        intake: subjects.intake_privacy_export(),
        router: subjects.router_privacy_export(),
        casework: subjects.casework_api(EXPORT_VERB),
        procesregie: subjects.procesregie_api(EXPORT_VERB),
    }
}

/// Where each service answers the export.
#[derive(Debug, Clone)]
pub struct ExportSubjects {
    pub intake: String,
    pub router: String,
    pub casework: String,
    pub procesregie: String,
}

/// Intake's part: the receipts of the notices it accepted about the person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IntakeExport {
    /// Oldest first.
    pub notices: Vec<NoticeReceipt>,
}

/// One accepted notice as intake keeps it (the notice's content is not kept by intake).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NoticeReceipt {
    /// `<institution_code>:<notice_id>`.
    pub notice_key: String,
    /// The sender's own id of the notice.
    pub notice_id: String,
    /// The detention institution that sent it.
    pub institution_code: String,
    pub kind: NoticeKind,
    pub received_at: DateTime<Utc>,
    /// The release date the notice announced (the retention clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_on: Option<NaiveDate>,
    /// What became of it, as intake heard from the router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RoutingOutcomeKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
}

/// The router's part: its decisions about the person's notices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RouterExport {
    /// Oldest first.
    pub decisions: Vec<RoutingDecisionRecord>,
}

/// Which municipality was found responsible for one notice, by which rule and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoutingDecisionRecord {
    pub notice_key: String,
    pub outcome: RoutingOutcomeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
    pub rule: RoutingRule,
    /// Why, in the router's words.
    pub reason: String,
    pub ambiguous: bool,
    /// What the decision used (the PC4, never the full address; the BRP code).
    pub inputs: serde_json::Value,
    pub decided_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// An RCN coordinator's decision by hand, when no rule could decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<ManualDecisionRecord>,
    /// The notice was forwarded to another region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<ForwardRecord>,
}

/// A decision by hand in the manual routing queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ManualDecisionRecord {
    pub outcome: RoutingOutcomeKind,
    pub gemeentecode: Gemeentecode,
    /// The coordinator (user id).
    pub decided_by: String,
    pub why: String,
    pub decided_at: DateTime<Utc>,
}

/// A notice sent on to the region serving the responsible municipality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ForwardRecord {
    pub target_region: String,
    pub gemeentecode: Gemeentecode,
    pub forwarded_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// Casework's part: the person's cases, each in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseworkExport {
    /// Oldest first.
    pub cases: Vec<CaseRecord>,
}

/// One case (one detention episode) as casework keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseRecord {
    pub case_id: Uuid,
    pub status: CaseStatus,
    /// The municipality responsible for the aftercare.
    pub gemeentecode: Gemeentecode,
    pub person: PersonRecord,
    pub institution_code: String,
    pub started_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_release_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_on: Option<NaiveDate>,
    pub spoed: bool,
    pub risk_flags: Vec<RiskFlag>,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_reason: Option<CloseReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_note: Option<String>,
    /// Every notice applied to the case, oldest first.
    pub notices: Vec<CaseNoticeRecord>,
    /// One per condition, with its history.
    pub conditions: Vec<ConditionRecord>,
    /// Changes to the case itself (opened, moved, closed, reopened …), oldest first.
    pub history: Vec<CaseHistoryRecord>,
}

/// The person as a case records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PersonRecord {
    /// The full BSN as the case keeps it: this is the person's own data.
    pub bsn: String,
    pub family_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_names: Option<String>,
    pub date_of_birth: NaiveDate,
}

/// A notice applied to a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseNoticeRecord {
    pub notice_key: String,
    pub kind: NoticeKind,
    pub sent_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// One aftercare condition of a case, with every change to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConditionRecord {
    pub condition: Condition,
    pub status: ConditionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Oldest first.
    pub history: Vec<HistoryEntry>,
}

/// One change to a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseHistoryRecord {
    pub at: DateTime<Utc>,
    /// A user id, `notice:<key>` or `system`.
    pub by: String,
    pub change: String,
    pub detail: serde_json::Value,
}

/// Procesregie's part: the person's applications and the ICOs made from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcesregieExport {
    /// Oldest first.
    pub applications: Vec<ApplicationView>,
    /// Oldest first.
    pub icos: Vec<IcoView>,
}

/// Who received the person's data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A municipality of this region, responsible for the aftercare.
    Municipality,
    /// A municipality outside the region; the notice went to that region.
    OtherRegion,
    /// A partner organisation of an application or ICO.
    Partner,
}

/// One recipient of the person's data, and through what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Recipient {
    pub kind: RecipientKind,
    /// The gemeentecode, the region's name, or the partner organisation's name.
    pub name: String,
    /// Through which records (`routing`, `case`, `application`, `ico`, `forward`), each once.
    pub through: Vec<String>,
}

/// Everything rcn holds about one person, as handed to the person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PersonExport {
    pub export_version: u32,
    pub made_at: DateTime<Utc>,
    /// The privacy officer who made it (user id).
    pub made_by: String,
    pub why: String,
    /// The person's BSN, masked (`*****6782`).
    pub bsn_masked: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake: Option<IntakeExport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router: Option<RouterExport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub casework: Option<CaseworkExport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procesregie: Option<ProcesregieExport>,
    /// Who received the person's data, from the parts above.
    pub recipients: Vec<Recipient>,
    /// Services that did not answer: their part is missing and the export is incomplete.
    pub missing: Vec<String>,
}

impl PersonExport {
    /// Whether every service answered.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// The answers put together, with the recipients they show.
#[allow(clippy::too_many_arguments)]
pub fn assemble(
    made_at: DateTime<Utc>,
    made_by: &str,
    why: &str,
    bsn: &Bsn,
    intake: Option<IntakeExport>,
    router: Option<RouterExport>,
    casework: Option<CaseworkExport>,
    procesregie: Option<ProcesregieExport>,
    missing: Vec<String>,
) -> PersonExport {
    let mut export = PersonExport {
        export_version: EXPORT_VERSION,
        made_at,
        made_by: made_by.to_owned(),
        why: why.to_owned(),
        bsn_masked: bsn.masked(),
        intake,
        router,
        casework,
        procesregie,
        recipients: Vec::new(),
        missing,
    };
    export.recipients = recipients(&export);
    export
}

/// Who received the person's data: the municipalities decisions and cases named, the regions
/// notices were forwarded to, and the partners of applications and ICOs (an ICO action's owner
/// organisation too), each once, with the kinds of record through which.
pub fn recipients(export: &PersonExport) -> Vec<Recipient> {
    let mut found: BTreeMap<(RecipientKind, String), Vec<String>> = BTreeMap::new();
    let mut add = |kind: RecipientKind, name: &str, through: &str| {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let list = found.entry((kind, name.to_owned())).or_default();
        if !list.iter().any(|t| t == through) {
            list.push(through.to_owned());
        }
    };
    if let Some(router) = &export.router {
        for d in &router.decisions {
            let kind = match d.outcome {
                RoutingOutcomeKind::OutOfRegion => RecipientKind::OtherRegion,
                _ => RecipientKind::Municipality,
            };
            if let Some(gm) = &d.gemeentecode {
                add(kind.clone(), gm.as_str(), "routing");
            }
            if let Some(m) = &d.manual {
                let kind = match m.outcome {
                    RoutingOutcomeKind::OutOfRegion => RecipientKind::OtherRegion,
                    _ => RecipientKind::Municipality,
                };
                add(kind, m.gemeentecode.as_str(), "routing");
            }
            if let Some(f) = &d.forward {
                add(RecipientKind::OtherRegion, &f.target_region, "forward");
            }
        }
    }
    if let Some(casework) = &export.casework {
        for c in &casework.cases {
            add(RecipientKind::Municipality, c.gemeentecode.as_str(), "case");
        }
    }
    if let Some(pr) = &export.procesregie {
        for a in &pr.applications {
            if let Some(gm) = &a.gemeentecode {
                add(RecipientKind::Municipality, gm.as_str(), "application");
            }
            for p in &a.partners {
                add(RecipientKind::Partner, &p.organisation, "application");
            }
        }
        for i in &pr.icos {
            for p in &i.partners {
                add(RecipientKind::Partner, &p.organisation, "ico");
            }
            for action in &i.actions {
                add(RecipientKind::Partner, &action.owner_organisation, "ico");
            }
        }
    }
    found
        .into_iter()
        .map(|((kind, name), through)| Recipient {
            kind,
            name,
            through,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::RequestBody;

    #[test]
    fn a_request_needs_a_valid_bsn_and_a_reason() {
        let ok = ExportRequest::from_json(br#"{"bsn":"123456782","why":" verzoek 12 "}"#).unwrap();
        assert_eq!(ok.why, "verzoek 12");
        let bad = ExportRequest::from_json(br#"{"bsn":"123456783","why":"x"}"#).unwrap_err();
        assert!(!format!("{bad:?}").contains("123456783"), "{bad:?}");
        let blank = ExportRequest::from_json(br#"{"bsn":"123456782","why":"  "}"#).unwrap_err();
        assert_eq!(blank.path, "why");
        let long = format!(
            r#"{{"bsn":"123456782","why":"{}"}}"#,
            "x".repeat(MAX_WHY + 1)
        );
        assert!(ExportRequest::from_json(long.as_bytes()).is_err());
        assert!(ExportRequest::from_json(br#"{"bsn":"123456782"}"#).is_err());
    }

    #[test]
    fn recipients_are_each_municipality_region_and_partner_once() {
        let gm = |c: &str| Gemeentecode::parse(c).unwrap();
        let at = DateTime::from_timestamp(0, 0).unwrap();
        let decision = |outcome, code: &str| RoutingDecisionRecord {
            notice_key: "PI:1".into(),
            outcome,
            gemeentecode: Some(gm(code)),
            rule: RoutingRule::BrpRegistration,
            reason: "r".into(),
            ambiguous: false,
            inputs: serde_json::json!({}),
            decided_at: at,
            received_at: at,
            manual: None,
            forward: None,
        };
        let bsn = Bsn::parse("123456782").unwrap();
        let export = assemble(
            at,
            "fg",
            "verzoek",
            &bsn,
            None,
            Some(RouterExport {
                decisions: vec![
                    decision(RoutingOutcomeKind::Routed, "GM0392"),
                    decision(RoutingOutcomeKind::Routed, "GM0392"),
                    decision(RoutingOutcomeKind::OutOfRegion, "GM0394"),
                ],
            }),
            None,
            None,
            vec![],
        );
        assert_eq!(
            export.recipients,
            vec![
                Recipient {
                    kind: RecipientKind::Municipality,
                    name: "GM0392".into(),
                    through: vec!["routing".into()],
                },
                Recipient {
                    kind: RecipientKind::OtherRegion,
                    name: "GM0394".into(),
                    through: vec!["routing".into()],
                },
            ]
        );
        assert_eq!(export.bsn_masked, "*****6782");
        assert!(export.complete());
    }
}
