//! The weekly triage: which meeting an application goes to. An application complete before the
//! cut-off (Monday 12:00 Europe/Amsterdam by default) is discussed at that week's meeting
//! (Tuesday), a later one the week after; a meeting that falls on a public holiday moves as the
//! region's [`HolidayPolicy`] says.
//!
//! Pure functions of an instant and the rules; nothing here reads a clock.

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
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

/// A triage meeting an application goes to: the day, and the cut-off it had to beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriageSlot {
    /// The day of the meeting (after the holiday policy).
    pub meeting_on: NaiveDate,
    /// The last instant (exclusive) an application could be completed for this meeting.
    pub cutoff_at: DateTime<Utc>,
}

impl TriageRules {
    /// The meeting an application completed at `at` goes to: this week's when `at` is before
    /// this week's cut-off, otherwise next week's.
    pub fn slot_for(&self, at: DateTime<Utc>) -> TriageSlot {
        let local = at.with_timezone(&Amsterdam).date_naive();
        let monday = local - Days::new(u64::from(local.weekday().num_days_from_monday()));
        let this_week = self.slot_of_week(monday);
        if at < this_week.cutoff_at {
            this_week
        } else {
            self.slot_of_week(monday + Days::new(7))
        }
    }

    /// The meeting whose cut-off lies in the week starting on `monday` (with the holiday policy
    /// applied; under [`HolidayPolicy::NextWeek`] that may be a later week's meeting, keeping
    /// this week's cut-off).
    pub fn slot_of_week(&self, monday: NaiveDate) -> TriageSlot {
        let cutoff_on = monday + Days::new(u64::from(self.cutoff_day.days_from_monday()));
        let cutoff_at = amsterdam_instant(cutoff_on, self.cutoff_time);
        // The first meeting day on or after the cut-off day.
        let ahead =
            (7 + self.triage_day.days_from_monday() - self.cutoff_day.days_from_monday()) % 7;
        let mut meeting_on = cutoff_on + Days::new(u64::from(ahead));
        // A year has few holidays on a weekday: a bounded loop, never endless.
        for _ in 0..8 {
            if self.calendar.is_working_day(meeting_on) {
                break;
            }
            meeting_on = match self.on_holiday {
                HolidayPolicy::NextWorkingDay => self.calendar.working_days_after(meeting_on, 1),
                HolidayPolicy::PreviousWorkingDay => {
                    // Never before the cut-off day: the meeting must follow its cut-off.
                    self.calendar.on_or_before(meeting_on).max(cutoff_on)
                }
                HolidayPolicy::NextWeek => meeting_on + Days::new(7),
            };
        }
        TriageSlot {
            meeting_on,
            cutoff_at,
        }
    }

    /// The meeting held on `day` (or moved to it by the holiday policy), if one is: the triage
    /// board's agenda for that day.
    pub fn slot_meeting_on(&self, day: NaiveDate) -> Option<TriageSlot> {
        // The cut-off of the meeting on `day` lies within the two weeks before it.
        (0..3u64)
            .filter_map(|weeks_back| {
                let d = day - Days::new(7 * weeks_back);
                let monday = d - Days::new(u64::from(d.weekday().num_days_from_monday()));
                let slot = self.slot_of_week(monday);
                (slot.meeting_on == day).then_some(slot)
            })
            .next()
    }
}

/// The instant of wall-clock `time` on `day` in Amsterdam. A time that does not exist (inside
/// the spring-forward hour) is read as the first instant after the gap; one that exists twice
/// (autumn) as the earlier.
pub fn amsterdam_instant(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = day.and_time(time);
    match Amsterdam.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => Amsterdam
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The triage-week table: (completed at, UTC; the meeting it goes to).
    #[test]
    fn the_cutoff_is_monday_noon_in_amsterdam_whatever_the_utc_offset() {
        let rules = TriageRules::default();
        let table = [
            // Winter (CET, UTC+1): Monday 12:00 Amsterdam is 11:00 UTC.
            ("2026-11-23T10:59:59Z", "2026-11-24"), // Monday 11:59:59 → this Tuesday
            ("2026-11-23T11:00:00Z", "2026-12-01"), // Monday 12:00:00 → next Tuesday
            // Summer (CEST, UTC+2): Monday 12:00 Amsterdam is 10:00 UTC.
            ("2026-06-15T09:59:59Z", "2026-06-16"),
            ("2026-06-15T10:00:00Z", "2026-06-23"),
            // The week clocks go forward (Sunday 29 March 2026): Monday 30 March is already CEST.
            ("2026-03-30T09:59:59Z", "2026-03-31"),
            ("2026-03-30T10:00:00Z", "2026-04-07"),
            ("2026-03-30T10:30:00Z", "2026-04-07"), // 12:30 Amsterdam: late, though 11:30 in CET
            // The week clocks go back (Sunday 25 October 2026): Monday 26 October is CET again.
            ("2026-10-26T10:59:59Z", "2026-10-27"),
            ("2026-10-26T11:00:00Z", "2026-11-03"),
            ("2026-10-26T10:30:00Z", "2026-10-27"), // 11:30 Amsterdam: in time, though 12:30 in CEST
            // Sunday night late in UTC is already Monday in Amsterdam, and vice versa.
            ("2026-11-22T23:30:00Z", "2026-11-24"), // Monday 00:30 Amsterdam
            ("2026-11-22T22:59:59Z", "2026-11-24"), // Sunday 23:59:59 Amsterdam: the week before's cut-off passed long ago
            // Any day after the cut-off goes to next week's meeting, the meeting day itself too.
            ("2026-11-24T08:00:00Z", "2026-12-01"),
            ("2026-11-28T12:00:00Z", "2026-12-01"), // Saturday
        ];
        for (at, meeting) in table {
            assert_eq!(rules.slot_for(utc(at)).meeting_on, day(meeting), "{at}");
        }
        assert_eq!(
            rules.slot_for(utc("2026-03-30T09:00:00Z")).cutoff_at,
            utc("2026-03-30T10:00:00Z")
        );
    }

    #[test]
    fn a_tuesday_that_is_a_holiday_moves_the_meeting_as_the_region_says() {
        // Koningsdag 2027 is Tuesday 27 April.
        let before = utc("2027-04-26T09:00:00Z");
        let late = utc("2027-04-26T10:00:00Z");
        let next = |on_holiday| TriageRules {
            on_holiday,
            ..TriageRules::default()
        };
        assert_eq!(
            next(HolidayPolicy::NextWorkingDay)
                .slot_for(before)
                .meeting_on,
            day("2027-04-28")
        );
        assert_eq!(
            next(HolidayPolicy::PreviousWorkingDay)
                .slot_for(before)
                .meeting_on,
            day("2027-04-26"),
            "Monday afternoon, after the noon cut-off"
        );
        assert_eq!(
            next(HolidayPolicy::NextWeek).slot_for(before).meeting_on,
            day("2027-05-04")
        );
        // Late for that week: the next week's meeting, whatever the policy.
        assert_eq!(
            next(HolidayPolicy::NextWorkingDay)
                .slot_for(late)
                .meeting_on,
            day("2027-05-04")
        );
        // Tweede Kerstdag 2028 is a Tuesday: Wednesday 27 December.
        assert_eq!(
            TriageRules::default()
                .slot_for(utc("2028-12-25T09:00:00Z"))
                .meeting_on,
            day("2028-12-27"),
            "Christmas Monday itself is no obstacle to completing an application"
        );
    }

    #[test]
    fn another_cutoff_and_meeting_day_work_the_same_way() {
        // Cut-off Thursday 17:00, triage Monday: the meeting after the cut-off.
        let rules = TriageRules {
            cutoff_day: DayOfWeek::Thursday,
            cutoff_time: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            triage_day: DayOfWeek::Monday,
            ..TriageRules::default()
        };
        assert_eq!(
            rules.slot_for(utc("2026-11-26T15:59:59Z")).meeting_on,
            day("2026-11-30")
        );
        assert_eq!(
            rules.slot_for(utc("2026-11-26T16:00:00Z")).meeting_on,
            day("2026-12-07")
        );
    }

    #[test]
    fn the_agenda_of_a_day_finds_its_meeting() {
        let rules = TriageRules::default();
        assert_eq!(
            rules
                .slot_meeting_on(day("2026-11-24"))
                .map(|s| s.cutoff_at),
            Some(utc("2026-11-23T11:00:00Z"))
        );
        assert_eq!(rules.slot_meeting_on(day("2026-11-25")), None);
        assert_eq!(
            rules
                .slot_meeting_on(day("2027-04-28"))
                .map(|s| s.meeting_on),
            Some(day("2027-04-28")),
            "the meeting moved off Koningsdag"
        );
        assert_eq!(rules.slot_meeting_on(day("2027-04-27")), None);
    }
}
