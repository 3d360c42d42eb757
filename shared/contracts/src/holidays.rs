//! The Dutch public holiday calendar and working-day arithmetic, for deadlines that the region's
//! rules count in working days ("werkdagen").
//!
//! Which days are off is partly law (Algemene termijnenwet names the days on which statutory
//! terms do not end) and partly collective agreement (CAO). Two days differ between employers,
//! so they are settings of [`HolidayCalendar`] rather than facts:
//!
//! - **Goede Vrijdag** is not a general day off: neither the Algemene termijnenwet nor the
//!   municipal CAO names it. Default: a working day.
//! - **Bevrijdingsdag** (5 May) is a national holiday every year, but most CAOs (and the
//!   Algemene termijnenwet) give it as a day off only in lustrum years (2025, 2030, …).
//!   Default: [`LiberationDay::Lustrum`].
//!
//! Everything here is a pure function of the date; nothing reads a clock.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// A public holiday, by its Dutch name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    Nieuwjaarsdag,
    GoedeVrijdag,
    EerstePaasdagPasen,
    TweedePaasdag,
    Koningsdag,
    Bevrijdingsdag,
    Hemelvaartsdag,
    EerstePinksterdag,
    TweedePinksterdag,
    EersteKerstdag,
    TweedeKerstdag,
}

impl Holiday {
    /// The name staff know it by.
    pub fn dutch_name(self) -> &'static str {
        match self {
            Holiday::Nieuwjaarsdag => "Nieuwjaarsdag",
            Holiday::GoedeVrijdag => "Goede Vrijdag",
            Holiday::EerstePaasdagPasen => "Eerste Paasdag",
            Holiday::TweedePaasdag => "Tweede Paasdag",
            Holiday::Koningsdag => "Koningsdag",
            Holiday::Bevrijdingsdag => "Bevrijdingsdag",
            Holiday::Hemelvaartsdag => "Hemelvaartsdag",
            Holiday::EerstePinksterdag => "Eerste Pinksterdag",
            Holiday::TweedePinksterdag => "Tweede Pinksterdag",
            Holiday::EersteKerstdag => "Eerste Kerstdag",
            Holiday::TweedeKerstdag => "Tweede Kerstdag",
        }
    }
}

/// When Bevrijdingsdag (5 May) counts as a day off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiberationDay {
    /// Every year.
    Always,
    /// Only in lustrum years (the year divisible by 5): what most CAOs give.
    #[default]
    Lustrum,
    /// Never.
    Never,
}

impl LiberationDay {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "always" => Some(Self::Always),
            "lustrum" => Some(Self::Lustrum),
            "never" => Some(Self::Never),
            _ => None,
        }
    }
}

/// Which days are not working days: weekends, the public holidays, and the two days employers
/// differ on. The default matches the municipal CAO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HolidayCalendar {
    /// Whether Goede Vrijdag is a day off (default: no).
    pub good_friday_off: bool,
    /// When Bevrijdingsdag is a day off (default: lustrum years).
    pub liberation_day: LiberationDay,
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous Gregorian algorithm, also
/// known as Meeus/Jones/Butcher).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
        .expect("the algorithm yields a date in March or April")
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a fixed holiday date exists every year")
}

fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date + Days::new(days as u64)
    } else {
        date - Days::new(days.unsigned_abs())
    }
}

impl HolidayCalendar {
    /// The days off of `year` under this calendar, in date order. Sundays among them (Eerste
    /// Paasdag, Eerste Pinksterdag) are listed for completeness; they are weekend days anyway.
    pub fn holidays(&self, year: i32) -> Vec<(NaiveDate, Holiday)> {
        let easter = easter(year);
        // Koningsdag moves to the 26th when the 27th is a Sunday (since 2014).
        let kings_day = match ymd(year, 4, 27).weekday() {
            Weekday::Sun => ymd(year, 4, 26),
            _ => ymd(year, 4, 27),
        };
        let mut days = vec![
            (ymd(year, 1, 1), Holiday::Nieuwjaarsdag),
            (easter, Holiday::EerstePaasdagPasen),
            (shift(easter, 1), Holiday::TweedePaasdag),
            (kings_day, Holiday::Koningsdag),
            (shift(easter, 39), Holiday::Hemelvaartsdag),
            (shift(easter, 49), Holiday::EerstePinksterdag),
            (shift(easter, 50), Holiday::TweedePinksterdag),
            (ymd(year, 12, 25), Holiday::EersteKerstdag),
            (ymd(year, 12, 26), Holiday::TweedeKerstdag),
        ];
        if self.good_friday_off {
            days.push((shift(easter, -2), Holiday::GoedeVrijdag));
        }
        let liberation = match self.liberation_day {
            LiberationDay::Always => true,
            LiberationDay::Lustrum => year % 5 == 0,
            LiberationDay::Never => false,
        };
        if liberation {
            days.push((ymd(year, 5, 5), Holiday::Bevrijdingsdag));
        }
        days.sort_by_key(|(d, _)| *d);
        days
    }

    /// The holiday on `date`, if it is one under this calendar.
    pub fn holiday(&self, date: NaiveDate) -> Option<Holiday> {
        self.holidays(date.year())
            .into_iter()
            .find(|(d, _)| *d == date)
            .map(|(_, h)| h)
    }

    /// Monday to Friday and not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && self.holiday(date).is_none()
    }

    /// `date` itself when it is a working day, else the last working day before it.
    pub fn on_or_before(&self, mut date: NaiveDate) -> NaiveDate {
        while !self.is_working_day(date) {
            date = shift(date, -1);
        }
        date
    }

    /// `n` working days before `date`, counted from [`Self::on_or_before`]`(date)`: with `n` = 0
    /// the last working day on or before `date`.
    pub fn working_days_before(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = self.on_or_before(date);
        for _ in 0..n {
            d = self.on_or_before(shift(d, -1));
        }
        d
    }

    /// `n` working days after `date` (`date` itself when `n` = 0, working day or not).
    pub fn working_days_after(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        for _ in 0..n {
            d = shift(d, 1);
            while !self.is_working_day(d) {
                d = shift(d, 1);
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn easter_matches_the_published_dates() {
        let known = [
            (2019, "2019-04-21"),
            (2020, "2020-04-12"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2028, "2028-04-16"),
            (2038, "2038-04-25"),
        ];
        for (year, date) in known {
            assert_eq!(easter(year), day(date), "{year}");
        }
    }

    #[test]
    fn koningsdag_moves_to_saturday_when_the_27th_is_a_sunday() {
        let cal = HolidayCalendar::default();
        assert_eq!(cal.holiday(day("2025-04-26")), Some(Holiday::Koningsdag));
        assert_eq!(cal.holiday(day("2025-04-27")), None);
        assert_eq!(cal.holiday(day("2026-04-27")), Some(Holiday::Koningsdag));
        assert_eq!(cal.holiday(day("2027-04-27")), Some(Holiday::Koningsdag));
        assert_eq!(
            cal.holiday(day("2031-04-26")),
            Some(Holiday::Koningsdag),
            "27 April 2031 is a Sunday"
        );
        assert_eq!(cal.holiday(day("2032-04-26")), None);
        assert_eq!(cal.holiday(day("2032-04-27")), Some(Holiday::Koningsdag));
    }

    #[test]
    fn the_movable_feasts_follow_easter() {
        let cal = HolidayCalendar::default();
        let h = |s: &str| cal.holiday(day(s));
        assert_eq!(h("2025-04-21"), Some(Holiday::TweedePaasdag));
        assert_eq!(h("2025-05-29"), Some(Holiday::Hemelvaartsdag));
        assert_eq!(h("2025-06-09"), Some(Holiday::TweedePinksterdag));
        assert_eq!(h("2026-04-06"), Some(Holiday::TweedePaasdag));
        assert_eq!(h("2026-05-14"), Some(Holiday::Hemelvaartsdag));
        assert_eq!(h("2026-05-25"), Some(Holiday::TweedePinksterdag));
        assert_eq!(h("2027-03-29"), Some(Holiday::TweedePaasdag));
        assert_eq!(h("2027-05-06"), Some(Holiday::Hemelvaartsdag));
        assert_eq!(h("2027-05-17"), Some(Holiday::TweedePinksterdag));
    }

    #[test]
    fn christmas_and_new_year_are_fixed() {
        let cal = HolidayCalendar::default();
        for year in [2025, 2026, 2027] {
            assert_eq!(cal.holiday(ymd(year, 1, 1)), Some(Holiday::Nieuwjaarsdag));
            assert_eq!(
                cal.holiday(ymd(year, 12, 25)),
                Some(Holiday::EersteKerstdag)
            );
            assert_eq!(
                cal.holiday(ymd(year, 12, 26)),
                Some(Holiday::TweedeKerstdag)
            );
        }
        assert_eq!(
            cal.holidays(2026).len(),
            9,
            "no Goede Vrijdag, no Bevrijdingsdag outside lustrum years"
        );
    }

    #[test]
    fn good_friday_and_liberation_day_follow_the_settings() {
        let default = HolidayCalendar::default();
        assert!(
            default.is_working_day(day("2026-04-03")),
            "Goede Vrijdag is a working day by default"
        );
        assert!(
            default.is_working_day(day("2026-05-05")),
            "Bevrijdingsdag 2026 is not a lustrum year"
        );
        assert!(
            !default.is_working_day(day("2025-05-05")),
            "Bevrijdingsdag 2025 is a lustrum year"
        );

        let generous = HolidayCalendar {
            good_friday_off: true,
            liberation_day: LiberationDay::Always,
        };
        assert_eq!(
            generous.holiday(day("2026-04-03")),
            Some(Holiday::GoedeVrijdag)
        );
        assert_eq!(
            generous.holiday(day("2026-05-05")),
            Some(Holiday::Bevrijdingsdag)
        );
        let strict = HolidayCalendar {
            good_friday_off: false,
            liberation_day: LiberationDay::Never,
        };
        assert!(strict.is_working_day(day("2025-05-05")));
        assert_eq!(
            LiberationDay::parse("lustrum"),
            Some(LiberationDay::Lustrum)
        );
        assert_eq!(LiberationDay::parse("sometimes"), None);
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let cal = HolidayCalendar::default();
        // Tuesday after Easter Monday 2026: one working day back is Good Friday 3 April (a working
        // day by default); with Good Friday off it is Thursday 2 April.
        assert_eq!(
            cal.working_days_before(day("2026-04-07"), 1),
            day("2026-04-03")
        );
        let off = HolidayCalendar {
            good_friday_off: true,
            ..cal
        };
        assert_eq!(
            off.working_days_before(day("2026-04-07"), 1),
            day("2026-04-02")
        );
        // A release on Saturday: day 0 is the Friday before.
        assert_eq!(
            cal.working_days_before(day("2026-12-19"), 0),
            day("2026-12-18")
        );
        // Over Christmas 2026 (Friday 25, Saturday 26): Monday 28 minus one is Thursday 24.
        assert_eq!(
            cal.working_days_before(day("2026-12-28"), 1),
            day("2026-12-24")
        );
        // Koningsdag 2025 was a Saturday; Monday 28 April minus 1 is Friday 25.
        assert_eq!(
            cal.working_days_before(day("2025-04-28"), 1),
            day("2025-04-25")
        );
        // Forwards: Thursday 24 Dec 2026 plus one working day is Monday 28.
        assert_eq!(
            cal.working_days_after(day("2026-12-24"), 1),
            day("2026-12-28")
        );
        assert_eq!(
            cal.working_days_after(day("2026-12-24"), 0),
            day("2026-12-24")
        );
        // Hemelvaart 2026 (Thursday 14 May): Wednesday 13 plus 2 working days is Monday 18.
        assert_eq!(
            cal.working_days_after(day("2026-05-13"), 2),
            day("2026-05-18")
        );
    }
}
