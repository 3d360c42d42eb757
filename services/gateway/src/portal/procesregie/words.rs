//! The words ZVH staff use for procesregie's codes: outcomes, statuses, close reasons, weekdays.
//! Only words for people live here; the codes stay codes in forms and URLs.

use chrono::{Datelike, NaiveDate};
use rcn_contracts::procesregie_api::{
    ActionStatus, ApplicationStatus, DayOfWeek, HolidayPolicy, IcoCloseReason, IcoStatus,
    TriageOutcome,
};

use crate::portal::fmt;

/// The outcome as the triage records it.
pub fn outcome(o: TriageOutcome) -> &'static str {
    match o {
        TriageOutcome::Ico => "ICO",
        TriageOutcome::Advice => "Advies",
        TriageOutcome::LocalTable => "Verwezen naar lokaal overleg",
        TriageOutcome::NotAccepted => "Niet geaccepteerd",
    }
}

/// The outcome as a choice on the triage board's form.
pub fn outcome_choice(o: TriageOutcome) -> &'static str {
    match o {
        TriageOutcome::Ico => "ICO starten",
        TriageOutcome::Advice => "Advies geven",
        TriageOutcome::LocalTable => "Verwijzen naar lokaal overleg",
        TriageOutcome::NotAccepted => "Niet geaccepteerd",
    }
}

pub const OUTCOMES: [TriageOutcome; 4] = [
    TriageOutcome::Ico,
    TriageOutcome::Advice,
    TriageOutcome::LocalTable,
    TriageOutcome::NotAccepted,
];

pub fn application_status(s: ApplicationStatus) -> &'static str {
    match s {
        ApplicationStatus::Draft => "Concept",
        ApplicationStatus::Submitted => "Ingediend",
        ApplicationStatus::Triaged => "Besproken in de triage",
    }
}

pub fn ico_status(s: IcoStatus) -> &'static str {
    match s {
        IcoStatus::Open => "Lopend",
        IcoStatus::Closed => "Gesloten",
    }
}

pub fn action_status(s: ActionStatus) -> &'static str {
    match s {
        ActionStatus::Open => "Open",
        ActionStatus::InProgress => "In uitvoering",
        ActionStatus::Done => "Afgerond",
        ActionStatus::Cancelled => "Vervallen",
    }
}

pub const ACTION_STATUSES: [ActionStatus; 4] = [
    ActionStatus::Open,
    ActionStatus::InProgress,
    ActionStatus::Done,
    ActionStatus::Cancelled,
];

pub fn close_reason(r: IcoCloseReason) -> &'static str {
    match r {
        IcoCloseReason::GoalReached => "Doel bereikt",
        IcoCloseReason::HandedBack => "Teruggegeven aan de reguliere keten",
        IcoCloseReason::NoCooperation => "Geen medewerking",
        IcoCloseReason::MovedOutOfRegion => "Verhuisd buiten de regio",
        IcoCloseReason::DetainedAgain => "Opnieuw gedetineerd",
        IcoCloseReason::Deceased => "Overleden",
    }
}

pub const CLOSE_REASONS: [IcoCloseReason; 6] = [
    IcoCloseReason::GoalReached,
    IcoCloseReason::HandedBack,
    IcoCloseReason::NoCooperation,
    IcoCloseReason::MovedOutOfRegion,
    IcoCloseReason::DetainedAgain,
    IcoCloseReason::Deceased,
];

pub fn weekday(d: DayOfWeek) -> &'static str {
    match d {
        DayOfWeek::Monday => "maandag",
        DayOfWeek::Tuesday => "dinsdag",
        DayOfWeek::Wednesday => "woensdag",
        DayOfWeek::Thursday => "donderdag",
        DayOfWeek::Friday => "vrijdag",
        DayOfWeek::Saturday => "zaterdag",
        DayOfWeek::Sunday => "zondag",
    }
}

/// `dinsdag 8 december 2026`.
pub fn day(d: NaiveDate) -> String {
    let wd = DayOfWeek::ALL[d.weekday().num_days_from_monday() as usize];
    format!("{} {}", weekday(wd), fmt::date(d))
}

pub fn holiday_policy(p: HolidayPolicy) -> &'static str {
    match p {
        HolidayPolicy::NextWorkingDay => "schuift de triage naar de eerstvolgende werkdag",
        HolidayPolicy::PreviousWorkingDay => "schuift de triage naar de werkdag ervoor",
        HolidayPolicy::NextWeek => "vervalt de triage; de aanmeldingen gaan naar de week erna",
    }
}

/// A service's reason for refusing a field, in Dutch (procesregie answers in English).
pub fn invalid_in_dutch(reason: &str) -> String {
    if let Some(max) = reason.strip_prefix("at most ") {
        let n = max.split_whitespace().next().unwrap_or("");
        return format!("Deze tekst is te lang: ten hoogste {n} tekens.");
    }
    if reason.contains("e-mail") {
        return "Dit is geen e-mailadres. Vul een adres in als naam@organisatie.nl.".into();
    }
    if reason.contains("must not be empty") || reason.starts_with("give ") {
        return "Vul dit veld in.".into();
    }
    "Controleer dit veld.".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meeting_day_reads_with_its_weekday() {
        assert_eq!(
            day("2026-12-08".parse().unwrap()),
            "dinsdag 8 december 2026"
        );
    }

    #[test]
    fn the_services_english_reasons_become_dutch() {
        assert_eq!(
            invalid_in_dutch("at most 200 characters"),
            "Deze tekst is te lang: ten hoogste 200 tekens."
        );
        assert!(invalid_in_dutch("not an e-mail address").starts_with("Dit is geen e-mailadres"));
        assert_eq!(invalid_in_dutch("must not be empty"), "Vul dit veld in.");
    }
}
