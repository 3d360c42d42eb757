//! Procesregie's own settings, read from the environment here and nowhere else: when the weekly
//! triage meets and what its cut-off is, which holidays count, and the thresholds of the rules
//! that suggest escalation. What every service shares (NATS, PostgreSQL, region) stays in
//! `rcn_runtime::Config`.

use std::time::Duration;

use chrono::NaiveTime;
use rcn_contracts::holidays::{HolidayCalendar, LiberationDay};
use rcn_contracts::procesregie_api::{DayOfWeek, HolidayPolicy};
use rcn_runtime::config::{ConfigError, non_blank, number};

use crate::triage::TriageRules;

/// How procesregie is configured for its region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `RCN_PROCESREGIE_CUTOFF`, `RCN_PROCESREGIE_TRIAGE_DAY`, `RCN_PROCESREGIE_TRIAGE_ON_HOLIDAY`
    /// and the holiday calendar (`RCN_GOOD_FRIDAY_OFF`, `RCN_LIBERATION_DAY_OFF`, as casework
    /// reads them): which triage meeting an application goes to.
    pub triage: TriageRules,
    /// `RCN_PROCESREGIE_RULE_*`: when a case is suggested for escalation.
    pub rules: SuggestionRules,
    /// `RCN_PROCESREGIE_SCHEDULER_INTERVAL_MS`: how often procesregie looks for overdue actions
    /// and reviews, and for cases coming near their release.
    pub scheduler_interval: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            triage: TriageRules::default(),
            rules: SuggestionRules::default(),
            scheduler_interval: Duration::from_secs(60),
        }
    }
}

/// The thresholds of the rules that suggest escalating a case; 0 (or `false`) turns a rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuggestionRules {
    /// `RCN_PROCESREGIE_RULE_RISK_FLAGS` (`true`/`false`): any risk flag on the notice.
    pub risk_flags: bool,
    /// `RCN_PROCESREGIE_RULE_OPEN_CONDITIONS`: this many conditions or more still open …
    pub open_conditions: u32,
    /// `RCN_PROCESREGIE_RULE_OPEN_CONDITIONS_DAYS`: … within this many days of the release.
    pub open_conditions_days: u32,
    /// `RCN_PROCESREGIE_RULE_SPOED_OVERDUE`: this many overdue conditions on a spoed case.
    pub spoed_overdue: u32,
}

impl Default for SuggestionRules {
    fn default() -> Self {
        Self {
            risk_flags: true,
            open_conditions: 3,
            open_conditions_days: 14,
            spoed_overdue: 1,
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
        let defaults = TriageRules::default();
        let (cutoff_day, cutoff_time) = match get("RCN_PROCESREGIE_CUTOFF") {
            None => (defaults.cutoff_day, defaults.cutoff_time),
            Some(raw) => cutoff(&raw)?,
        };
        let triage_day = match get("RCN_PROCESREGIE_TRIAGE_DAY") {
            None => defaults.triage_day,
            Some(raw) => DayOfWeek::parse(&raw).ok_or_else(|| ConfigError::Invalid {
                var: "RCN_PROCESREGIE_TRIAGE_DAY",
                reason: format!("{raw:?} is not a day of the week like tuesday"),
            })?,
        };
        let on_holiday = match get("RCN_PROCESREGIE_TRIAGE_ON_HOLIDAY") {
            None => defaults.on_holiday,
            Some(raw) => HolidayPolicy::parse(&raw).ok_or_else(|| ConfigError::Invalid {
                var: "RCN_PROCESREGIE_TRIAGE_ON_HOLIDAY",
                reason: format!(
                    "{raw:?} is not next_working_day, previous_working_day or next_week"
                ),
            })?,
        };
        let calendar = HolidayCalendar {
            good_friday_off: boolean(&get, "RCN_GOOD_FRIDAY_OFF", false)?,
            liberation_day: match get("RCN_LIBERATION_DAY_OFF") {
                None => LiberationDay::default(),
                Some(raw) => LiberationDay::parse(&raw).ok_or_else(|| ConfigError::Invalid {
                    var: "RCN_LIBERATION_DAY_OFF",
                    reason: format!("{raw:?} is not always, lustrum or never"),
                })?,
            },
        };
        let rule_defaults = SuggestionRules::default();
        Ok(Self {
            triage: TriageRules {
                cutoff_day,
                cutoff_time,
                triage_day,
                on_holiday,
                calendar,
            },
            rules: SuggestionRules {
                risk_flags: boolean(&get, "RCN_PROCESREGIE_RULE_RISK_FLAGS", true)?,
                open_conditions: number(
                    &get,
                    "RCN_PROCESREGIE_RULE_OPEN_CONDITIONS",
                    rule_defaults.open_conditions,
                    0..=10,
                )?,
                open_conditions_days: number(
                    &get,
                    "RCN_PROCESREGIE_RULE_OPEN_CONDITIONS_DAYS",
                    rule_defaults.open_conditions_days,
                    1..=365,
                )?,
                spoed_overdue: number(
                    &get,
                    "RCN_PROCESREGIE_RULE_SPOED_OVERDUE",
                    rule_defaults.spoed_overdue,
                    0..=10,
                )?,
            },
            scheduler_interval: Duration::from_millis(number(
                &get,
                "RCN_PROCESREGIE_SCHEDULER_INTERVAL_MS",
                60_000,
                50..=3_600_000,
            )?),
        })
    }
}

/// `monday 12:00`: the day and the Amsterdam time of the weekly cut-off.
fn cutoff(raw: &str) -> Result<(DayOfWeek, NaiveTime), ConfigError> {
    let invalid = || ConfigError::Invalid {
        var: "RCN_PROCESREGIE_CUTOFF",
        reason: format!("{raw:?} is not a day and a time like \"monday 12:00\""),
    };
    let (day, time) = raw.trim().split_once(' ').ok_or_else(invalid)?;
    let day = DayOfWeek::parse(day).ok_or_else(invalid)?;
    let time = NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| invalid())?;
    Ok((day, time))
}

fn boolean(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(var).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            var,
            reason: format!("{other:?} is neither true nor false"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(rcn_runtime::config::lookup_in(pairs))
    }

    #[test]
    fn the_defaults_are_monday_noon_for_tuesdays_triage() {
        let s = with(&[]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.triage.cutoff_day, DayOfWeek::Monday);
        assert_eq!(
            s.triage.cutoff_time,
            NaiveTime::from_hms_opt(12, 0, 0).unwrap()
        );
        assert_eq!(s.triage.triage_day, DayOfWeek::Tuesday);
        assert_eq!(s.triage.on_holiday, HolidayPolicy::NextWorkingDay);
        assert_eq!(s.rules, SuggestionRules::default());
    }

    #[test]
    fn a_region_sets_its_own_cutoff_day_holiday_policy_and_thresholds() {
        let s = with(&[
            ("RCN_PROCESREGIE_CUTOFF", "thursday 17:30"),
            ("RCN_PROCESREGIE_TRIAGE_DAY", "Friday"),
            ("RCN_PROCESREGIE_TRIAGE_ON_HOLIDAY", "next_week"),
            ("RCN_GOOD_FRIDAY_OFF", "true"),
            ("RCN_PROCESREGIE_RULE_RISK_FLAGS", "false"),
            ("RCN_PROCESREGIE_RULE_OPEN_CONDITIONS", "4"),
            ("RCN_PROCESREGIE_RULE_OPEN_CONDITIONS_DAYS", "21"),
            ("RCN_PROCESREGIE_RULE_SPOED_OVERDUE", "0"),
            ("RCN_PROCESREGIE_SCHEDULER_INTERVAL_MS", "500"),
        ])
        .unwrap();
        assert_eq!(s.triage.cutoff_day, DayOfWeek::Thursday);
        assert_eq!(
            s.triage.cutoff_time,
            NaiveTime::from_hms_opt(17, 30, 0).unwrap()
        );
        assert_eq!(s.triage.triage_day, DayOfWeek::Friday);
        assert_eq!(s.triage.on_holiday, HolidayPolicy::NextWeek);
        assert!(s.triage.calendar.good_friday_off);
        assert_eq!(s.scheduler_interval, Duration::from_millis(500));
        assert_eq!(
            s.rules,
            SuggestionRules {
                risk_flags: false,
                open_conditions: 4,
                open_conditions_days: 21,
                spoed_overdue: 0
            }
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = |pairs| with(pairs).unwrap_err().to_string();
        assert_eq!(
            e(&[("RCN_PROCESREGIE_CUTOFF", "monday noon")]),
            "RCN_PROCESREGIE_CUTOFF is invalid: \"monday noon\" is not a day and a time like \"monday 12:00\""
        );
        assert!(
            e(&[("RCN_PROCESREGIE_TRIAGE_DAY", "dinsdag")])
                .starts_with("RCN_PROCESREGIE_TRIAGE_DAY is invalid")
        );
        assert!(
            e(&[("RCN_PROCESREGIE_TRIAGE_ON_HOLIDAY", "cancel")])
                .starts_with("RCN_PROCESREGIE_TRIAGE_ON_HOLIDAY is invalid")
        );
        assert_eq!(
            e(&[("RCN_PROCESREGIE_RULE_OPEN_CONDITIONS", "-1")]),
            "RCN_PROCESREGIE_RULE_OPEN_CONDITIONS is invalid: \"-1\" is not a number from 0 to 10"
        );
        assert!(
            e(&[("RCN_PROCESREGIE_RULE_RISK_FLAGS", "yes")])
                .starts_with("RCN_PROCESREGIE_RULE_RISK_FLAGS is invalid")
        );
    }
}
