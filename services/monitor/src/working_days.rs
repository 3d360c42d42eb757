//! Ages counted in working days ("werkdagen"), with the Dutch holiday calendar of
//! `rcn_contracts::holidays`: what a coordinator means by "three days and nobody picked it up".

use chrono::{Days, NaiveDate};
use rcn_contracts::holidays::HolidayCalendar;

/// The working days after `from` up to and including `to`: 0 when `to` is not after `from`.
/// Opened on Thursday 24 December 2026, the age on Monday 28 December is 1 (Christmas, the
/// weekend and Tweede Kerstdag do not count).
pub fn between(calendar: &HolidayCalendar, from: NaiveDate, to: NaiveDate) -> u32 {
    let mut n = 0;
    let mut d = from;
    while d < to {
        let Some(next) = d.checked_add_days(Days::new(1)) else {
            break;
        };
        d = next;
        if calendar.is_working_day(d) {
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
}
