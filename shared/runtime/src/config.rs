//! Typed configuration every service shares (NATS, PostgreSQL, region, logging, pseudonym key,
//! pool and consumer sizes), read from the environment here. Each service reads its own settings
//! in its own `settings` module, with the helpers below ([`non_blank`], [`number`]); nothing else
//! calls `env::var`. A missing or malformed setting stops start-up with a message naming the
//! variable and what a valid value looks like.

use std::path::PathBuf;

use rcn_contracts::Region;
use rcn_contracts::pseudonym::PseudonymKey;

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

/// What every service is configured with; a service's own settings live in its crate.
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
    /// `RCN_LOG_FORMAT`: `text` for people, `json` for log collectors.
    pub log_json: bool,
    /// `RCN_DB_POOL_SIZE`: connections per service pool.
    pub db_pool_size: u32,
    /// `RCN_CONSUMER_WORKERS`: batches a consumer handles at once.
    pub consumer_workers: usize,
    /// `RCN_CONSUMER_BATCH`: messages a consumer commits in one transaction at most.
    pub consumer_batch: usize,
    /// `RCN_METRICS_ADDR` (e.g. `127.0.0.1:9464`): where this process serves Prometheus
    /// `/metrics`; unset serves none.
    pub metrics_addr: Option<std::net::SocketAddr>,
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
        Self::from_lookup(process_env)
    }

    /// Reads configuration through `get`, so tests can supply their own values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = non_blank(get);
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
        Ok(Self {
            nats_url,
            nats_auth: NatsAuth::from_lookup(&get)?,
            database_url: get("DATABASE_URL"),
            region,
            region_file: get("RCN_REGION_FILE").map(PathBuf::from),
            pseudonym_key,
            log_json,
            db_pool_size: number(&get, "RCN_DB_POOL_SIZE", 8, 1..=200)?,
            consumer_workers: number(&get, "RCN_CONSUMER_WORKERS", 4, 1..=64)?,
            consumer_batch: number(&get, "RCN_CONSUMER_BATCH", 64, 1..=1000)?,
            metrics_addr: socket_addr(&get, "RCN_METRICS_ADDR")?,
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

/// The variable `var` of the process environment: the one place settings are read from it.
pub fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

/// A lookup over fixed `(variable, value)` pairs, for settings read in tests and examples
/// instead of from the process environment.
pub fn lookup_in<'a>(pairs: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |var: &str| {
        pairs
            .iter()
            .find(|(name, _)| *name == var)
            .map(|(_, value)| (*value).to_owned())
    }
}

/// `get`, with a blank value read as unset (as every settings reader does).
pub fn non_blank(get: impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> {
    move |k: &str| get(k).filter(|v| !v.trim().is_empty())
}

/// The number in `var`, `default` when unset; outside `range` it is an error naming `var`.
pub fn number<T>(
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

/// The socket address in `var` (`127.0.0.1:9464`), `None` when unset.
pub fn socket_addr(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Option<std::net::SocketAddr>, ConfigError> {
    match get(var) {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::Invalid {
                var,
                reason: format!("{raw:?} is not an address like 127.0.0.1:9464"),
            }),
    }
}

/// The holiday calendar working days are counted in: `RCN_GOOD_FRIDAY_OFF` (`true`/`false`,
/// default false) and `RCN_LIBERATION_DAY_OFF` (`always`, `lustrum` or `never`, default lustrum),
/// for every service that counts working days.
pub fn holiday_calendar(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<rcn_contracts::holidays::HolidayCalendar, ConfigError> {
    use rcn_contracts::holidays::{HolidayCalendar, LiberationDay};
    let good_friday_off = match get("RCN_GOOD_FRIDAY_OFF").as_deref().map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ConfigError::Invalid {
                var: "RCN_GOOD_FRIDAY_OFF",
                reason: format!("{other:?} is neither true nor false"),
            });
        }
    };
    let liberation_day = match get("RCN_LIBERATION_DAY_OFF") {
        None => LiberationDay::default(),
        Some(raw) => LiberationDay::parse(&raw).ok_or_else(|| ConfigError::Invalid {
            var: "RCN_LIBERATION_DAY_OFF",
            reason: format!("{raw:?} is not always, lustrum or never"),
        })?,
    };
    let calendar = HolidayCalendar {
        good_friday_off,
        liberation_day,
    };
    Ok(calendar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(lookup_in(pairs))
    }

    #[test]
    fn defaults_serve_a_newcomer() {
        let c = with(&[]).unwrap();
        assert_eq!(c.region.as_str(), "kennemerland");
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
        let e = with(&[("RCN_METRICS_ADDR", "9464")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RCN_METRICS_ADDR is invalid"), "{e}");
        assert_eq!(
            with(&[("RCN_METRICS_ADDR", "0.0.0.0:9464")])
                .unwrap()
                .metrics_addr,
            Some("0.0.0.0:9464".parse().unwrap())
        );
    }
}
