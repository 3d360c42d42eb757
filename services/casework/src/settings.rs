//! Casework's own settings, read from the environment here and nowhere else: which conditions a
//! case gets, when each is due (with the holiday calendar), and when reminders go out. What every
//! service shares (NATS, PostgreSQL, region) stays in `rcn_runtime::Config`.

use std::time::Duration;

use rcn_contracts::Condition;
use rcn_contracts::deadlines::DeadlineRules;
use rcn_runtime::config::{ConfigError, Legacy, duration, holiday_calendar, non_blank, number};

/// How casework is configured for its region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `RCN_CASEWORK_CONDITIONS`: the conditions every case gets, comma-separated; the five of
    /// DOMAIN.md by default, a region may add `social_network`.
    pub conditions: Vec<Condition>,
    /// `RCN_CASEWORK_DEADLINES` (overrides such as `housing=1wd,income=7d`), with the holiday
    /// calendar from `RCN_GOOD_FRIDAY_OFF` (`true`/`false`, default false) and
    /// `RCN_LIBERATION_DAY_OFF` (`always`, `lustrum` or `never`, default lustrum): when each
    /// condition is due, counted back from the release date.
    pub deadlines: DeadlineRules,
    /// `RCN_CASEWORK_DUE_SOON_WORKING_DAYS`: how many working days before its due date an open
    /// task raises a due-soon reminder.
    pub due_soon_working_days: u32,
    /// `RCN_CASEWORK_SCHEDULER_INTERVAL` (e.g. `1m`; or, older, `RCN_CASEWORK_SCHEDULER_INTERVAL_MS`
    /// in milliseconds): how often casework looks for deadlines to remind of.
    pub scheduler_interval: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            conditions: Condition::DEFAULT.to_vec(),
            deadlines: DeadlineRules::default(),
            due_soon_working_days: 2,
            scheduler_interval: Duration::from_secs(60),
        }
    }
}

impl Settings {
    /// From the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(rcn_runtime::config::process_env)
    }

    /// From any lookup of variable names (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = non_blank(get);
        let conditions = match get("RCN_CASEWORK_CONDITIONS") {
            None => Condition::DEFAULT.to_vec(),
            Some(list) => conditions(&list)?,
        };
        let mut deadlines = DeadlineRules::parse(
            &get("RCN_CASEWORK_DEADLINES").unwrap_or_default(),
        )
        .map_err(|e| ConfigError::Invalid {
            var: "RCN_CASEWORK_DEADLINES",
            reason: e.0,
        })?;
        deadlines.calendar = holiday_calendar(&get)?;
        Ok(Self {
            conditions,
            deadlines,
            due_soon_working_days: number(&get, "RCN_CASEWORK_DUE_SOON_WORKING_DAYS", 2, 0..=30)?,
            scheduler_interval: duration(
                &get,
                "RCN_CASEWORK_SCHEDULER_INTERVAL",
                Some(Legacy::Millis("RCN_CASEWORK_SCHEDULER_INTERVAL_MS")),
                Duration::from_secs(60),
                Duration::from_millis(50)..=Duration::from_secs(3600),
            )?,
        })
    }
}

/// The conditions named in `list`, each once, in the order given.
fn conditions(list: &str) -> Result<Vec<Condition>, ConfigError> {
    let mut conditions = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let c = Condition::parse(name).ok_or_else(|| ConfigError::Invalid {
            var: "RCN_CASEWORK_CONDITIONS",
            reason: format!(
                "{name:?} is not a condition (id, housing, income, debts, care, social_network)"
            ),
        })?;
        if !conditions.contains(&c) {
            conditions.push(c);
        }
    }
    if conditions.is_empty() {
        return Err(ConfigError::Invalid {
            var: "RCN_CASEWORK_CONDITIONS",
            reason: "name at least one condition".into(),
        });
    }
    Ok(conditions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcn_contracts::deadlines::DeadlineRule;
    use rcn_contracts::holidays::LiberationDay;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(rcn_runtime::config::lookup_in(pairs))
    }

    #[test]
    fn conditions_deadlines_and_reminders_are_set_per_region() {
        let c = with(&[]).unwrap();
        assert_eq!(c, Settings::default());
        assert_eq!(c.conditions, Condition::DEFAULT.to_vec());
        assert_eq!(c.deadlines, DeadlineRules::default());
        assert_eq!(c.due_soon_working_days, 2);
        assert_eq!(c.scheduler_interval, Duration::from_secs(60));

        let c = with(&[
            (
                "RCN_CASEWORK_CONDITIONS",
                "id, housing,income,debts,care,social_network",
            ),
            ("RCN_CASEWORK_DEADLINES", "housing=1wd,debts=10d"),
            ("RCN_GOOD_FRIDAY_OFF", "true"),
            ("RCN_LIBERATION_DAY_OFF", "always"),
            ("RCN_CASEWORK_DUE_SOON_WORKING_DAYS", "5"),
            ("RCN_CASEWORK_SCHEDULER_INTERVAL_MS", "500"),
        ])
        .unwrap();
        assert_eq!(c.conditions.len(), 6);
        assert_eq!(
            c.deadlines.rule(Condition::Housing),
            DeadlineRule::working(1)
        );
        assert_eq!(
            c.deadlines.rule(Condition::Debts),
            DeadlineRule::calendar(10)
        );
        assert!(c.deadlines.calendar.good_friday_off);
        assert_eq!(c.deadlines.calendar.liberation_day, LiberationDay::Always);
        assert_eq!(c.due_soon_working_days, 5);
        assert_eq!(c.scheduler_interval, Duration::from_millis(500));
        let c = with(&[("RCN_CASEWORK_SCHEDULER_INTERVAL", "2m 30s")]).unwrap();
        assert_eq!(c.scheduler_interval, Duration::from_secs(150));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = with(&[("RCN_CASEWORK_CONDITIONS", "id,weather")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("RCN_CASEWORK_CONDITIONS is invalid: \"weather\" is not a condition"),
            "{e}"
        );
        let e = with(&[("RCN_CASEWORK_CONDITIONS", ", ,")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "RCN_CASEWORK_CONDITIONS is invalid: name at least one condition"
        );
        let e = with(&[("RCN_CASEWORK_DEADLINES", "housing=soon")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RCN_CASEWORK_DEADLINES is invalid"), "{e}");
        let e = with(&[("RCN_GOOD_FRIDAY_OFF", "ja")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RCN_GOOD_FRIDAY_OFF is invalid"), "{e}");
        let e = with(&[("RCN_LIBERATION_DAY_OFF", "sometimes")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RCN_LIBERATION_DAY_OFF is invalid"), "{e}");
        let e = with(&[("RCN_CASEWORK_SCHEDULER_INTERVAL_MS", "10")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "RCN_CASEWORK_SCHEDULER_INTERVAL_MS is invalid: \"10\" is not a number from 50 to 3600000"
        );
        let e = with(&[("RCN_CASEWORK_SCHEDULER_INTERVAL", "often")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "RCN_CASEWORK_SCHEDULER_INTERVAL is invalid: \"often\" is not a duration"
            ),
            "{e}"
        );
    }
}
