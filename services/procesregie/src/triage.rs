//! The weekly triage: which meeting an application goes to. An application complete before the
//! cut-off (Monday 12:00 Europe/Amsterdam by default) is discussed at that week's meeting
//! (Tuesday), a later one the week after; a meeting that falls on a public holiday moves as the
//! region's [`HolidayPolicy`] says.
//!
//! Pure functions of an instant and the rules; nothing here reads a clock.

use chrono::NaiveTime;
use rcn_contracts::holidays::HolidayCalendar;
use rcn_contracts::procesregie_api::{DayOfWeek, HolidayPolicy};

/// When the region's triage meets and what its cut-off is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriageRules {
    /// The day of the cut-off, Europe/Amsterdam.
    pub cutoff_day: DayOfWeek,
    /// The time of the cut-off on that day, Europe/Amsterdam wall-clock time.
    pub cutoff_time: NaiveTime,
    /// The day of the meeting.
    pub triage_day: DayOfWeek,
    /// Where a meeting that falls on a holiday goes.
    pub on_holiday: HolidayPolicy,
    /// Which days are holidays.
    pub calendar: HolidayCalendar,
}

impl Default for TriageRules {
    fn default() -> Self {
        Self {
            cutoff_day: DayOfWeek::Monday,
            cutoff_time: NaiveTime::from_hms_opt(12, 0, 0).expect("noon exists"),
            triage_day: DayOfWeek::Tuesday,
            on_holiday: HolidayPolicy::NextWorkingDay,
            calendar: HolidayCalendar::default(),
        }
    }
}
