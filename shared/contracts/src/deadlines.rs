//! When each aftercare condition must be arranged, counted back from the release date: the
//! region's deadline rules.
//!
//! A rule is "N days before release", counted either in calendar days (`7d`: exactly a week
//! before) or in working days (`0wd`: the release day, or the last working day before it when the
//! release falls on a weekend or holiday; `2wd`: two working days before that), with the holiday
//! calendar of [`crate::holidays`]. The defaults follow DOMAIN.md literally, in calendar days: ID
//! and housing by release day (`0d`), the others a week before release (`7d`). A region that
//! wants deadlines to land on days its staff work says so in working days, e.g.
//! `id=0wd,housing=1wd,income=5wd,debts=10wd,care=5wd,social_network=7d` (`0wd` moves a deadline
//! on a Sunday release to the Friday before).

use std::fmt;

use chrono::{Days, NaiveDate};

use crate::condition::Condition;
use crate::holidays::HolidayCalendar;
use crate::value::InvalidValue;

/// How the days of a rule are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    CalendarDays,
    WorkingDays,
}

/// "Arranged `days` days before release".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRule {
    pub days: u32,
    pub counting: Counting,
}

impl DeadlineRule {
    pub const fn calendar(days: u32) -> Self {
        Self {
            days,
            counting: Counting::CalendarDays,
        }
    }

    pub const fn working(days: u32) -> Self {
        Self {
            days,
            counting: Counting::WorkingDays,
        }
    }

    /// The due date for a release on `release`.
    pub fn due_on(self, release: NaiveDate, calendar: &HolidayCalendar) -> NaiveDate {
        match self.counting {
            Counting::CalendarDays => release
                .checked_sub_days(Days::new(u64::from(self.days)))
                .unwrap_or(release),
            Counting::WorkingDays => calendar.working_days_before(release, self.days),
        }
    }
}

impl fmt::Display for DeadlineRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.counting {
            Counting::CalendarDays => write!(f, "{}d", self.days),
            Counting::WorkingDays => write!(f, "{}wd", self.days),
        }
    }
}

/// The deadline rule of every condition, plus the holiday calendar working days are counted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineRules {
    rules: Vec<(Condition, DeadlineRule)>,
    pub calendar: HolidayCalendar,
}

impl Default for DeadlineRules {
    fn default() -> Self {
        Self {
            rules: vec![
                (Condition::Id, DeadlineRule::calendar(0)),
                (Condition::Housing, DeadlineRule::calendar(0)),
                (Condition::Income, DeadlineRule::calendar(7)),
                (Condition::Debts, DeadlineRule::calendar(7)),
                (Condition::Care, DeadlineRule::calendar(7)),
                (Condition::SocialNetwork, DeadlineRule::calendar(7)),
            ],
            calendar: HolidayCalendar::default(),
        }
    }
}

impl DeadlineRules {
    /// The defaults with the overrides of `spec` (`condition=<n>d|<n>wd`, comma-separated).
    pub fn parse(spec: &str) -> Result<Self, InvalidValue> {
        let mut rules = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || {
                InvalidValue(format!(
                    "{part:?} is not a deadline rule like housing=0wd (working days) or income=7d (calendar days)"
                ))
            };
            let (name, rule) = part.split_once('=').ok_or_else(bad)?;
            let condition = Condition::parse(name.trim()).ok_or_else(|| {
                InvalidValue(format!(
                    "{:?} is not a condition (id, housing, income, debts, care, social_network)",
                    name.trim()
                ))
            })?;
            let rule = rule.trim();
            let (number, counting) = if let Some(n) = rule.strip_suffix("wd") {
                (n, Counting::WorkingDays)
            } else if let Some(n) = rule.strip_suffix('d') {
                (n, Counting::CalendarDays)
            } else {
                return Err(bad());
            };
            let days: u32 = number.parse().ok().filter(|d| *d <= 90).ok_or_else(bad)?;
            rules.set(condition, DeadlineRule { days, counting });
        }
        Ok(rules)
    }

    pub fn set(&mut self, condition: Condition, rule: DeadlineRule) {
        match self.rules.iter_mut().find(|(c, _)| *c == condition) {
            Some(slot) => slot.1 = rule,
            None => self.rules.push((condition, rule)),
        }
    }

    pub fn rule(&self, condition: Condition) -> DeadlineRule {
        self.rules
            .iter()
            .find(|(c, _)| *c == condition)
            .map(|(_, r)| *r)
            .unwrap_or(DeadlineRule::calendar(7))
    }

    /// When `condition` must be arranged for a release on `release`.
    pub fn due_on(&self, condition: Condition, release: NaiveDate) -> NaiveDate {
        self.rule(condition).due_on(release, &self.calendar)
    }
}

impl fmt::Display for DeadlineRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .rules
            .iter()
            .map(|(c, r)| format!("{}={r}", c.as_str()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_follow_the_domain_id_and_housing_on_release_day_the_rest_a_week_before() {
        let rules = DeadlineRules::default();
        let release = day("2026-12-15"); // a Tuesday
        assert_eq!(rules.due_on(Condition::Id, release), release);
        assert_eq!(rules.due_on(Condition::Housing, release), release);
        assert_eq!(rules.due_on(Condition::Income, release), day("2026-12-08"));
        assert_eq!(rules.due_on(Condition::Debts, release), day("2026-12-08"));
        assert_eq!(rules.due_on(Condition::Care, release), day("2026-12-08"));
    }

    #[test]
    fn working_day_rules_move_a_deadline_off_holidays_and_weekends() {
        let rules = DeadlineRules::parse("id=0wd,housing=0wd").unwrap();
        // Released on Tweede Kerstdag 2025 (Friday 26 Dec): ID is due Wednesday 24 Dec.
        assert_eq!(
            rules.due_on(Condition::Id, day("2025-12-26")),
            day("2025-12-24")
        );
        // Released on Koningsdag 2026 (Monday 27 April): housing is due Friday 24 April.
        assert_eq!(
            rules.due_on(Condition::Housing, day("2026-04-27")),
            day("2026-04-24")
        );
        // Released on Sunday 13 December 2026: due Friday 11 December.
        assert_eq!(
            rules.due_on(Condition::Id, day("2026-12-13")),
            day("2026-12-11")
        );
        // Calendar-day rules do not move, by default not even for ID on a holiday.
        assert_eq!(
            rules.due_on(Condition::Income, day("2026-04-27")),
            day("2026-04-20")
        );
        assert_eq!(
            DeadlineRules::default().due_on(Condition::Id, day("2026-04-27")),
            day("2026-04-27")
        );
    }

    #[test]
    fn a_region_overrides_single_rules() {
        let rules = DeadlineRules::parse("housing=2wd, debts=10d").unwrap();
        assert_eq!(rules.rule(Condition::Housing), DeadlineRule::working(2));
        assert_eq!(rules.rule(Condition::Debts), DeadlineRule::calendar(10));
        assert_eq!(
            rules.rule(Condition::Id),
            DeadlineRule::calendar(0),
            "unlisted rules keep their default"
        );
        // Two working days before Tuesday 7 April 2026 (after Easter Monday) is Thursday 2 April.
        assert_eq!(
            rules.due_on(Condition::Housing, day("2026-04-07")),
            day("2026-04-02")
        );
        assert_eq!(
            DeadlineRules::parse(&rules.to_string()).unwrap(),
            rules,
            "Display round-trips"
        );
    }

    #[test]
    fn malformed_rules_are_refused_with_an_example() {
        let e = DeadlineRules::parse("housing=soon").unwrap_err().0;
        assert!(e.contains("housing=0wd"), "{e}");
        let e = DeadlineRules::parse("weather=2d").unwrap_err().0;
        assert!(e.contains("not a condition"), "{e}");
        assert!(DeadlineRules::parse("income").is_err());
        assert!(DeadlineRules::parse("income=400d").is_err());
        assert_eq!(DeadlineRules::parse("").unwrap(), DeadlineRules::default());
    }
}
