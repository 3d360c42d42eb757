//! Typed configuration, read from the environment in this one place (no `env::var` elsewhere).
//! A missing or malformed setting stops start-up with a message naming the variable and what a
//! valid value looks like.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rcn_contracts::deadlines::DeadlineRules;
use rcn_contracts::holidays::LiberationDay;
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{Condition, Region};

use crate::nats_auth::{NatsAuth, check_url_has_no_credentials};

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
    #[error("{var} is not set: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
}

/// Everything a service may be configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// `NATS_URL`; `None` lets the launcher start its own nats-server. Never with credentials.
    pub nats_url: Option<String>,
    /// `NATS_USER` + `NATS_PASSWORD`, `NATS_TOKEN`, `NATS_CREDS_FILE` or `NATS_NKEY_SEED`: who
    /// this process is on NATS. Explicit, so nothing secret sits in a URL that gets logged.
    pub nats_auth: NatsAuth,
    /// `DATABASE_URL`; `None` lets the launcher start its own PostgreSQL.
    pub database_url: Option<String>,
    /// `RCN_REGION`: the subject segment that separates regions (and tests) on one NATS system.
    pub region: Region,
    /// `RCN_REGION_FILE`: the region table (municipalities, PC4s); the built-in Kennemerland when unset.
    pub region_file: Option<PathBuf>,
    /// `RCN_PSEUDONYM_KEY`: the secret that turns a BSN into a pseudonym; required for intake.
    pub pseudonym_key: Option<PseudonymKey>,
    /// `RCN_HTTP_ADDR`: where the gateway listens.
    pub http_addr: SocketAddr,
    /// `RCN_LOG_FORMAT`: `text` for people, `json` for log collectors.
    pub log_json: bool,
    /// `RCN_DB_POOL_SIZE`: connections per service pool.
    pub db_pool_size: u32,
    /// `RCN_CONSUMER_WORKERS`: batches a consumer handles at once.
    pub consumer_workers: usize,
    /// `RCN_CONSUMER_BATCH`: messages a consumer commits in one transaction at most.
    pub consumer_batch: usize,
    /// `RCN_ADDRESS_REGISTER_URL`: base URL of the Haal Centraal-style address register the router
    /// asks for postcode + house number (rule 2); `None` skips that rule, and decisions say so.
    pub address_register_url: Option<String>,
    /// `RCN_ADDRESS_REGISTER_API_KEY`: sent as `X-Api-Key`, as Haal Centraal APIs expect.
    pub address_register_api_key: Option<Secret>,
    /// `RCN_ADDRESS_REGISTER_TIMEOUT_MS`: the most one request may take, connecting included.
    pub address_register_timeout: Duration,
    /// `RCN_ADDRESS_REGISTER_RETRIES`: extra attempts after a failed request, with back-off.
    pub address_register_retries: u32,
    /// `RCN_ADDRESS_REGISTER_BREAKER_FAILURES`: failed look-ups in a row that open the circuit
    /// breaker, so a register that is down does not slow every notice down.
    pub address_register_breaker_failures: u32,
    /// `RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN_SECS`: how long the register is skipped once the
    /// breaker is open, before one look-up tries it again.
    pub address_register_breaker_cooldown: Duration,
    /// `RCN_CASEWORK_CONDITIONS`: the conditions every case gets, comma-separated; the five of
    /// DOMAIN.md by default, a region may add `social_network`.
    pub casework_conditions: Vec<Condition>,
    /// `RCN_CASEWORK_DEADLINES` (overrides such as `housing=1wd,income=7d`), with the holiday
    /// calendar from `RCN_GOOD_FRIDAY_OFF` (`true`/`false`, default false) and
    /// `RCN_LIBERATION_DAY_OFF` (`always`, `lustrum` or `never`, default lustrum): when each
    /// condition is due, counted back from the release date.
    pub casework_deadlines: DeadlineRules,
    /// `RCN_CASEWORK_DUE_SOON_WORKING_DAYS`: how many working days before its due date an open
    /// task raises a due-soon reminder.
    pub casework_due_soon_working_days: u32,
    /// `RCN_CASEWORK_SCHEDULER_INTERVAL_MS`: how often casework looks for deadlines to remind of.
    pub casework_scheduler_interval: Duration,
}

/// A credential from the environment: usable, but never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get`, so tests can supply their own values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let nats_url = get("NATS_URL");
        if let Some(url) = &nats_url {
            check_url_has_no_credentials(url)?;
        }
        let region = get("RCN_REGION").unwrap_or_else(|| "kennemerland".into());
        let region = Region::parse(&region).map_err(|e| ConfigError::Invalid {
            var: "RCN_REGION",
            reason: e.0,
        })?;
        let pseudonym_key = match get("RCN_PSEUDONYM_KEY") {
            Some(k) if k.len() < 16 => {
                return Err(ConfigError::Invalid {
                    var: "RCN_PSEUDONYM_KEY",
                    reason: "use a random secret of at least 16 characters".into(),
                });
            }
            Some(k) => Some(PseudonymKey::new(k)),
            None => None,
        };
        let http_addr = get("RCN_HTTP_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        let http_addr = http_addr.parse().map_err(|_| ConfigError::Invalid {
            var: "RCN_HTTP_ADDR",
            reason: format!("{http_addr:?} is not an address like 127.0.0.1:8080"),
        })?;
        let log_json = match get("RCN_LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "RCN_LOG_FORMAT",
                    reason: format!("{other:?} is neither text nor json"),
                });
            }
        };
        let address_register_url = match get("RCN_ADDRESS_REGISTER_URL") {
            Some(url)
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.contains(['?', '#']) =>
            {
                return Err(ConfigError::Invalid {
                    var: "RCN_ADDRESS_REGISTER_URL",
                    reason: format!(
                        "{url:?} is not a base URL like https://api.example.nl/lvbag/individuelebevragingen/v2"
                    ),
                });
            }
            Some(url) => Some(url.trim().trim_end_matches('/').to_owned()),
            None => None,
        };
        let casework_conditions = match get("RCN_CASEWORK_CONDITIONS") {
            None => Condition::DEFAULT.to_vec(),
            Some(list) => {
                let mut conditions = Vec::new();
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let c = Condition::parse(name).ok_or_else(|| ConfigError::Invalid {
                        var: "RCN_CASEWORK_CONDITIONS",
                        reason: format!("{name:?} is not a condition (id, housing, income, debts, care, social_network)"),
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
                conditions
            }
        };
        let mut casework_deadlines = DeadlineRules::parse(
            &get("RCN_CASEWORK_DEADLINES").unwrap_or_default(),
        )
        .map_err(|e| ConfigError::Invalid {
            var: "RCN_CASEWORK_DEADLINES",
            reason: e.0,
        })?;
        casework_deadlines.calendar.good_friday_off =
            match get("RCN_GOOD_FRIDAY_OFF").as_deref().map(str::trim) {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        var: "RCN_GOOD_FRIDAY_OFF",
                        reason: format!("{other:?} is neither true nor false"),
                    });
                }
            };
        if let Some(raw) = get("RCN_LIBERATION_DAY_OFF") {
            casework_deadlines.calendar.liberation_day =
                LiberationDay::parse(&raw).ok_or_else(|| ConfigError::Invalid {
                    var: "RCN_LIBERATION_DAY_OFF",
                    reason: format!("{raw:?} is not always, lustrum or never"),
                })?;
        }
        Ok(Self {
            nats_url,
            nats_auth: NatsAuth::from_lookup(get)?,
            database_url: get("DATABASE_URL"),
            region,
            region_file: get("RCN_REGION_FILE").map(PathBuf::from),
            pseudonym_key,
            http_addr,
            log_json,
            db_pool_size: number(&get, "RCN_DB_POOL_SIZE", 8, 1..=200)?,
            consumer_workers: number(&get, "RCN_CONSUMER_WORKERS", 4, 1..=64)?,
            consumer_batch: number(&get, "RCN_CONSUMER_BATCH", 64, 1..=1000)?,
            address_register_url,
            address_register_api_key: get("RCN_ADDRESS_REGISTER_API_KEY").map(Secret::new),
            address_register_timeout: Duration::from_millis(number(
                &get,
                "RCN_ADDRESS_REGISTER_TIMEOUT_MS",
                2000,
                50..=60_000,
            )?),
            address_register_retries: number(&get, "RCN_ADDRESS_REGISTER_RETRIES", 2, 0..=5)?,
            address_register_breaker_failures: number(
                &get,
                "RCN_ADDRESS_REGISTER_BREAKER_FAILURES",
                5,
                1..=1000,
            )?,
            address_register_breaker_cooldown: Duration::from_secs(number(
                &get,
                "RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN_SECS",
                30,
                1..=3600,
            )?),
            casework_conditions,
            casework_deadlines,
            casework_due_soon_working_days: number(
                &get,
                "RCN_CASEWORK_DUE_SOON_WORKING_DAYS",
                2,
                0..=30,
            )?,
            casework_scheduler_interval: Duration::from_millis(number(
                &get,
                "RCN_CASEWORK_SCHEDULER_INTERVAL_MS",
                60_000,
                50..=3_600_000,
            )?),
        })
    }

    pub fn nats_url(&self) -> Result<&str, ConfigError> {
        self.nats_url.as_deref().ok_or(ConfigError::Missing {
            var: "NATS_URL",
            hint: "e.g. nats://127.0.0.1:4222",
        })
    }

    pub fn database_url(&self) -> Result<&str, ConfigError> {
        self.database_url.as_deref().ok_or(ConfigError::Missing {
            var: "DATABASE_URL",
            hint: "e.g. postgres://postgres@127.0.0.1:5432/rcn",
        })
    }

    pub fn pseudonym_key(&self) -> Result<&PseudonymKey, ConfigError> {
        self.pseudonym_key.as_ref().ok_or(ConfigError::Missing {
            var: "RCN_PSEUDONYM_KEY",
            hint: "a random secret of at least 16 characters, the same for every intake instance of the region",
        })
    }
}

fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(ConfigError::Invalid {
            var,
            reason: format!(
                "{raw:?} is not a number from {} to {}",
                range.start(),
                range.end()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_serve_a_newcomer() {
        let c = with(&[]).unwrap();
        assert_eq!(c.region.as_str(), "kennemerland");
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert!(c.nats_url.is_none() && c.database_url.is_none());
        assert_eq!(c.consumer_batch, 64);
        assert_eq!(
            c.nats_url().unwrap_err().to_string(),
            "NATS_URL is not set: e.g. nats://127.0.0.1:4222"
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = with(&[("RCN_REGION", "Kennemer.land")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RCN_REGION is invalid"), "{e}");
        let e = with(&[("RCN_HTTP_ADDR", "localhost")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "RCN_HTTP_ADDR is invalid: \"localhost\" is not an address like 127.0.0.1:8080"
        );
        let e = with(&[("RCN_CONSUMER_BATCH", "0")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "RCN_CONSUMER_BATCH is invalid: \"0\" is not a number from 1 to 1000"
        );
        let e = with(&[("RCN_PSEUDONYM_KEY", "short")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 16"), "{e}");
        assert!(with(&[("RCN_LOG_FORMAT", "xml")]).is_err());
    }

    #[test]
    fn the_address_register_is_optional_and_tuned_by_its_own_variables() {
        let c = with(&[]).unwrap();
        assert!(c.address_register_url.is_none() && c.address_register_api_key.is_none());
        assert_eq!(c.address_register_timeout, Duration::from_secs(2));
        assert_eq!(
            (
                c.address_register_retries,
                c.address_register_breaker_failures
            ),
            (2, 5)
        );
        assert_eq!(c.address_register_breaker_cooldown, Duration::from_secs(30));

        let c = with(&[
            ("RCN_ADDRESS_REGISTER_URL", "https://bag.example.nl/v2/"),
            ("RCN_ADDRESS_REGISTER_API_KEY", "s3cr3t-key"),
            ("RCN_ADDRESS_REGISTER_TIMEOUT_MS", "250"),
            ("RCN_ADDRESS_REGISTER_RETRIES", "0"),
            ("RCN_ADDRESS_REGISTER_BREAKER_FAILURES", "3"),
            ("RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN_SECS", "10"),
        ])
        .unwrap();
        assert_eq!(
            c.address_register_url.as_deref(),
            Some("https://bag.example.nl/v2")
        );
        assert_eq!(
            c.address_register_api_key.as_ref().map(Secret::expose),
            Some("s3cr3t-key")
        );
        assert!(
            !format!("{c:?}").contains("s3cr3t"),
            "the key never shows in Debug"
        );
        assert_eq!(c.address_register_timeout, Duration::from_millis(250));
        assert_eq!(
            (
                c.address_register_retries,
                c.address_register_breaker_failures
            ),
            (0, 3)
        );
        assert_eq!(c.address_register_breaker_cooldown, Duration::from_secs(10));

        let e = with(&[("RCN_ADDRESS_REGISTER_URL", "bag.example.nl")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "RCN_ADDRESS_REGISTER_URL is invalid: \"bag.example.nl\" is not a base URL"
            ),
            "{e}"
        );
        let e = with(&[("RCN_ADDRESS_REGISTER_RETRIES", "9")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "RCN_ADDRESS_REGISTER_RETRIES is invalid: \"9\" is not a number from 0 to 5"
        );
    }

    #[test]
    fn casework_conditions_deadlines_and_reminders_are_set_per_region() {
        use rcn_contracts::deadlines::DeadlineRule;
        let c = with(&[]).unwrap();
        assert_eq!(c.casework_conditions, Condition::DEFAULT.to_vec());
        assert_eq!(c.casework_deadlines, DeadlineRules::default());
        assert_eq!(c.casework_due_soon_working_days, 2);
        assert_eq!(c.casework_scheduler_interval, Duration::from_secs(60));

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
        assert_eq!(c.casework_conditions.len(), 6);
        assert_eq!(
            c.casework_deadlines.rule(Condition::Housing),
            DeadlineRule::working(1)
        );
        assert_eq!(
            c.casework_deadlines.rule(Condition::Debts),
            DeadlineRule::calendar(10)
        );
        assert!(c.casework_deadlines.calendar.good_friday_off);
        assert_eq!(
            c.casework_deadlines.calendar.liberation_day,
            LiberationDay::Always
        );
        assert_eq!(c.casework_due_soon_working_days, 5);
        assert_eq!(c.casework_scheduler_interval, Duration::from_millis(500));

        let e = with(&[("RCN_CASEWORK_CONDITIONS", "id,weather")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("RCN_CASEWORK_CONDITIONS is invalid: \"weather\" is not a condition"),
            "{e}"
        );
        let e = with(&[("RCN_CASEWORK_DEADLINES", "housing=soon")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RCN_CASEWORK_DEADLINES is invalid"), "{e}");
        assert!(with(&[("RCN_GOOD_FRIDAY_OFF", "ja")]).is_err());
        assert!(with(&[("RCN_LIBERATION_DAY_OFF", "sometimes")]).is_err());
    }
}
