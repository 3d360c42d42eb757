//! The monitor's own settings, read from the environment here and nowhere else. What every
//! service shares (NATS, PostgreSQL, region) stays in `rcn_runtime::Config`.

use rcn_contracts::holidays::HolidayCalendar;
use rcn_runtime::config::{ConfigError, non_blank, number};

/// How the monitor is configured beyond what every service shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `RCN_MONITOR_UNCLAIMED_WORKING_DAYS`: an open case nobody has claimed a task of after this
    /// many working days is on the "nog niet opgepakt" list (default 2: the municipality had two
    /// full working days).
    pub unclaimed_after_working_days: u32,
    /// `RCN_GOOD_FRIDAY_OFF` and `RCN_LIBERATION_DAY_OFF`, as casework reads them: the days that
    /// do not count as working days in ages and overdue tiers.
    pub calendar: HolidayCalendar,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            unclaimed_after_working_days: 2,
            calendar: HolidayCalendar::default(),
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
        Ok(Self {
            unclaimed_after_working_days: number(
                &get,
                "RCN_MONITOR_UNCLAIMED_WORKING_DAYS",
                2,
                0..=60,
            )?,
            calendar: rcn_runtime::config::holiday_calendar(&get)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcn_contracts::holidays::LiberationDay;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(rcn_runtime::config::lookup_in(pairs))
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(with(&[]).unwrap(), Settings::default());
        let s = with(&[
            ("RCN_MONITOR_UNCLAIMED_WORKING_DAYS", "5"),
            ("RCN_GOOD_FRIDAY_OFF", "true"),
            ("RCN_LIBERATION_DAY_OFF", "always"),
        ])
        .unwrap();
        assert_eq!(s.unclaimed_after_working_days, 5);
        assert!(s.calendar.good_friday_off);
        assert_eq!(s.calendar.liberation_day, LiberationDay::Always);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = with(&[("RCN_MONITOR_UNCLAIMED_WORKING_DAYS", "-1")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("RCN_MONITOR_UNCLAIMED_WORKING_DAYS is invalid"),
            "{e}"
        );
        let e = with(&[("RCN_LIBERATION_DAY_OFF", "sometimes")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RCN_LIBERATION_DAY_OFF is invalid"), "{e}");
    }
}
