//! Ages counted in working days ("werkdagen"), with the Dutch holiday calendar of
//! `rcn_contracts::holidays`: what a coordinator means by "three days and nobody picked it up".

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rcn_contracts::holidays::HolidayCalendar;

/// The working days after `from` up to and including `to`: 0 when `to` is not after `from`.
/// Opened on Thursday 24 December 2026, the age on Monday 28 December is 1 (Christmas, the
/// weekend and Tweede Kerstdag do not count).
pub fn between(calendar: &HolidayCalendar, from: NaiveDate, to: NaiveDate) -> u32 {
    if to <= from {
        return 0;
    }
    // Weekdays in (from, to] by counting, then less the holidays on a weekday in that span: a
    // figure asks this for every open case and overdue task, so no walking day by day.
    let days = (to - from).num_days();
    let mut weekdays = days / 7 * 5;
    let mut d = from + Days::new((days / 7 * 7) as u64);
    while d < to {
        d = d + Days::new(1);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            weekdays += 1;
        }
    }
    let holidays = (from.year()..=to.year())
        .flat_map(|year| calendar.holidays(year))
        .filter(|(h, _)| *h > from && *h <= to)
        .filter(|(h, _)| !matches!(h.weekday(), Weekday::Sat | Weekday::Sun))
        .count() as i64;
    u32::try_from(weekdays - holidays).unwrap_or(0)
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
