//! The case page's *Ontvangen meldingen en routering*: every notice of the case with the router's
//! decision about it — where it went, which rule decided, and why, in Dutch ("BRP-inschrijving in
//! Haarlem", "handmatig besloten door … met reden …", "Weesp, samengevoegd met Amsterdam").
//!
//! The router decides what the signed-in person may see (`api.router.decisions`); a notice it
//! does not explain to them shows without a decision. When the router does not answer, the
//! notices are still listed and the page says the decisions cannot be shown now. Nothing here
//! decides access, and nothing personal goes into a URL.

use std::collections::HashMap;

use rcn_contracts::casework_api::CaseNoticeRef;
use rcn_contracts::events::{RoutingOutcome, RoutingRule};
use rcn_contracts::routing_api::{DecisionsReply, DecisionsRequest, MAX_DECISIONS, NoticeDecision};

use crate::AppState;
use crate::portal::page::PortalError;
use crate::portal::reasons::Page;
use crate::portal::session::Staff;
use crate::portal::{fmt, services, users};

/// One notice of the case with its routing, as the page shows it.
pub struct NoticeRouting {
    pub kind: &'static str,
    pub sent: String,
    pub received: String,
    /// `None`: the router explains no decision about it to this person (or knows none).
    pub decision: Option<DecisionView>,
}

pub struct DecisionView {
    pub outcome: &'static str,
    pub municipality: String,
    pub rule: &'static str,
    pub explanation: String,
}

/// The case's notices, newest first, and whether the router answered.
pub struct CaseRouting {
    pub notices: Vec<NoticeRouting>,
    pub router_answered: bool,
}

/// Asks the router about `notices` (a case's, oldest first) as the signed-in person.
pub async fn for_case(
    state: &AppState,
    staff: &Staff,
    notices: &[CaseNoticeRef],
) -> Result<CaseRouting, PortalError> {
    let keys: Vec<String> = notices
        .iter()
        .filter_map(|n| n.notice_key.clone())
        .collect();
    let mut decisions: HashMap<String, NoticeDecision> = HashMap::new();
    let mut router_answered = true;
    // A case with more notices than one request carries asks in turns.
    for chunk in keys.chunks(MAX_DECISIONS) {
        let request = DecisionsRequest {
            notice_keys: chunk.to_vec(),
            // The router logs the read with the case page's reason, as casework does.
            why: Page::Case.why(),
        };
        let reply = services::endpoint::<DecisionsReply>(
            state,
            state.subjects.router_decisions(),
            &staff.identity,
            &request,
        )
        .await;
        match reply {
            Ok(Ok(DecisionsReply::Decisions { decisions: found })) => {
                decisions.extend(found.into_iter().map(|d| (d.notice_key.clone(), d)));
            }
            // Not allowed to see routing (a role without cases) or not reachable: the notices
            // are still shown.
            Ok(Err(_)) | Err(PortalError::Unavailable) => {
                router_answered = false;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let mut people: Vec<String> = decisions
        .values()
        .filter_map(|d| d.manual.as_ref().map(|m| m.decided_by.clone()))
        .collect();
    people.sort();
    people.dedup();
    let names = users::display_names(&state.pool, &people).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let notices = notices
        .iter()
        .rev()
        .map(|n| NoticeRouting {
            kind: fmt::notice_kind(n.kind),
            sent: fmt::date_time(n.sent_at),
            received: n.received_at.map_or_else(|| "—".to_owned(), fmt::date_time),
            decision: n
                .notice_key
                .as_ref()
                .and_then(|k| decisions.get(k))
                .map(|d| view(d, &name)),
        })
        .collect();
    Ok(CaseRouting {
        notices,
        router_answered,
    })
}

fn view(d: &NoticeDecision, name: &dyn Fn(&str) -> String) -> DecisionView {
    DecisionView {
        outcome: match d.outcome {
            RoutingOutcome::Routed { .. } => "Toegewezen",
            RoutingOutcome::OutOfRegion { .. } => "Buiten de regio",
            RoutingOutcome::Unroutable => "Wacht op besluit",
        },
        municipality: d
            .outcome
            .gemeentecode()
            .map_or_else(|| "—".to_owned(), fmt::municipality),
        rule: rule(d.rule),
        explanation: explanation(d, name),
    }
}

/// The rule that decided, as staff call it.
pub fn rule(r: RoutingRule) -> &'static str {
    match r {
        RoutingRule::BrpRegistration => "BRP-inschrijving",
        RoutingRule::AddressLookup => "Adresregister",
        RoutingRule::Pc4Table => "Postcodetabel van de regio",
        RoutingRule::Manual => "Besluit van de RCN-coördinator",
        RoutingRule::NoRule => "Geen regel",
    }
}

/// Why, in Dutch; `name` turns a user id into the name colleagues know.
pub fn explanation(d: &NoticeDecision, name: &dyn Fn(&str) -> String) -> String {
    let target = d.outcome.gemeentecode().map(fmt::municipality);
    // "Weesp, samengevoegd met Amsterdam" when the input named a municipality that has merged.
    let named = |fallback: &str| match (&d.named_municipality, d.outcome.gemeentecode()) {
        (Some(named), Some(now)) if named != now => format!(
            "{}, samengevoegd met {}",
            fmt::municipality(named),
            fmt::municipality(now)
        ),
        _ => target.clone().unwrap_or_else(|| fallback.to_owned()),
    };
    let mut text = match d.rule {
        RoutingRule::BrpRegistration => format!("BRP-inschrijving in {}", named("—")),
        RoutingRule::AddressLookup => format!(
            "Het adresregister plaatst het laatste adres in {}",
            named("—")
        ),
        RoutingRule::Pc4Table => {
            let place = target.clone().unwrap_or_else(|| "—".to_owned());
            let pc4 = d
                .pc4
                .map_or_else(|| "van het laatste adres".to_owned(), |p| format!("{p}"));
            format!(
                "Postcodegebied {pc4} van het laatste adres hoort volgens de postcodetabel van de regio bij {place} (een terugvaloptie: een postcodegebied volgt niet altijd de gemeentegrens)"
            )
        }
        RoutingRule::Manual => match &d.manual {
            Some(m) => format!(
                "Geen regel kon beslissen; handmatig besloten door {} op {}, met reden: “{}”",
                name(&m.decided_by),
                fmt::date_time(m.decided_at),
                m.why
            ),
            None => "Handmatig besloten door de RCN-coördinator".to_owned(),
        },
        RoutingRule::NoRule => "Geen regel kon beslissen; de melding wacht in de routeringswachtrij op een besluit van de RCN-coördinator".to_owned(),
    };
    if d.ambiguous {
        text.push_str(". Meer gemeenten komen in aanmerking: controleer het adres");
    }
    if let RoutingOutcome::OutOfRegion { .. } = d.outcome {
        match &d.forwarded_to {
            Some(region) => text.push_str(&format!(
                ". Deze gemeente ligt buiten de regio; de melding is doorgestuurd naar regio {region}"
            )),
            None => text.push_str(
                ". Deze gemeente ligt buiten de regio; het RCN stuurt de melding door",
            ),
        }
    }
    if !text.ends_with(['.', '”']) {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use rcn_contracts::Gemeentecode;
    use rcn_contracts::routing_api::ManualDecisionNote;

    use super::*;

    fn gm(s: &str) -> Gemeentecode {
        Gemeentecode::parse(s).unwrap()
    }

    fn decided(rule: RoutingRule, outcome: RoutingOutcome) -> NoticeDecision {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 13, 5, 0).unwrap();
        NoticeDecision {
            notice_key: "PI-HAARLEM:1".into(),
            received_at: at,
            decided_at: at,
            outcome,
            rule,
            ambiguous: false,
            reason: "in English".into(),
            named_municipality: None,
            pc4: Some(2011),
            manual: None,
            forwarded_to: None,
        }
    }

    fn haarlem() -> RoutingOutcome {
        RoutingOutcome::Routed {
            gemeentecode: gm("GM0392"),
        }
    }

    fn no_names(id: &str) -> String {
        format!("[{id}]")
    }

    #[test]
    fn each_rule_is_explained_in_dutch_with_the_municipality_it_named() {
        let mut d = decided(RoutingRule::BrpRegistration, haarlem());
        d.named_municipality = Some(gm("GM0392"));
        assert_eq!(explanation(&d, &no_names), "BRP-inschrijving in Haarlem.");

        let mut d = decided(
            RoutingRule::BrpRegistration,
            RoutingOutcome::OutOfRegion {
                gemeentecode: gm("GM0363"),
            },
        );
        d.named_municipality = Some(gm("GM0457"));
        d.forwarded_to = Some("amsterdam-amstelland".into());
        assert_eq!(
            explanation(&d, &no_names),
            "BRP-inschrijving in Weesp, samengevoegd met Amsterdam. Deze gemeente ligt buiten de \
             regio; de melding is doorgestuurd naar regio amsterdam-amstelland."
        );

        let mut d = decided(RoutingRule::AddressLookup, haarlem());
        d.named_municipality = Some(gm("GM0392"));
        assert_eq!(
            explanation(&d, &no_names),
            "Het adresregister plaatst het laatste adres in Haarlem."
        );

        let mut d = decided(RoutingRule::Pc4Table, haarlem());
        d.ambiguous = true;
        let text = explanation(&d, &no_names);
        assert!(
            text.starts_with("Postcodegebied 2011 van het laatste adres hoort volgens de postcodetabel van de regio bij Haarlem"),
            "{text}"
        );
        assert!(text.ends_with("controleer het adres."), "{text}");

        let d = decided(RoutingRule::NoRule, RoutingOutcome::Unroutable);
        assert!(explanation(&d, &no_names).contains("wacht in de routeringswachtrij"));
        assert_eq!(view(&d, &no_names).municipality, "—");
        assert_eq!(view(&d, &no_names).outcome, "Wacht op besluit");
    }

    #[test]
    fn a_decision_by_hand_names_who_took_it_when_and_why() {
        let mut d = decided(RoutingRule::Manual, haarlem());
        d.manual = Some(ManualDecisionNote {
            decided_by: "rita".into(),
            why: "Woont bij zijn zus in Haarlem.".into(),
            decided_at: Utc.with_ymd_and_hms(2026, 12, 2, 13, 5, 0).unwrap(),
        });
        assert_eq!(
            explanation(&d, &|id| if id == "rita" {
                "Rita Visser".into()
            } else {
                id.into()
            }),
            "Geen regel kon beslissen; handmatig besloten door Rita Visser op 2 december 2026 om \
             14:05, met reden: “Woont bij zijn zus in Haarlem.”"
        );
        let v = view(&d, &no_names);
        assert_eq!(
            (v.outcome, v.municipality.as_str(), v.rule),
            ("Toegewezen", "Haarlem", "Besluit van de RCN-coördinator")
        );
    }
}
