//! Ages counted in working days ("werkdagen"), with the Dutch holiday calendar of
//! `rcn_contracts::holidays`: what a coordinator means by "three days and nobody picked it up".

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rcn_contracts::holidays::HolidayCalendar;

/// The working days after `from` up to and including `to`: 0 when `to` is not after `from`.
/// Opened on Thursday 24 December 2026, the age on Monday 28 December is 1 (Christmas, the
/// weekend and Tweede Kerstdag do not count).
pub fn between(calendar: &HolidayCalendar, from: NaiveDate, to: NaiveDate) -> u32 {
    // The holidays of a year are computed once per year met, not once per day: a figure asks
    // this for every open case.
    let mut year = None;
    let mut holidays = Vec::new();
    let mut n = 0;
    let mut d = from;
    while d < to {
        let Some(next) = d.checked_add_days(Days::new(1)) else {
            break;
        };
        d = next;
        if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        if year != Some(d.year()) {
            year = Some(d.year());
            holidays = calendar.holidays(d.year());
        }
        if !holidays.iter().any(|(h, _)| *h == d) {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn holidays_and_weekends_do_not_count() {
        let cal = HolidayCalendar::default();
        assert_eq!(between(&cal, day("2026-12-24"), day("2026-12-28")), 1);
        assert_eq!(between(&cal, day("2026-12-24"), day("2026-12-24")), 0);
        assert_eq!(between(&cal, day("2026-12-28"), day("2026-12-24")), 0);
        // Monday to Monday: five working days.
        assert_eq!(between(&cal, day("2026-11-30"), day("2026-12-07")), 5);
        // Over Easter 2026 (Monday 6 April is Tweede Paasdag; Good Friday works by default).
        assert_eq!(between(&cal, day("2026-04-02"), day("2026-04-07")), 2);
        let off = HolidayCalendar {
            good_friday_off: true,
            ..cal
        };
        assert_eq!(between(&off, day("2026-04-02"), day("2026-04-07")), 1);
    }

    #[test]
    fn agrees_with_the_calendar_day_by_day_across_years() {
        let cal = HolidayCalendar::default();
        let start = day("2024-12-01");
        let mut expected = 0;
        let mut d = start;
        for _ in 0..800 {
            d = d.succ_opt().unwrap();
            expected += u32::from(cal.is_working_day(d));
            assert_eq!(between(&cal, start, d), expected, "{d}");
        }
    }
}
