//! Procesregie's request-reply contract: `rcn.<region>.api.procesregie.<verb>`, each verb with its
//! request and reply type (see [`VERBS`]), every reply in the endpoint kit's envelope
//! (`crate::envelope`: `{"ok": …}` or `{"problem": …}`).
//!
//! Procesregie (the Zorg- en Veiligheidshuis' escalation of complex cases into an individueel
//! casusoverleg, ICO): suggestions by rule, applications (aanmeldingen), the weekly triage, and
//! the ICO with its plan van aanpak. The caller is always a person (`Rcn-Identity`); who may see
//! and do what is decided by procesregie, not by the body.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every verb of procesregie's API: `rcn.<region>.api.procesregie.<verb>`.
pub const VERBS: [&str; 1] = ["settings"];

/// A day of the week, as region settings name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DayOfWeek {
    pub const ALL: [DayOfWeek; 7] = [
        DayOfWeek::Monday,
        DayOfWeek::Tuesday,
        DayOfWeek::Wednesday,
        DayOfWeek::Thursday,
        DayOfWeek::Friday,
        DayOfWeek::Saturday,
        DayOfWeek::Sunday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DayOfWeek::Monday => "monday",
            DayOfWeek::Tuesday => "tuesday",
            DayOfWeek::Wednesday => "wednesday",
            DayOfWeek::Thursday => "thursday",
            DayOfWeek::Friday => "friday",
            DayOfWeek::Saturday => "saturday",
            DayOfWeek::Sunday => "sunday",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s.trim().to_ascii_lowercase())
    }

    /// Days after Monday: Monday 0, Sunday 6.
    pub fn days_from_monday(self) -> u32 {
        self as u32
    }
}

/// What happens when the triage day is a public holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolidayPolicy {
    /// The meeting moves to the next working day (Koningsdag on a Tuesday: Wednesday).
    #[default]
    NextWorkingDay,
    /// The meeting moves to the last working day before it.
    PreviousWorkingDay,
    /// There is no meeting that week; its applications go to the next week's.
    NextWeek,
}

impl HolidayPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            HolidayPolicy::NextWorkingDay => "next_working_day",
            HolidayPolicy::PreviousWorkingDay => "previous_working_day",
            HolidayPolicy::NextWeek => "next_week",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::NextWorkingDay,
            Self::PreviousWorkingDay,
            Self::NextWeek,
        ]
        .into_iter()
        .find(|p| p.as_str() == s.trim())
    }
}

/// The region's procesregie settings as the triage board shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SettingsView {
    /// The day of the weekly cut-off (Europe/Amsterdam): an application complete before it goes
    /// to that week's triage.
    pub cutoff_day: DayOfWeek,
    /// The time of the cut-off on that day, `HH:MM` Europe/Amsterdam.
    pub cutoff_time: String,
    /// The day of the weekly triage meeting.
    pub triage_day: DayOfWeek,
    /// What happens when the triage day is a public holiday.
    pub on_holiday: HolidayPolicy,
}
