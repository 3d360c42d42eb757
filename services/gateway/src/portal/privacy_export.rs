//! The privacy officer's *Inzageverzoek (AVG art. 15)* (`/privacy/inzage`): a BSN and the reason
//! entered in a POST form (never in a URL) are asked of every service that keeps personal data
//! (`privacy_export` on intake, router, casework and procesregie, over NATS with the officer's
//! signed identity); each answers for its own schema and logs the question with its reason. The
//! portal puts the parts together (`rcn_contracts::privacy_export::assemble`, as the CLI does)
//! and shows them as one readable Dutch document made for printing, with the same export as JSON
//! to download (a `data:` link in that answer: nothing is kept, and the export is made — and
//! logged — once).
//!
//! The portal decides nothing about who may ask: the services refuse anyone but the privacy
//! officer (the page says so first, for a plain answer).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use base64::Engine as _;
use rcn_contracts::Bsn;
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::{RoutingOutcome, RoutingOutcomeKind, RoutingRule};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_export::{
    ExportRequest, MAX_WHY, PersonExport, RecipientKind, RoutingDecisionRecord, assemble,
    export_subjects,
};
use rcn_contracts::routing_api::{ManualDecisionNote, NoticeDecision};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::portal::form;
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::procesregie::words;
use crate::portal::session::Staff;
use crate::portal::{case_routing, fmt, services, users};

const ONLY_OFFICER: &str =
    "Alleen de functionaris gegevensbescherming kan een inzageverzoek uitvoeren.";

#[derive(Template)]
#[template(path = "portal/privacy_export.html")]
struct ExportPage {
    l: Layout,
    /// What was wrong with the form, in Dutch, per field.
    bsn_error: Option<String>,
    why_error: Option<String>,
    /// The reason as entered, given back when the BSN was wrong.
    why: String,
    doc: Option<Document>,
}

/// The export in words, for the page.
pub struct Document {
    pub bsn_masked: String,
    /// When, by whom and why the export was made.
    pub meta: Vec<(String, String)>,
    pub made_at: String,
    pub made_by: String,
    pub why: String,
    pub missing: Vec<String>,
    pub people: Vec<String>,
    pub notices: Vec<Vec<String>>,
    pub decisions: Vec<Vec<String>>,
    pub cases: Vec<CaseWords>,
    pub applications: Vec<ApplicationWords>,
    pub icos: Vec<IcoWords>,
    pub recipients: Vec<Vec<String>>,
    /// `data:application/json;base64,…`: the export as JSON.
    pub json_href: String,
    pub json_name: String,
}

pub struct CaseWords {
    pub title: String,
    pub facts: Vec<(String, String)>,
    pub notices: Vec<Vec<String>>,
    pub conditions: Vec<ConditionWords>,
    pub history: Vec<Vec<String>>,
}

pub struct ConditionWords {
    pub name: String,
    pub history_caption: String,
    pub facts: Vec<(String, String)>,
    pub history: Vec<Vec<String>>,
}

pub struct ApplicationWords {
    pub title: String,
    pub facts: Vec<(String, String)>,
    pub partners: Vec<Vec<String>>,
}

pub struct IcoWords {
    pub title: String,
    pub facts: Vec<(String, String)>,
    pub partners: Vec<Vec<String>>,
    pub actions: Vec<Vec<String>>,
    pub reviews: Vec<Vec<String>>,
}

fn require_officer(staff: &Staff) -> Result<(), PortalError> {
    if staff.identity.role == Role::PrivacyOfficer {
        Ok(())
    } else {
        Err(PortalError::Forbidden(ONLY_OFFICER.into()))
    }
}

fn page_for(
    staff: &Staff,
    bsn_error: Option<String>,
    why_error: Option<String>,
    why: String,
    doc: Option<Document>,
) -> Response {
    page::render(&ExportPage {
        l: Layout::for_staff(staff, "Inzageverzoek (AVG art. 15)", "/privacy/inzage"),
        bsn_error,
        why_error,
        why,
        doc,
    })
}

/// `GET /privacy/inzage`.
pub async fn show(staff: Staff) -> Result<Response, PortalError> {
    require_officer(&staff)?;
    Ok(page_for(&staff, None, None, String::new(), None))
}

/// Asks one service for its part: the part, `None` when it could not answer now (named in
/// `missing`), or the officer's refusal.
async fn part<T: DeserializeOwned>(
    state: &AppState,
    name: &str,
    subject: String,
    who: &Identity,
    request: &ExportRequest,
) -> Result<Option<T>, PortalError> {
    let answer: Result<Result<T, ApiProblem>, PortalError> =
        services::endpoint(state, subject, who, request).await;
    match answer {
        Ok(Ok(part)) => Ok(Some(part)),
        Ok(Err(problem)) if problem.status == 403 || problem.status == 401 => {
            Err(PortalError::Forbidden(ONLY_OFFICER.into()))
        }
        Ok(Err(problem)) => {
            tracing::warn!(
                service = name,
                status = problem.status,
                "privacy export refused"
            );
            Ok(None)
        }
        Err(PortalError::Unavailable) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Asks every service for its part at once and puts them together.
pub async fn export(
    state: &AppState,
    who: &Identity,
    bsn: &Bsn,
    why: &str,
) -> Result<PersonExport, PortalError> {
    let request = ExportRequest {
        bsn: bsn.clone(),
        why: why.to_owned(),
    };
    let s = export_subjects(&state.subjects);
    let (intake, router, casework, procesregie) = tokio::join!(
        part(state, "intake", s.intake, who, &request),
        part(state, "router", s.router, who, &request),
        part(state, "casework", s.casework, who, &request),
        part(state, "procesregie", s.procesregie, who, &request),
    );
    let (intake, router, casework, procesregie) = (intake?, router?, casework?, procesregie?);
    let mut missing = Vec::new();
    for (name, answered) in [
        ("intake", intake.is_some()),
        ("router", router.is_some()),
        ("casework", casework.is_some()),
        ("procesregie", procesregie.is_some()),
    ] {
        if !answered {
            missing.push(name.to_owned());
        }
    }
    Ok(assemble(
        chrono::Utc::now(),
        &who.user_id,
        why,
        bsn,
        intake,
        router,
        casework,
        procesregie,
        missing,
    ))
}

/// `POST /privacy/inzage`: the BSN and the reason only in the body.
pub async fn export_form(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form = form::checked(&staff, &body)?;
    require_officer(&staff)?;
    let why_entered = form.get("reden").map(str::to_owned).unwrap_or_default();
    let why = ExportRequest::checked_why(&why_entered);
    let digits: String = form
        .get("bsn")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .collect();
    let bsn = if digits.is_empty() {
        Err("Vul een BSN in.".to_owned())
    } else {
        Bsn::parse(&digits).map_err(|_| {
            "Dit is geen geldig BSN: een BSN heeft 9 cijfers en voldoet aan de elfproef.".to_owned()
        })
    };
    let (bsn, why) = match (bsn, why) {
        (Ok(bsn), Ok(why)) => (bsn, why),
        (bsn, why) => {
            let why_error = why.err().map(|_| {
                if why_entered.trim().is_empty() {
                    "Vul de reden in, bijvoorbeeld de datum en het kenmerk van het verzoek.".into()
                } else {
                    format!("De reden mag hoogstens {MAX_WHY} tekens lang zijn.")
                }
            });
            return Ok(page_for(&staff, bsn.err(), why_error, why_entered, None));
        }
    };
    let export = export(&state, &staff.identity, &bsn, &why).await?;
    let names = users::display_names(&state.pool, &user_ids(&export)).await?;
    let doc = document(&export, &names)?;
    Ok(page_for(&staff, None, None, String::new(), Some(doc)))
}

/// Every user id the export names (who made it, who decided by hand, who held or changed a task
/// or a case, who applied, who runs an ICO), for their names.
fn user_ids(export: &PersonExport) -> Vec<String> {
    let mut ids = vec![export.made_by.clone()];
    if let Some(r) = &export.router {
        ids.extend(
            r.decisions
                .iter()
                .filter_map(|d| d.manual.as_ref().map(|m| m.decided_by.clone())),
        );
    }
    if let Some(cw) = &export.casework {
        for c in &cw.cases {
            ids.extend(c.history.iter().map(|h| h.by.clone()));
            for t in &c.conditions {
                ids.extend(t.claimed_by.clone());
                ids.extend(t.history.iter().flat_map(|h| {
                    [
                        Some(h.by.clone()),
                        h.from_holder.clone(),
                        h.to_holder.clone(),
                    ]
                    .into_iter()
                    .flatten()
                }));
            }
        }
    }
    if let Some(pr) = &export.procesregie {
        ids.extend(pr.applications.iter().map(|a| a.applicant.clone()));
        ids.extend(pr.icos.iter().map(|i| i.procesregisseur.clone()));
    }
    ids.sort();
    ids.dedup();
    ids
}

/// A user id as a person reads it: the name colleagues know (as the case page shows it), rcn
/// itself, or the institution's notice; an id without a portal account stays as it is.
fn person_name(names: &HashMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| match id {
        "system" => "rcn".to_owned(),
        id if id.starts_with("notice:") => "melding van de inrichting".to_owned(),
        id => id.to_owned(),
    })
}

/// A routing decision as the case page's *Ontvangen meldingen en routering* reads it, so the
/// export explains it in the same Dutch words (`case_routing::explanation`) rather than the
/// router's English: a decision by hand stands where the rules gave up.
fn as_notice_decision(d: &RoutingDecisionRecord) -> NoticeDecision {
    let (kind, code, rule) = match &d.manual {
        Some(m) => (m.outcome, Some(m.gemeentecode.clone()), RoutingRule::Manual),
        None => (d.outcome, d.gemeentecode.clone(), d.rule),
    };
    let outcome = match (kind, code) {
        (RoutingOutcomeKind::Routed, Some(gemeentecode)) => RoutingOutcome::Routed { gemeentecode },
        (RoutingOutcomeKind::OutOfRegion, Some(gemeentecode)) => {
            RoutingOutcome::OutOfRegion { gemeentecode }
        }
        _ => RoutingOutcome::Unroutable,
    };
    let named = match rule {
        RoutingRule::BrpRegistration => d.inputs["brp_municipality"].as_str(),
        RoutingRule::AddressLookup => d.inputs["address_register"]["gemeentecode"].as_str(),
        _ => None,
    };
    NoticeDecision {
        notice_key: d.notice_key.clone(),
        received_at: d.received_at,
        decided_at: d.decided_at,
        outcome,
        rule,
        ambiguous: d.ambiguous,
        reason: d.reason.clone(),
        named_municipality: named.and_then(|n| rcn_contracts::Gemeentecode::parse(n).ok()),
        pc4: d.inputs["pc4"].as_u64().and_then(|n| u16::try_from(n).ok()),
        manual: d.manual.as_ref().map(|m| ManualDecisionNote {
            decided_by: m.decided_by.clone(),
            why: m.why.clone(),
            decided_at: m.decided_at,
        }),
        forwarded_to: d.forward.as_ref().map(|f| f.target_region.clone()),
    }
}

fn outcome_words(outcome: RoutingOutcomeKind) -> &'static str {
    match outcome {
        RoutingOutcomeKind::Routed => "Doorgezet naar de gemeente",
        RoutingOutcomeKind::OutOfRegion => "Buiten de regio",
        RoutingOutcomeKind::Unroutable => "In de routeringswachtrij",
    }
}

fn gemeente(code: Option<&rcn_contracts::Gemeentecode>) -> String {
    code.map_or_else(
        || "—".to_owned(),
        |g| format!("Gemeente {}", fmt::municipality(g)),
    )
}

fn or_dash(s: Option<&str>) -> String {
    s.filter(|s| !s.trim().is_empty())
        .map_or_else(|| "—".to_owned(), str::to_owned)
}

/// The export in Dutch words, with its JSON; `names` turns user ids into the names colleagues
/// know ([`users::display_names`]).
pub fn document(
    export: &PersonExport,
    names: &HashMap<String, String>,
) -> Result<Document, PortalError> {
    let named = |id: &str| person_name(names, id);
    let json = serde_json::to_vec_pretty(export)
        .map_err(|e| PortalError::Internal(anyhow::anyhow!("the export as JSON: {e}")))?;
    let mut people: Vec<String> = Vec::new();
    let mut cases = Vec::new();
    if let Some(cw) = &export.casework {
        for c in &cw.cases {
            let p = &c.person;
            let name = [
                p.given_names.as_deref(),
                p.name_prefix.as_deref(),
                Some(p.family_name.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let person = format!("{name}, geboren {}", fmt::date(p.date_of_birth));
            if !people.contains(&person) {
                people.push(person);
            }
            let mut facts = vec![
                ("Gemeente".to_owned(), gemeente(Some(&c.gemeentecode))),
                (
                    "Status".to_owned(),
                    match c.closed_reason {
                        Some(r) => format!("Gesloten: {}", fmt::close_reason(r)),
                        None => "Open".to_owned(),
                    },
                ),
                ("Inrichting".to_owned(), c.institution_code.clone()),
                ("Detentie begonnen".to_owned(), fmt::date(c.started_on)),
                (
                    "Verwachte ontslagdatum".to_owned(),
                    fmt::opt_date(c.expected_release_on),
                ),
                ("Casus geopend".to_owned(), fmt::date_time(c.opened_at)),
            ];
            if let Some(d) = c.released_on {
                facts.push(("Ontslagen op".to_owned(), fmt::date(d)));
            }
            if let Some(t) = c.closed_at {
                facts.push(("Gesloten op".to_owned(), fmt::date_time(t)));
            }
            if let Some(n) = &c.closed_note {
                facts.push(("Toelichting bij sluiten".to_owned(), n.clone()));
            }
            facts.push((
                "Risicosignalen".to_owned(),
                if c.risk_flags.is_empty() {
                    "Geen".to_owned()
                } else {
                    c.risk_flags
                        .iter()
                        .map(|f| fmt::risk_flag(*f))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ));
            facts.push((
                "Spoed".to_owned(),
                if c.spoed { "Ja" } else { "Nee" }.to_owned(),
            ));
            cases.push(CaseWords {
                title: format!("Casus {}", c.case_id),
                facts,
                notices: c
                    .notices
                    .iter()
                    .map(|n| {
                        vec![
                            n.notice_key.clone(),
                            fmt::notice_kind(n.kind).to_owned(),
                            fmt::date_time(n.sent_at),
                            fmt::date_time(n.received_at),
                        ]
                    })
                    .collect(),
                conditions: c
                    .conditions
                    .iter()
                    .map(|t| ConditionWords {
                        name: fmt::condition(t.condition).to_owned(),
                        history_caption: format!(
                            "Geschiedenis van de voorwaarde {}",
                            fmt::condition(t.condition)
                        ),
                        facts: vec![
                            ("Status".to_owned(), fmt::status(t.status).to_owned()),
                            ("Termijn".to_owned(), fmt::opt_date(t.due_on)),
                            (
                                "Behandelaar".to_owned(),
                                t.claimed_by
                                    .as_deref()
                                    .map_or_else(|| "—".to_owned(), named),
                            ),
                            ("Notitie".to_owned(), or_dash(t.note.as_deref())),
                            (
                                "Reden niet van toepassing".to_owned(),
                                or_dash(t.reason.as_deref()),
                            ),
                        ],
                        history: t
                            .history
                            .iter()
                            .map(|h| {
                                vec![
                                    fmt::date_time(h.at),
                                    named(&h.by),
                                    fmt::change(&h.change).to_owned(),
                                    match (h.from_status, h.to_status) {
                                        (Some(a), Some(b)) => {
                                            format!("{} → {}", fmt::status(a), fmt::status(b))
                                        }
                                        (None, Some(b)) => fmt::status(b).to_owned(),
                                        _ => "—".to_owned(),
                                    },
                                    or_dash(h.note.as_deref()),
                                ]
                            })
                            .collect(),
                    })
                    .collect(),
                history: c
                    .history
                    .iter()
                    .map(|h| vec![fmt::date_time(h.at), named(&h.by), h.change.clone()])
                    .collect(),
            });
        }
    }
    let notices = export.intake.as_ref().map_or_else(Vec::new, |i| {
        i.notices
            .iter()
            .map(|n| {
                vec![
                    n.notice_id.clone(),
                    n.institution_code.clone(),
                    fmt::notice_kind(n.kind).to_owned(),
                    fmt::date_time(n.received_at),
                    fmt::opt_date(n.release_on),
                ]
            })
            .collect()
    });
    let decisions = export.router.as_ref().map_or_else(Vec::new, |r| {
        r.decisions
            .iter()
            .map(|d| {
                let decision = as_notice_decision(d);
                let mut why = case_routing::explanation(&decision, &named);
                if let Some(f) = &d.forward {
                    why.push_str(&format!(
                        " Doorgestuurd op {}.",
                        fmt::date_time(f.forwarded_at)
                    ));
                }
                vec![
                    d.notice_key.clone(),
                    outcome_words(decision.outcome.kind()).to_owned(),
                    gemeente(decision.outcome.gemeentecode()),
                    case_routing::rule(decision.rule).to_owned(),
                    why,
                    fmt::date_time(d.decided_at),
                ]
            })
            .collect()
    });
    let mut applications = Vec::new();
    let mut icos = Vec::new();
    if let Some(pr) = &export.procesregie {
        for a in &pr.applications {
            let mut facts = vec![
                (
                    "Status".to_owned(),
                    words::application_status(a.status).to_owned(),
                ),
                ("Gemeente".to_owned(), gemeente(a.gemeentecode.as_ref())),
                ("Aangemeld door".to_owned(), named(&a.applicant)),
                ("Reden".to_owned(), or_dash(a.reason.as_deref())),
                ("Doel".to_owned(), or_dash(a.goal.as_deref())),
                (
                    "Persoon geïnformeerd".to_owned(),
                    match a.informed {
                        Some(true) => "Ja".to_owned(),
                        Some(false) => format!("Nee: {}", or_dash(a.not_informed_why.as_deref())),
                        None => "—".to_owned(),
                    },
                ),
                ("Aangemaakt".to_owned(), fmt::date_time(a.created_at)),
            ];
            if let Some(t) = a.submitted_at {
                facts.push(("Ingediend".to_owned(), fmt::date_time(t)));
            }
            if let Some(o) = &a.outcome {
                facts.push((
                    "Uitkomst triage".to_owned(),
                    words::outcome(o.outcome).to_owned(),
                ));
            }
            applications.push(ApplicationWords {
                title: format!("Aanmelding {}", a.application_id),
                facts,
                partners: a
                    .partners
                    .iter()
                    .map(|p| vec![p.organisation.clone(), p.contact.clone()])
                    .collect(),
            });
        }
        for i in &pr.icos {
            let mut facts = vec![
                ("Status".to_owned(), words::ico_status(i.status).to_owned()),
                ("Gemeente".to_owned(), gemeente(i.gemeentecode.as_ref())),
                ("Procesregisseur".to_owned(), named(&i.procesregisseur)),
                ("Doel".to_owned(), i.goal.clone()),
                ("Gestart".to_owned(), fmt::date_time(i.opened_at)),
            ];
            if let Some(t) = i.closed_at {
                facts.push(("Gesloten".to_owned(), fmt::date_time(t)));
            }
            if let Some(r) = i.close_reason {
                facts.push((
                    "Reden van sluiten".to_owned(),
                    words::close_reason(r).to_owned(),
                ));
            }
            icos.push(IcoWords {
                title: format!("ICO {}", i.ico_id),
                facts,
                partners: i
                    .partners
                    .iter()
                    .map(|p| vec![p.organisation.clone(), p.contact.clone()])
                    .collect(),
                actions: i
                    .actions
                    .iter()
                    .map(|a| {
                        vec![
                            a.owner_organisation.clone(),
                            a.description.clone(),
                            fmt::date(a.due_on),
                            words::action_status(a.status).to_owned(),
                            format!("{} wijzigingen", a.history.len()),
                        ]
                    })
                    .collect(),
                reviews: i
                    .reviews
                    .iter()
                    .map(|r| {
                        vec![
                            fmt::date(r.held_on),
                            r.notes.clone(),
                            fmt::opt_date(r.next_review_on),
                        ]
                    })
                    .collect(),
            });
        }
    }
    let recipients = export
        .recipients
        .iter()
        .map(|r| {
            let (kind, name) = match r.kind {
                RecipientKind::Municipality => (
                    "Gemeente in de regio",
                    rcn_contracts::Gemeentecode::parse(&r.name)
                        .map_or_else(|_| r.name.clone(), |g| fmt::municipality(&g)),
                ),
                RecipientKind::OtherRegion => (
                    "Buiten de regio",
                    rcn_contracts::Gemeentecode::parse(&r.name)
                        .map_or_else(|_| r.name.clone(), |g| fmt::municipality(&g)),
                ),
                RecipientKind::Partner => ("Partnerorganisatie", r.name.clone()),
            };
            let through = r
                .through
                .iter()
                .map(|t| match t.as_str() {
                    "routing" => "routering",
                    "case" => "casus",
                    "application" => "aanmelding procesregie",
                    "ico" => "ICO",
                    "forward" => "doorsturen naar andere regio",
                    other => other,
                })
                .collect::<Vec<_>>()
                .join(", ");
            vec![kind.to_owned(), name, through]
        })
        .collect();
    Ok(Document {
        bsn_masked: export.bsn_masked.clone(),
        meta: vec![
            ("Opgesteld op".to_owned(), fmt::date_time(export.made_at)),
            ("Opgesteld door".to_owned(), named(&export.made_by)),
            ("Reden".to_owned(), export.why.clone()),
        ],
        made_at: fmt::date_time(export.made_at),
        made_by: named(&export.made_by),
        why: export.why.clone(),
        missing: export.missing.clone(),
        people,
        notices,
        decisions,
        cases,
        applications,
        icos,
        recipients,
        json_href: format!(
            "data:application/json;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(json)
        ),
        json_name: format!("inzage-{}.json", export.made_at.format("%Y%m%d-%H%M%S")),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use rcn_contracts::privacy_export::{ManualDecisionRecord, RouterExport};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn decision(
        key: &str,
        outcome: RoutingOutcomeKind,
        code: Option<&str>,
        rule: RoutingRule,
    ) -> RoutingDecisionRecord {
        RoutingDecisionRecord {
            notice_key: key.into(),
            outcome,
            gemeentecode: code.map(|c| rcn_contracts::Gemeentecode::parse(c).unwrap()),
            rule,
            reason: "BRP registration Haarlem (GM0392) is in the region".into(),
            ambiguous: false,
            inputs: serde_json::json!({"brp_municipality": code, "pc4": 2011}),
            decided_at: at("2026-11-20T09:31:00Z"),
            received_at: at("2026-11-20T09:30:00Z"),
            manual: None,
            forward: None,
        }
    }

    fn export_with(decisions: Vec<RoutingDecisionRecord>) -> PersonExport {
        assemble(
            at("2026-12-02T10:00:00Z"),
            "fg",
            "Verzoek per brief van 1 december 2026",
            &Bsn::parse("123456782").unwrap(),
            None,
            Some(RouterExport { decisions }),
            None,
            None,
            Vec::new(),
        )
    }

    #[test]
    fn routing_decisions_read_in_the_portal_s_dutch_with_names_not_user_ids() {
        let brp = decision(
            "PI-HAARLEM:n1",
            RoutingOutcomeKind::Routed,
            Some("GM0392"),
            RoutingRule::BrpRegistration,
        );
        let mut by_hand = decision(
            "PI-HAARLEM:n2",
            RoutingOutcomeKind::Unroutable,
            None,
            RoutingRule::NoRule,
        );
        by_hand.reason = "no rule could decide".into();
        by_hand.manual = Some(ManualDecisionRecord {
            outcome: RoutingOutcomeKind::Routed,
            gemeentecode: rcn_contracts::Gemeentecode::parse("GM0453").unwrap(),
            decided_by: "rita-01".into(),
            why: "Verblijft bij zijn zus in IJmuiden".into(),
            decided_at: at("2026-11-21T08:00:00Z"),
        });
        let export = export_with(vec![brp, by_hand]);
        let names = HashMap::from([
            ("rita-01".to_owned(), "Rita de Coördinator".to_owned()),
            ("fg".to_owned(), "Fatima Gegevens".to_owned()),
        ]);
        let doc = document(&export, &names).unwrap();
        let text = format!("{:?}", doc.decisions);
        for english in ["BRP registration", "no rule could decide", "rita-01"] {
            assert!(!text.contains(english), "{english:?} in {text}");
        }
        assert_eq!(doc.decisions[0][1], "Doorgezet naar de gemeente");
        assert_eq!(doc.decisions[0][2], "Gemeente Haarlem");
        assert_eq!(doc.decisions[0][3], "BRP-inschrijving");
        assert_eq!(doc.decisions[0][4], "BRP-inschrijving in Haarlem.");
        // The decision by hand stands: Velsen, by Rita, with her reason.
        assert_eq!(doc.decisions[1][2], "Gemeente Velsen");
        assert_eq!(doc.decisions[1][3], "Besluit van de RCN-coördinator");
        assert!(
            doc.decisions[1][4].contains("handmatig besloten door Rita de Coördinator")
                && doc.decisions[1][4].contains("Verblijft bij zijn zus in IJmuiden"),
            "{}",
            doc.decisions[1][4]
        );
        assert_eq!(doc.made_by, "Fatima Gegevens");
        assert!(
            doc.meta
                .iter()
                .any(|(k, v)| k == "Opgesteld door" && v == "Fatima Gegevens")
        );
    }

    #[test]
    fn an_id_without_an_account_stays_and_the_institution_and_rcn_read_as_words() {
        let names = HashMap::new();
        assert_eq!(person_name(&names, "anna"), "anna");
        assert_eq!(person_name(&names, "system"), "rcn");
        assert_eq!(
            person_name(&names, "notice:PI-HAARLEM:n2"),
            "melding van de inrichting"
        );
        let mut out = decision(
            "PI-HAARLEM:n3",
            RoutingOutcomeKind::OutOfRegion,
            Some("GM0363"),
            RoutingRule::BrpRegistration,
        );
        out.forward = Some(rcn_contracts::privacy_export::ForwardRecord {
            target_region: "amsterdam".into(),
            gemeentecode: rcn_contracts::Gemeentecode::parse("GM0363").unwrap(),
            forwarded_at: at("2026-11-20T09:32:00Z"),
            acknowledged_at: None,
        });
        let doc = document(&export_with(vec![out]), &names).unwrap();
        assert_eq!(doc.decisions[0][1], "Buiten de regio");
        assert!(
            doc.decisions[0][4].contains("buiten de regio")
                && doc.decisions[0][4].contains("doorgestuurd naar regio amsterdam"),
            "{}",
            doc.decisions[0][4]
        );
    }
}
