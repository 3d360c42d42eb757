//! How the portal writes things for staff: dates as `2 december 2026`, times in
//! Europe/Amsterdam, and the Dutch words staff use for conditions, statuses, roles, notice kinds
//! and close reasons. Only words for people live here; codes stay codes.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;
use rcn_contracts::casework_api::CloseReason;
use rcn_contracts::identity::Role;
use rcn_contracts::municipality::MunicipalityList;
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, NoticeKind, RiskFlag};

pub const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// `2 december 2026`.
pub fn date(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// `2 december 2026`, or `—` when there is none.
pub fn opt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "—".to_owned(), date)
}

/// `2 december 2026 om 14:05` in Europe/Amsterdam.
pub fn date_time(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Amsterdam);
    format!("{} om {}", date(local.date_naive()), local.format("%H:%M"))
}

/// Today in Europe/Amsterdam: the day staff live in.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&Amsterdam).date_naive()
}

pub fn condition(c: Condition) -> &'static str {
    match c {
        Condition::Id => "ID-bewijs",
        Condition::Housing => "Onderdak",
        Condition::Income => "Inkomen",
        Condition::Debts => "Schulden",
        Condition::Care => "Zorg",
        Condition::SocialNetwork => "Sociaal netwerk",
    }
}

pub fn status(s: ConditionStatus) -> &'static str {
    match s {
        ConditionStatus::Unknown => "Onbekend",
        ConditionStatus::NeedsAction => "Actie nodig",
        ConditionStatus::InProgress => "In behandeling",
        ConditionStatus::Arranged => "Geregeld",
        ConditionStatus::NotApplicable => "Niet van toepassing",
    }
}

/// Every status, in the order a person works through them.
pub const STATUSES: [ConditionStatus; 5] = [
    ConditionStatus::Unknown,
    ConditionStatus::NeedsAction,
    ConditionStatus::InProgress,
    ConditionStatus::Arranged,
    ConditionStatus::NotApplicable,
];

pub fn role(r: Role) -> &'static str {
    match r {
        Role::MunicipalStaff => "Nazorgcoördinator",
        Role::RcnCoordinator => "RCN-coördinator",
        Role::Procesregisseur => "Procesregisseur",
        Role::PrivacyOfficer => "Privacyfunctionaris",
        Role::Administrator => "Beheerder",
    }
}

pub fn notice_kind(k: NoticeKind) -> &'static str {
    match k {
        NoticeKind::DetentionStarted => "Start detentie",
        NoticeKind::Update => "Tussentijdse melding",
        NoticeKind::ReleasePlanned => "Ontslag gepland",
        NoticeKind::ReleaseDateChanged => "Ontslagdatum gewijzigd",
        NoticeKind::ReleasedUnexpectedly => "Onverwacht ontslag",
        NoticeKind::Transferred => "Overplaatsing",
        NoticeKind::Cancelled => "Melding ingetrokken",
    }
}

pub fn close_reason(r: CloseReason) -> &'static str {
    match r {
        CloseReason::Completed => "Afgerond",
        CloseReason::Cancelled => "Ingetrokken door de inrichting",
        CloseReason::MovedOutOfRegion => "Verhuisd buiten de regio",
        CloseReason::Deceased => "Overleden",
        CloseReason::Duplicate => "Dubbele casus",
        CloseReason::Other => "Andere reden",
    }
}

/// The reasons a person may choose when closing a case by hand.
pub const CLOSE_REASONS: [CloseReason; 4] = [
    CloseReason::Completed,
    CloseReason::Deceased,
    CloseReason::Duplicate,
    CloseReason::Other,
];

pub fn risk_flag(f: RiskFlag) -> String {
    let code = serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let words = match f {
        RiskFlag::SexualOffence => "zedendelict",
        RiskFlag::Terrorism => "terrorisme",
        RiskFlag::Radicalisation => "radicalisering",
        RiskFlag::ConfusedBehaviourHighRisk => "verward gedrag, hoog risico",
        RiskFlag::TopX => "Top X",
        RiskFlag::DomesticViolence => "huiselijk geweld",
        RiskFlag::HighRecidivism => "hoog recidiverisico",
        _ => return code,
    };
    words.to_owned()
}

/// The municipality's name (`Haarlem`), or its code when the list does not know it.
pub fn municipality(code: &Gemeentecode) -> String {
    MunicipalityList::builtin()
        .get(code)
        .map_or_else(|| code.as_str().to_owned(), |m| m.name.clone())
}

/// A history entry's change in words.
pub fn change(change: &str) -> &'static str {
    match change {
        "opened" => "Taak aangemaakt",
        "status" => "Status gewijzigd",
        "claimed" => "Geclaimd",
        "unclaimed" => "Vrijgegeven",
        "handed_over" => "Overgedragen",
        "reassigned" => "Toegewezen",
        "deadline" => "Termijn gewijzigd",
        "urgent" => "Spoed",
        "reopened" => "Heropend",
        _ => "Wijziging",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_staff_write_them() {
        assert_eq!(date("2026-12-02".parse().unwrap()), "2 december 2026");
        assert_eq!(date("2027-03-15".parse().unwrap()), "15 maart 2027");
        assert_eq!(opt_date(None), "—");
    }

    #[test]
    fn times_are_shown_in_amsterdam() {
        let winter: DateTime<Utc> = "2026-12-02T13:05:00Z".parse().unwrap();
        assert_eq!(date_time(winter), "2 december 2026 om 14:05");
        let summer: DateTime<Utc> = "2026-07-01T22:30:00Z".parse().unwrap();
        assert_eq!(date_time(summer), "2 juli 2026 om 00:30");
    }

    #[test]
    fn municipalities_are_named() {
        assert_eq!(
            municipality(&Gemeentecode::parse("GM0392").unwrap()),
            "Haarlem"
        );
    }
}
