//! The access log's vocabulary: what a logged read of personal data was of, as casework,
//! procesregie, the router and the monitor's dead-letter desk write it (`what`) and the privacy
//! officer's page reads it back.
//!
//! One type for writer and reader, so every kind of read a service can log is one the portal can
//! put into words ([`Read::ALL`] lists them for its test). The text in the log stays a plain,
//! stable machine form, `<read>` or `<read> (<field>: <bool>, …)`, e.g.
//! `case_detail (bsn: true, risk_flags: false, care_note: false)`; [`What::parse`] also reads the
//! older forms logs already hold (`task history: care`, `inbox row: …`). It must never carry a
//! BSN, a name or any other personal data: only which kinds of field were shown.

use crate::condition::Condition;

/// The kind of read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// casework `case`: one case in full.
    CaseDetail,
    /// casework `inbox`: the case's task rows in a list (name, date of birth, masked BSN, release).
    InboxRow,
    /// casework `task_history`: one task's changes with their notes.
    TaskHistory(Condition),
    /// The privacy officer asked who saw the person (every service that answers it).
    WhoSaw,
    /// procesregie `application_get`.
    Application,
    /// procesregie `application_save`: the application as saved, shown back.
    ApplicationSave,
    /// procesregie `application_list`.
    ApplicationList,
    /// procesregie `suggestion_accept`: the draft application made from a suggestion.
    SuggestionAccept,
    /// procesregie `suggestion_list`.
    SuggestionList,
    /// procesregie `triage_agenda`.
    TriageAgenda,
    /// procesregie `triage_decide`: the application as decided, shown back.
    TriageDecide,
    /// procesregie `ico_get`.
    Ico,
    /// procesregie `ico_list`.
    IcoList,
    /// procesregie ICO changes, each showing the ICO back.
    IcoUpdate,
    IcoAction,
    IcoReview,
    IcoClose,
    /// The privacy officer's export of everything held about one person (AVG art. 15).
    PrivacyExport,
    /// router `decisions`: how the person's notices were routed and why (the case page).
    RoutingDecisions,
    /// router `queue.list`: the person's notice in the manual routing queue (masked BSN, PC4,
    /// institution, release date).
    RoutingQueue,
    /// router `queue.decide`: a coordinator decided by hand where the person's notice goes.
    ManualRouting,
    /// monitor dead-letter desk `show`: a dead letter's payload holding the person's BSN.
    DeadLetterInspected,
    /// monitor dead-letter desk `replay`: such a letter offered to its service again.
    DeadLetterReplayed,
    /// monitor dead-letter desk `discard`: such a letter removed unhandled.
    DeadLetterDiscarded,
}

impl Read {
    /// Every kind of read except the per-condition ones, which [`Read::all`] adds.
    const FIXED: [Read; 23] = [
        Read::CaseDetail,
        Read::InboxRow,
        Read::WhoSaw,
        Read::Application,
        Read::ApplicationSave,
        Read::ApplicationList,
        Read::SuggestionAccept,
        Read::SuggestionList,
        Read::TriageAgenda,
        Read::TriageDecide,
        Read::Ico,
        Read::IcoList,
        Read::IcoUpdate,
        Read::IcoAction,
        Read::IcoReview,
        Read::IcoClose,
        Read::PrivacyExport,
        Read::RoutingDecisions,
        Read::RoutingQueue,
        Read::ManualRouting,
        Read::DeadLetterInspected,
        Read::DeadLetterReplayed,
        Read::DeadLetterDiscarded,
    ];

    /// Every kind of read a service may log (one task history per condition).
    pub fn all() -> Vec<Read> {
        let mut all = Self::FIXED.to_vec();
        all.extend(
            [Condition::DEFAULT.as_slice(), &[Condition::SocialNetwork]]
                .concat()
                .into_iter()
                .map(Read::TaskHistory),
        );
        all
    }

    /// The word in the log (for a task history, without its condition).
    pub fn word(self) -> &'static str {
        match self {
            Read::CaseDetail => "case_detail",
            Read::InboxRow => "inbox_row",
            Read::TaskHistory(_) => "task_history",
            Read::WhoSaw => crate::privacy_api::WHO_SAW_VERB,
            Read::Application => "application",
            Read::ApplicationSave => "application_save",
            Read::ApplicationList => "application_list",
            Read::SuggestionAccept => "suggestion_accept",
            Read::SuggestionList => "suggestion_list",
            Read::TriageAgenda => "triage_agenda",
            Read::TriageDecide => "triage_decide",
            Read::Ico => "ico",
            Read::IcoList => "ico_list",
            Read::IcoUpdate => "ico_update",
            Read::IcoAction => "ico_action",
            Read::IcoReview => "ico_review",
            Read::IcoClose => "ico_close",
            Read::PrivacyExport => crate::privacy_export::EXPORT_VERB,
            Read::RoutingDecisions => "routing_decisions",
            Read::RoutingQueue => "routing_queue",
            Read::ManualRouting => "manual_routing",
            Read::DeadLetterInspected => "dead_letter_inspected",
            Read::DeadLetterReplayed => "dead_letter_replayed",
            Read::DeadLetterDiscarded => "dead_letter_discarded",
        }
    }
}

/// A kind of personal field whose showing a read records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The full BSN (false: masked).
    Bsn,
    /// Risk flags and their details.
    RiskFlags,
    /// The text of the notes on the care condition (health data).
    CareNote,
    /// The notes of a task's history.
    Notes,
    /// The partners' and the casusregisseur's contact details.
    PartnerContacts,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Bsn,
        Field::RiskFlags,
        Field::CareNote,
        Field::Notes,
        Field::PartnerContacts,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Field::Bsn => "bsn",
            Field::RiskFlags => "risk_flags",
            Field::CareNote => "care_note",
            Field::Notes => "notes",
            Field::PartnerContacts => "partner_contacts",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.word() == s)
    }
}

/// One logged read: its kind and, for the fields that may be withheld, whether each was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct What {
    pub read: Read,
    pub shown: Vec<(Field, bool)>,
}

impl What {
    pub fn new(read: Read) -> Self {
        What {
            read,
            shown: Vec::new(),
        }
    }

    /// This read, recording whether `field` was shown.
    pub fn with(mut self, field: Field, shown: bool) -> Self {
        self.shown.push((field, shown));
        self
    }

    /// Whether `field` was shown; `None` when the read does not say.
    pub fn shown(&self, field: Field) -> Option<bool> {
        self.shown
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, s)| *s)
    }

    /// The text the access log keeps.
    pub fn to_log(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Read::TaskHistory(c) = self.read {
            parts.push(format!("condition: {}", c.as_str()));
        }
        parts.extend(self.shown.iter().map(|(f, s)| format!("{}: {s}", f.word())));
        if parts.is_empty() {
            self.read.word().to_owned()
        } else {
            format!("{} ({})", self.read.word(), parts.join(", "))
        }
    }

    /// Reads a log text back; `None` for a text this vocabulary does not know (the page then
    /// shows it as written, marked as such).
    pub fn parse(text: &str) -> Option<Self> {
        // The forms written before this vocabulary.
        if text.starts_with("inbox row:") || text == "inbox" {
            return Some(What::new(Read::InboxRow));
        }
        if let Some(c) = text.strip_prefix("task history: ") {
            return Condition::parse(c.trim()).map(|c| What::new(Read::TaskHistory(c)));
        }
        let (word, rest) = match text.split_once(" (") {
            Some((word, rest)) => (word, Some(rest.strip_suffix(')')?)),
            None => (text, None),
        };
        let mut condition = None;
        let mut shown = Vec::new();
        for part in rest.into_iter().flat_map(|r| r.split(", ")) {
            let (key, value) = part.split_once(": ")?;
            if key == "condition" {
                condition = Some(Condition::parse(value)?);
                continue;
            }
            let value = match value {
                "true" => true,
                "false" => false,
                _ => return None,
            };
            shown.push((Field::parse(key)?, value));
        }
        let read = if word == "task_history" {
            Read::TaskHistory(condition?)
        } else {
            if condition.is_some() {
                return None;
            }
            Read::FIXED.into_iter().find(|r| r.word() == word)?
        };
        Some(What { read, shown })
    }
}

/// The longest reason a read of personal data may carry (`why`), in characters.
pub const MAX_WHY: usize = 500;

/// The reason a read request gave (`why`: the purpose of the read, kept in the access log beside
/// who read what), trimmed; `None` when absent or blank. Refused, with a problem at `why` a
/// caller can act on, when longer than [`MAX_WHY`] characters or holding a control character
/// (a line break or tab included: the reason is one line in the log and on the privacy page).
///
/// Every service checks a read's `why` with this one rule before it reads anything.
pub fn read_why(raw: Option<&str>) -> Result<Option<&str>, crate::notice::Problem> {
    let Some(why) = raw.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(None);
    };
    if why.chars().count() > MAX_WHY {
        return Err(crate::notice::Problem::new(
            "why",
            format!("the reason for the read may be at most {MAX_WHY} characters"),
        ));
    }
    if why.chars().any(char::is_control) {
        return Err(crate::notice::Problem::new(
            "why",
            "the reason for the read must be one line of text, without control characters",
        ));
    }
    Ok(Some(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_read_with_every_field_reads_back_as_written() {
        for read in Read::all() {
            for shown in [true, false] {
                let what = Field::ALL
                    .into_iter()
                    .fold(What::new(read), |w, f| w.with(f, shown));
                assert_eq!(What::parse(&what.to_log()), Some(what.clone()), "{what:?}");
                let plain = What::new(read);
                assert_eq!(What::parse(&plain.to_log()), Some(plain));
            }
        }
    }

    #[test]
    fn the_forms_already_in_the_logs_still_read() {
        assert_eq!(
            What::parse("case_detail (bsn: true, risk_flags: false)"),
            Some(
                What::new(Read::CaseDetail)
                    .with(Field::Bsn, true)
                    .with(Field::RiskFlags, false)
            )
        );
        assert_eq!(
            What::parse("task history: care"),
            Some(What::new(Read::TaskHistory(Condition::Care)))
        );
        assert_eq!(
            What::parse("inbox row: name, date of birth, masked BSN, release date"),
            Some(What::new(Read::InboxRow))
        );
        assert_eq!(
            What::new(Read::TaskHistory(Condition::Care))
                .with(Field::Notes, false)
                .to_log(),
            "task_history (condition: care, notes: false)"
        );
    }

    #[test]
    fn unknown_words_and_malformed_details_are_not_guessed() {
        for text in [
            "something_new",
            "case_detail (bsn: maybe)",
            "case_detail (colour: true)",
            "case_detail (bsn: true",
            "task_history",
            "task history: sleep",
            "ico (condition: care)",
        ] {
            assert_eq!(What::parse(text), None, "{text}");
        }
    }

    #[test]
    fn a_reads_reason_is_trimmed_blank_is_none_and_too_long_or_control_characters_are_refused() {
        assert_eq!(read_why(None), Ok(None));
        assert_eq!(read_why(Some(" \t ")), Ok(None));
        assert_eq!(
            read_why(Some("  Casus bekijken ")),
            Ok(Some("Casus bekijken"))
        );
        let longest = "é".repeat(MAX_WHY);
        assert_eq!(read_why(Some(&longest)), Ok(Some(longest.as_str())));
        for refused in [
            "x".repeat(MAX_WHY + 1),
            "Casus\nbekijken".to_owned(),
            "Casus\u{7}bekijken".to_owned(),
            "Casus\u{1b}[31mbekijken".to_owned(),
        ] {
            let p = read_why(Some(&refused)).expect_err("refused");
            assert_eq!(p.path, "why", "{refused:?}");
        }
    }
}
