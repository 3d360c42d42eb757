//! The privacy officer's *Verwijderlogboek* (`/privacy/verwijderlogboek`): what every service's
//! retention job removed, run by run, newest first. The portal asks each service with a
//! retention job for its own deletion log (`retention_log` over NATS, with the officer's signed
//! identity) and merges the answers by time. The log holds a record class, a rule, a count and a
//! time, never personal data, so nothing here is an access-log event.
//!
//! The services decide who may read it (the privacy officer and the administrator); the page
//! says so first for a plain answer.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use rcn_contracts::identity::Role;
use rcn_contracts::retention::{
    RecordClass, RetentionLogReply, RetentionLogRequest, retention_log_subjects,
};

use crate::AppState;
use crate::portal::page::{self, Layout, PortalError};
use crate::portal::session::Staff;
use crate::portal::{fmt, services};

/// How many lines the page asks of each service.
const LINES_PER_SERVICE: u32 = 200;

/// One line of the log, in words.
pub struct LogRow {
    pub at: String,
    pub service: &'static str,
    pub class: &'static str,
    pub rule: String,
    /// The number removed, or that the rule was skipped.
    pub removed: String,
    pub skipped: bool,
}

#[derive(Template)]
#[template(path = "portal/deletion_log.html")]
struct DeletionLogPage {
    l: Layout,
    rows: Vec<LogRow>,
    /// Total removed per service over the lines shown.
    totals: Vec<(&'static str, i64)>,
    /// Services that could not answer now.
    missing: Vec<&'static str>,
}

fn require_officer(staff: &Staff) -> Result<(), PortalError> {
    if matches!(
        staff.identity.role,
        Role::PrivacyOfficer | Role::Administrator
    ) {
        Ok(())
    } else {
        Err(PortalError::Forbidden(
            "Alleen de functionaris gegevensbescherming en de beheerder kunnen het verwijderlogboek inzien."
                .into(),
        ))
    }
}

/// `GET /privacy/verwijderlogboek`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    staff: Staff,
) -> Result<Response, PortalError> {
    require_officer(&staff)?;
    let request = RetentionLogRequest {
        limit: Some(LINES_PER_SERVICE),
    };
    let asks = retention_log_subjects(&state.subjects).map(|(name, subject)| {
        let (state, request, who) = (&state, &request, &staff.identity);
        async move {
            let reply: Result<Result<RetentionLogReply, _>, PortalError> =
                services::endpoint(state, subject, who, request).await;
            (name, reply)
        }
    });
    let mut lines = Vec::new();
    let mut missing = Vec::new();
    for (name, answer) in futures::future::join_all(asks).await {
        match answer {
            Ok(Ok(reply)) => lines.extend(reply.lines.into_iter().map(|l| (name, l))),
            Ok(Err(problem)) if problem.status == 403 || problem.status == 401 => {
                return Err(PortalError::Forbidden(
                    "Alleen de functionaris gegevensbescherming en de beheerder kunnen het verwijderlogboek inzien."
                        .into(),
                ));
            }
            Ok(Err(problem)) => {
                tracing::warn!(
                    service = name,
                    status = problem.status,
                    "retention log refused"
                );
                missing.push(name);
            }
            Err(PortalError::Unavailable) => missing.push(name),
            Err(e) => return Err(e),
        }
    }
    // Newest first; within a run, by service and class.
    lines.sort_by(|(sa, a), (sb, b)| {
        (b.run_at, sa, a.class, &a.rule).cmp(&(a.run_at, sb, b.class, &b.rule))
    });
    let mut totals: Vec<(&'static str, i64)> = Vec::new();
    for (service, line) in &lines {
        match totals.iter_mut().find(|(s, _)| *s == *service) {
            Some((_, n)) => *n += line.removed,
            None => totals.push((*service, line.removed)),
        }
    }
    let rows = lines
        .into_iter()
        .map(|(service, line)| {
            let skipped = line.rule.ends_with(SKIPPED_SUFFIX);
            LogRow {
                at: fmt::date_time(line.run_at),
                service: service_in_dutch(service),
                class: class_in_dutch(line.class),
                rule: rule_in_dutch(&line.rule),
                removed: if skipped {
                    "overgeslagen".into()
                } else {
                    line.removed.to_string()
                },
                skipped,
            }
        })
        .collect();
    Ok(page::render(&DeletionLogPage {
        l: Layout::for_staff(&staff, "Verwijderlogboek", "/privacy/verwijderlogboek"),
        rows,
        totals: totals
            .into_iter()
            .map(|(s, n)| (service_in_dutch(s), n))
            .collect(),
        missing: missing.into_iter().map(service_in_dutch).collect(),
    }))
}

/// How a service's log says a rule was skipped.
const SKIPPED_SUFFIX: &str = rcn_runtime::retention::SKIPPED;

/// The part of rcn, as staff call it.
fn service_in_dutch(service: &str) -> &'static str {
    match service {
        "intake" => "Ontvangst (intake)",
        "router" => "Routering",
        "casework" => "Casussen (gemeenten)",
        "procesregie" => "Procesregie",
        "monitor" => "Monitor (dode berichten)",
        _ => "Onbekend onderdeel",
    }
}

/// The record class in the staff's words.
fn class_in_dutch(class: RecordClass) -> &'static str {
    match class {
        RecordClass::Notice => "Meldingen",
        RecordClass::Case => "Casussen",
        RecordClass::Ico => "Aanmeldingen en ICO's",
        RecordClass::AccessLog => "Inzagelogboek",
        RecordClass::EventIds => "Kenmerken van verwerkte berichten",
    }
}

/// A service's rule, in Dutch; a rule this page does not know yet is shown as the service wrote
/// it.
fn rule_in_dutch(rule: &str) -> String {
    let (rule, skipped) = match rule.strip_suffix(SKIPPED_SUFFIX) {
        Some(r) => (r, true),
        None => (rule, false),
    };
    let words = match rule {
        "receipts and their routing outcomes, months after the episode's last release, unless its case is open" => {
            "Ontvangstbewijzen en routeringsuitkomsten, maanden na de laatste vrijlating, tenzij de casus nog open is"
        }
        "routing outcomes without a receipt, months after the decision" => {
            "Routeringsuitkomsten zonder ontvangstbewijs, maanden na het besluit"
        }
        "routing decisions (with manual decisions and forwards), months after the episode's last release, unless its case is open" => {
            "Routeringsbesluiten (met handmatige besluiten en doorzendingen), maanden na de laatste vrijlating, tenzij de casus nog open is"
        }
        "closed cases with tasks, history and notices, years after closure" => {
            "Afgesloten casussen met taken, geschiedenis en meldingen, jaren na afsluiting"
        }
        "notices of closed cases, months after release" => {
            "Meldingen van afgesloten casussen, maanden na vrijlating"
        }
        "access-log rows, years after they were written" => {
            "Regels van het inzagelogboek, jaren na vastlegging"
        }
        "closed ICOs with plan, reviews and application, years after closure" => {
            "Afgesloten ICO's met plan van aanpak, evaluaties en aanmelding, jaren na afsluiting"
        }
        "applications that led to no ICO, years after the triage decided" => {
            "Aanmeldingen die niet tot een ICO leidden, jaren na het triagebesluit"
        }
        "applications never decided (draft or waiting for triage), years after their case closed" => {
            "Aanmeldingen waarover nooit besloten is (concept of wachtend op triage), jaren na afsluiting van de casus"
        }
        "drafts of applications of no case in casework, years after their last change" => {
            "Concepten van aanmeldingen voor iemand zonder casus bij een gemeente, jaren na de laatste wijziging"
        }
        "watched cases with conditions and suggestions, years after the case closed" => {
            "Gevolgde casussen met voorwaarden en voorstellen tot aanmelding voor procesregie, jaren na afsluiting van de casus"
        }
        "ids of applied casework events, once their stream can no longer deliver them again" => {
            "Kenmerken van verwerkte gebeurtenissen uit casuswerk, zodra de berichtenstroom ze niet meer opnieuw kan afleveren (geen persoonsgegevens)"
        }
        "privacy questions, years after they were asked" => {
            "Privacyvragen (wie heeft ingezien, inzageverzoeken), jaren na de vraag"
        }
        "dead-letter desk log rows, years after they were written" => {
            "Regels van het logboek van de dode berichten (ingezien, opnieuw aangeboden, weggegooid), jaren na vastlegging"
        }
        other => other,
    };
    if skipped {
        format!("{words} — overgeslagen: niet bekend welke casussen nog open zijn")
    } else {
        words.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_as_dutch_and_a_skipped_rule_says_so() {
        assert_eq!(
            rule_in_dutch("notices of closed cases, months after release"),
            "Meldingen van afgesloten casussen, maanden na vrijlating"
        );
        let skipped = rule_in_dutch(&format!(
            "routing outcomes without a receipt, months after the decision{SKIPPED_SUFFIX}"
        ));
        assert!(
            skipped.starts_with("Routeringsuitkomsten") && skipped.contains("overgeslagen"),
            "{skipped}"
        );
        assert_eq!(rule_in_dutch("a rule still new"), "a rule still new");
        // Every rule the services' jobs can write has its Dutch, the monitor's too.
        for rule in [
            rcn_runtime::retention::AppendOnlyLog::AccessLog,
            rcn_runtime::retention::AppendOnlyLog::PrivacyQuestions,
            rcn_runtime::retention::AppendOnlyLog::DeadLetterLog,
        ]
        .map(|log| log.rule().rule)
        {
            assert_ne!(rule_in_dutch(rule), rule, "{rule} has no Dutch");
        }
        assert_eq!(service_in_dutch("monitor"), "Monitor (dode berichten)");
        assert!(
            rule_in_dutch(
                "watched cases with conditions and suggestions, years after the case closed"
            )
            .starts_with("Gevolgde casussen")
        );
        assert!(
            rule_in_dutch(
                "applications never decided (draft or waiting for triage), years after their case closed"
            )
            .starts_with("Aanmeldingen waarover nooit besloten is")
        );
        assert!(
            rule_in_dutch(
                "drafts of applications of no case in casework, years after their last change"
            )
            .contains("zonder casus")
        );
    }
}
