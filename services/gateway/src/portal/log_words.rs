//! The access logs' machine words in the privacy officer's Dutch: what was read (the services'
//! [`rcn_contracts::access_log`] vocabulary), why (the portal's own reasons; a reason a person
//! typed stays in their words), and which part of rcn (*Casusregistratie*, *Procesregie*, …).
//!
//! A word this page does not know is never guessed at: it is shown as the log has it, marked
//! as such ([`Words::as_logged`]), so a new kind of read shows up rather than hides.

use rcn_contracts::access_log::{Field, Read, What};

use crate::portal::fmt;

/// A log word in Dutch, or the logged text itself when it has no translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub text: String,
    /// `text` is the log's own, untranslated.
    pub as_logged: bool,
}

impl Words {
    fn dutch(text: impl Into<String>) -> Self {
        Words {
            text: text.into(),
            as_logged: false,
        }
    }

    fn as_logged(text: &str) -> Self {
        Words {
            text: text.to_owned(),
            as_logged: true,
        }
    }
}

/// What a read was of, in Dutch, with which guarded fields it showed.
pub fn what(logged: &str) -> Words {
    match What::parse(logged) {
        Some(what) => Words::dutch(what_in_dutch(&what)),
        None => Words::as_logged(logged),
    }
}

fn what_in_dutch(what: &What) -> String {
    let read = read_in_dutch(what.read);
    let fields: Vec<&str> = what
        .shown
        .iter()
        .map(|(field, shown)| field_in_dutch(*field, *shown))
        .collect();
    if fields.is_empty() {
        read
    } else {
        format!("{read}: {}", fields.join(", "))
    }
}

fn read_in_dutch(read: Read) -> String {
    let words = match read {
        Read::CaseDetail => "Casus geopend",
        Read::InboxRow => {
            "In de takenlijst getoond (naam, geboortedatum, afgeschermd BSN, datum vrijlating)"
        }
        Read::TaskHistory(c) => {
            return format!("Verloop van de taak {} bekeken", fmt::condition(c));
        }
        Read::WhoSaw => "Vraag: wie heeft deze persoon ingezien",
        Read::Application => "Aanmelding voor procesregie bekeken",
        Read::ApplicationSave => "Aanmelding voor procesregie opgeslagen",
        Read::ApplicationList => "In de lijst met aanmeldingen getoond",
        Read::SuggestionAccept => "Suggestie omgezet in een aanmelding",
        Read::SuggestionList => "In de lijst met suggesties getoond",
        Read::TriageAgenda => "Op de agenda van de triage getoond",
        Read::TriageDecide => "Besluit van de triage vastgelegd",
        Read::Ico => "ICO bekeken",
        Read::IcoList => "In de lijst met ICO's getoond",
        Read::IcoUpdate => "ICO gewijzigd",
        Read::IcoAction => "Actie in het plan van aanpak gewijzigd",
        Read::IcoReview => "Evaluatie van de ICO vastgelegd",
        Read::IcoClose => "ICO afgesloten",
        Read::PrivacyExport => "Opgenomen in een inzageverzoek (AVG art. 15)",
        Read::RoutingDecisions => "Routering van de meldingen bekeken (welke gemeente en waarom)",
        Read::RoutingQueue => "In de routeringswachtrij getoond",
        Read::ManualRouting => "Melding handmatig aan een gemeente toegewezen",
        Read::DeadLetterInspected => "Inhoud van een dood bericht bekeken",
        Read::DeadLetterReplayed => "Dood bericht opnieuw aangeboden",
        Read::DeadLetterDiscarded => "Dood bericht verwijderd",
    };
    words.to_owned()
}

fn field_in_dutch(field: Field, shown: bool) -> &'static str {
    match (field, shown) {
        (Field::Bsn, true) => "met volledig BSN",
        (Field::Bsn, false) => "BSN afgeschermd",
        (Field::RiskFlags, true) => "met risicosignalen",
        (Field::RiskFlags, false) => "zonder risicosignalen",
        (Field::CareNote, true) => "met notitie bij zorg",
        (Field::CareNote, false) => "notitie bij zorg afgeschermd",
        (Field::Notes, true) => "met notities",
        (Field::Notes, false) => "notities afgeschermd",
        (Field::PartnerContacts, true) => "met contactgegevens van partners",
        (Field::PartnerContacts, false) => "contactgegevens van partners afgeschermd",
    }
}

/// The reasons the portal gave before it gave them in Dutch (`crate::portal::reasons` now), as
/// the access logs still hold them, each with its Dutch.
const EARLIER_PORTAL_REASONS: [(&str, &str); 3] = [
    (
        "portal: case page opened to work on or review the case",
        "Casuspagina geopend om aan de casus te werken of hem te bekijken",
    ),
    (
        "portal: application for procesregie names the person it is about",
        "De aanmelding voor procesregie toont om wie het gaat",
    ),
    (
        "portal: ICO page names the person the ICO is about",
        "De ICO-pagina toont om wie het gaat",
    ),
];

/// Why, in Dutch: the portal's reasons as written (`crate::portal::reasons`, already Dutch), its
/// earlier English ones translated, a reason a person typed as they wrote it, and an
/// untranslated portal reason marked as such.
pub fn why(logged: Option<&str>) -> Words {
    let Some(why) = logged.map(str::trim).filter(|w| !w.is_empty()) else {
        return Words::dutch("—");
    };
    if let Some((_, dutch)) = EARLIER_PORTAL_REASONS.iter().find(|(word, _)| *word == why) {
        return Words::dutch(*dutch);
    }
    if why.starts_with("portal:") {
        Words::as_logged(why)
    } else {
        Words::dutch(why)
    }
}

/// The part of rcn that kept the log, by the name staff know it by.
pub fn service(name: &str) -> Words {
    let dutch = match name {
        "casework" => "Casusregistratie",
        "procesregie" => "Procesregie",
        // The names the portal's other pages give these parts (Dode berichten, Verwijderlogboek).
        "intake" => "Ontvangst (intake)",
        "router" => "Routering",
        // The monitor's only log of personal data is its dead-letter desk's.
        "monitor" => "Dode berichten",
        "gateway" => "Portaal",
        _ => return Words::as_logged(name),
    };
    Words::dutch(dutch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every kind of read, with every guarded field shown and not, reads as Dutch: no log word
    /// left, nothing shown as logged.
    #[test]
    fn every_word_the_services_can_write_has_its_dutch() {
        for read in Read::all() {
            for shown in [true, false] {
                let what = Field::ALL
                    .into_iter()
                    .fold(What::new(read), |w, f| w.with(f, shown));
                for logged in [what.to_log(), What::new(read).to_log()] {
                    let words = super::what(&logged);
                    assert!(!words.as_logged, "{logged} has no Dutch");
                    assert!(
                        !words.text.contains('_')
                            && !words.text.contains("true")
                            && !words.text.contains("false"),
                        "{logged} reads as {}",
                        words.text
                    );
                }
            }
        }
    }

    #[test]
    fn the_words_already_in_the_logs_read_as_dutch() {
        assert_eq!(
            what("case_detail (bsn: true, risk_flags: false)").text,
            "Casus geopend: met volledig BSN, zonder risicosignalen"
        );
        assert_eq!(
            what("case_detail (bsn: false, risk_flags: true, care_note: false)").text,
            "Casus geopend: BSN afgeschermd, met risicosignalen, notitie bij zorg afgeschermd"
        );
        assert_eq!(
            what("task history: id").text,
            "Verloop van de taak ID-bewijs bekeken"
        );
        assert_eq!(
            what("task_history (condition: care, notes: false)").text,
            "Verloop van de taak Zorg bekeken: notities afgeschermd"
        );
        assert!(!what("inbox row: name, date of birth, masked BSN, release date").as_logged);
        assert_eq!(
            what("privacy_accesses").text,
            "Vraag: wie heeft deze persoon ingezien"
        );
    }

    #[test]
    fn an_unknown_word_is_shown_as_logged_and_marked() {
        assert_eq!(what("something_new"), Words::as_logged("something_new"));
        assert_eq!(service("billing"), Words::as_logged("billing"));
        assert_eq!(
            why(Some("portal: a page added later")),
            Words::as_logged("portal: a page added later")
        );
    }

    #[test]
    fn the_portals_reasons_are_dutch_and_a_persons_own_stay_theirs() {
        for (word, dutch) in EARLIER_PORTAL_REASONS {
            assert_eq!(why(Some(word)), Words::dutch(dutch), "{word}");
        }
        for page in crate::portal::reasons::Page::ALL {
            let reason = crate::portal::reasons::page_reason(page);
            assert_eq!(why(Some(reason)), Words::dutch(reason), "{page:?}");
        }
        assert_eq!(
            why(Some("ID-afspraak maken")),
            Words::dutch("ID-afspraak maken")
        );
        assert_eq!(why(None).text, "—");
        assert_eq!(service("casework").text, "Casusregistratie");
        assert_eq!(service("procesregie").text, "Procesregie");
        assert_eq!(service("router").text, "Routering");
        assert_eq!(service("monitor").text, "Dode berichten");
        assert_eq!(service("intake").text, "Ontvangst (intake)");
        assert_eq!(
            what("routing_decisions").text,
            "Routering van de meldingen bekeken (welke gemeente en waarom)"
        );
        assert_eq!(
            what("routing_queue (bsn: false)").text,
            "In de routeringswachtrij getoond: BSN afgeschermd"
        );
        assert_eq!(
            what("dead_letter_inspected").text,
            "Inhoud van een dood bericht bekeken"
        );
    }

    /// The services write their access log only in the shared vocabulary: no call that logs a
    /// read passes text of its own (found the way a person would, by reading the sources), so
    /// every `what` in the logs is one [`every_word_the_services_can_write_has_its_dutch`] covers.
    #[test]
    fn the_services_log_reads_only_in_the_shared_vocabulary() {
        let services = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut calls = 0;
        for service in ["casework", "procesregie"] {
            let src = services.join(service).join("src");
            for entry in std::fs::read_dir(&src).expect("the service's sources") {
                let path = entry.expect("a source file").path();
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for (at, _) in text.match_indices("log_reads") {
                    let rest = &text[at..];
                    // A definition or a doc link, not a call.
                    if !rest.starts_with("log_reads(") && !rest.starts_with("log_reads_why(") {
                        continue;
                    }
                    if text[..at].ends_with("fn ") {
                        continue;
                    }
                    let call = &rest[..rest.find(".await").unwrap_or(rest.len())];
                    calls += 1;
                    assert!(
                        !call.contains('"'),
                        "{}: a read logged with words of its own: {call}",
                        path.display()
                    );
                }
            }
        }
        assert!(calls >= 10, "the services' reads were found ({calls})");
    }
}
