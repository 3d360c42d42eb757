//! Typed configuration every service shares (NATS, PostgreSQL, region, logging, pseudonym key,
//! pool and consumer sizes), read from the environment here. Each service reads its own settings
//! in its own `settings` module, with the helpers below ([`non_blank`], [`number`], [`duration`]); nothing else
//! calls `env::var`. A missing or malformed setting stops start-up with a message naming the
//! variable and what a valid value looks like.

use std::path::PathBuf;
use std::time::Duration;

use rcn_contracts::Region;
use rcn_contracts::pseudonym::PseudonymKey;

use crate::nats_auth::{NatsAuth, check_url_has_no_credentials};
use crate::signed_identity::{IdentitySigner, IdentityVerifier, read_key_file};

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
    /// Each service's own NATS credential, by service name (`intake`, `gateway`, …), for a
    /// launcher that runs several services in one process on a server with a user per service
    /// (`rcn run` on its own nats-server); a service without one uses [`Self::nats_auth`].
    /// Never read from the environment: one process of a deployment is one user.
    pub service_nats_auth: Vec<(String, NatsAuth)>,
    /// `DATABASE_URL`; `None` lets the launcher start its own PostgreSQL.
    pub database_url: Option<String>,
    /// `RCN_<SCHEMA>_DATABASE_URL` (e.g. `RCN_CASEWORK_DATABASE_URL`): a service's own URL, with
    /// its own PostgreSQL role, for the schemas of [`crate::db::SERVICE_SCHEMAS`]; a service
    /// without one uses `DATABASE_URL`.
    pub service_database_urls: Vec<(String, String)>,
    /// `RCN_REGION`: the subject segment that separates regions (and tests) on one NATS system.
    pub region: Region,
    /// `RCN_REGION_FILE`: the region table (municipalities, PC4s); the built-in Kennemerland when unset.
    pub region_file: Option<PathBuf>,
    /// `RCN_PSEUDONYM_KEY`: the secret that turns a BSN into a pseudonym; required for intake.
    pub pseudonym_key: Option<PseudonymKey>,
    /// `RCN_IDENTITY_SIGNING_KEY` (or `…_FILE`): the gateway's Ed25519 key for the identities it
    /// passes on; only the gateway needs it.
    pub identity_signer: Option<IdentitySigner>,
    /// `RCN_IDENTITY_PUBLIC_KEY` (or `…_FILE`): the gateway's public key, with which every service
    /// checks a request's identity; derived from the signing key when only that is set.
    pub identity_verifier: Option<IdentityVerifier>,
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
    /// `RCN_RETENTION_*`: how long each record class is kept. Shared, because every service's
    /// job and every stream's maximum age (`rcn provision`) must follow the same rules.
    pub retention: crate::retention::RetentionPolicy,
    /// Where spans go over OTLP/HTTP (the full `…/v1/traces` URL): `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
    /// as it is, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (the OpenTelemetry rules);
    /// `None` (unset, or `OTEL_SDK_DISABLED=true`) exports nothing.
    pub otlp_traces_endpoint: Option<String>,
    /// `OTEL_SERVICE_NAME`: the `service.name` of exported spans instead of the process's own
    /// (`rcn-intake`, …).
    pub otel_service_name: Option<String>,
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
        let (identity_signer, identity_verifier) = identity_keys(&get)?;
        Ok(Self {
            nats_url,
            nats_auth: NatsAuth::from_lookup(&get)?,
            service_nats_auth: Vec::new(),
            identity_signer,
            identity_verifier,
            database_url: get("DATABASE_URL"),
            service_database_urls: crate::db::SERVICE_SCHEMAS
                .iter()
                .filter_map(|schema| {
                    get(&format!("RCN_{}_DATABASE_URL", schema.to_uppercase()))
                        .map(|url| ((*schema).to_owned(), url))
                })
                .collect(),
            region,
            region_file: get("RCN_REGION_FILE").map(PathBuf::from),
            pseudonym_key,
            log_json,
            db_pool_size: number(&get, "RCN_DB_POOL_SIZE", 8, 1..=200)?,
            consumer_workers: number(&get, "RCN_CONSUMER_WORKERS", 4, 1..=64)?,
            consumer_batch: number(&get, "RCN_CONSUMER_BATCH", 64, 1..=1000)?,
            metrics_addr: socket_addr(&get, "RCN_METRICS_ADDR")?,
            retention: crate::retention::RetentionPolicy::from_lookup(&get)?,
            otlp_traces_endpoint: otlp_traces_endpoint(&get)?,
            otel_service_name: get("OTEL_SERVICE_NAME").map(|s| s.trim().to_owned()),
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

    /// Uses `signer` for signing and its public key for checking identities.
    pub fn set_identity_signer(&mut self, signer: IdentitySigner) {
        self.identity_verifier = Some(signer.verifier());
        self.identity_signer = Some(signer);
    }

    pub fn identity_signer(&self) -> Result<&IdentitySigner, ConfigError> {
        self.identity_signer.as_ref().ok_or(ConfigError::Missing {
            var: "RCN_IDENTITY_SIGNING_KEY",
            hint: "the gateway signs the identities it passes on: set RCN_IDENTITY_SIGNING_KEY_FILE to a file with the key `rcn keys` made",
        })
    }

    pub fn identity_verifier(&self) -> Result<&IdentityVerifier, ConfigError> {
        self.identity_verifier.as_ref().ok_or(ConfigError::Missing {
            var: "RCN_IDENTITY_PUBLIC_KEY",
            hint: "services check the gateway's signature on every identity: set it to the public key `rcn keys` printed",
        })
    }

    /// The NATS credential of the service called `service`: its own when the launcher gave it
    /// one ([`Self::service_nats_auth`]), this process's otherwise.
    pub fn nats_auth_for(&self, service: &str) -> &NatsAuth {
        self.service_nats_auth
            .iter()
            .find(|(s, _)| s == service)
            .map_or(&self.nats_auth, |(_, auth)| auth)
    }

    /// The URL the service owning `schema` connects with: its own (`RCN_<SCHEMA>_DATABASE_URL`)
    /// when set, `DATABASE_URL` otherwise.
    pub fn database_url_for(&self, schema: &str) -> Result<&str, ConfigError> {
        match self.service_database_urls.iter().find(|(s, _)| s == schema) {
            Some((_, url)) => Ok(url),
            None => self.database_url(),
        }
    }

    pub fn pseudonym_key(&self) -> Result<&PseudonymKey, ConfigError> {
        self.pseudonym_key.as_ref().ok_or(ConfigError::Missing {
            var: "RCN_PSEUDONYM_KEY",
            hint: "a random secret of at least 16 characters, the same for every intake instance of the region",
        })
    }
}

/// The identity keys: each from its variable or from the file its `…_FILE` variable names.
fn identity_keys(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<(Option<IdentitySigner>, Option<IdentityVerifier>), ConfigError> {
    let signer = value_or_file(
        get,
        "RCN_IDENTITY_SIGNING_KEY",
        "RCN_IDENTITY_SIGNING_KEY_FILE",
    )?
    .map(|(var, v)| {
        IdentitySigner::from_seed_hex(&v).map_err(|reason| ConfigError::Invalid { var, reason })
    })
    .transpose()?;
    let verifier = value_or_file(
        get,
        "RCN_IDENTITY_PUBLIC_KEY",
        "RCN_IDENTITY_PUBLIC_KEY_FILE",
    )?
    .map(|(var, v)| {
        IdentityVerifier::from_public_hex(&v).map_err(|reason| ConfigError::Invalid { var, reason })
    })
    .transpose()?;
    match (signer, verifier) {
        (Some(s), Some(v)) if s.verifier() != v => Err(ConfigError::Invalid {
            var: "RCN_IDENTITY_PUBLIC_KEY",
            reason: "it is not the public key of RCN_IDENTITY_SIGNING_KEY".into(),
        }),
        (Some(s), _) => {
            let v = s.verifier();
            Ok((Some(s), Some(v)))
        }
        (None, v) => Ok((None, v)),
    }
}

/// The value of `var`, or the contents of the file `file_var` names (for secrets kept in files);
/// with the variable it came from. Both set is an error.
pub fn value_or_file(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    file_var: &'static str,
) -> Result<Option<(&'static str, String)>, ConfigError> {
    match (get(var), get(file_var)) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid {
            var: file_var,
            reason: format!("set {var} or {file_var}, not both"),
        }),
        (Some(v), None) => Ok(Some((var, v))),
        (None, Some(path)) => read_key_file(std::path::Path::new(&path))
            .map(|v| Some((file_var, v)))
            .map_err(|reason| ConfigError::Invalid {
                var: file_var,
                reason,
            }),
        (None, None) => Ok(None),
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

/// The older, numeric form of a duration setting, still read when the new one is unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// A whole number of milliseconds (`…_MS`).
    Millis(&'static str),
    /// A whole number of seconds (`…_SECS`).
    Secs(&'static str),
}

/// The duration in `var`, written the way `humantime` reads it (`500ms`, `90s`, `2m`, `1h 30m`);
/// else the number in its older numeric variable `legacy` (`…_MS` or `…_SECS`), so existing
/// deployments keep working; else `default`. Outside `range`, or set both ways, it is an error
/// naming the variable.
pub fn duration(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    legacy: Option<Legacy>,
    default: Duration,
    range: std::ops::RangeInclusive<Duration>,
) -> Result<Duration, ConfigError> {
    let old = legacy.and_then(|l| {
        let name = match l {
            Legacy::Millis(n) | Legacy::Secs(n) => n,
        };
        get(name).map(|_| (l, name))
    });
    match (get(var), old) {
        (Some(_), Some((_, name))) => Err(ConfigError::Invalid {
            var,
            reason: format!("{name} (its older form) is set too; set only {var}"),
        }),
        (Some(raw), None) => match humantime::parse_duration(raw.trim()) {
            Ok(d) if range.contains(&d) => Ok(d),
            _ => Err(ConfigError::Invalid {
                var,
                reason: format!(
                    "{raw:?} is not a duration from {} to {} (e.g. 500ms, 90s, 2m)",
                    humantime::format_duration(*range.start()),
                    humantime::format_duration(*range.end())
                ),
            }),
        },
        (None, Some((Legacy::Millis(name), _))) => {
            let ms = |d: &Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            let range = ms(range.start())..=ms(range.end());
            number(get, name, 0, range).map(Duration::from_millis)
        }
        (None, Some((Legacy::Secs(name), _))) => {
            let range = range.start().as_secs().max(1)..=range.end().as_secs();
            number(get, name, 0, range).map(Duration::from_secs)
        }
        (None, None) => Ok(default),
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

/// The OTLP/HTTP traces URL, by the OpenTelemetry environment rules (see
/// [`Config::otlp_traces_endpoint`]); an endpoint that is not an `http(s)://` URL is refused.
fn otlp_traces_endpoint(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    if get("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    let (var, url) = match (
        get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        get("OTEL_EXPORTER_OTLP_ENDPOINT"),
    ) {
        (Some(url), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.trim().to_owned()),
        (None, Some(base)) => (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("{}/v1/traces", base.trim().trim_end_matches('/')),
        ),
        (None, None) => return Ok(None),
    };
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok || url.parse::<http::Uri>().is_err() {
        return Err(ConfigError::Invalid {
            var,
            reason: format!(
                "{url:?} is not an OTLP/HTTP URL like http://127.0.0.1:4318 (gRPC is not supported)"
            ),
        });
    }
    Ok(Some(url))
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
    fn the_otlp_endpoint_follows_the_opentelemetry_rules() {
        assert_eq!(with(&[]).unwrap().otlp_traces_endpoint, None);
        let generic = with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]).unwrap();
        assert_eq!(
            generic.otlp_traces_endpoint.as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        let specific = with(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://traces.example/ingest",
            ),
        ])
        .unwrap();
        assert_eq!(
            specific.otlp_traces_endpoint.as_deref(),
            Some("https://traces.example/ingest")
        );
        let off = with(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ])
        .unwrap();
        assert_eq!(off.otlp_traces_endpoint, None);
        let e = with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("OTEL_EXPORTER_OTLP_ENDPOINT is invalid"),
            "{e}"
        );
    }

    #[test]
    fn identity_keys_come_from_a_value_or_a_file_and_must_belong_together() {
        let gateway = IdentitySigner::generate();
        let seed = gateway.seed_hex();
        let c = with(&[("RCN_IDENTITY_SIGNING_KEY", &seed)]).unwrap();
        assert_eq!(c.identity_verifier().unwrap(), &gateway.verifier());
        let path = std::env::temp_dir().join(format!("rcn-key-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, format!("{}\n", gateway.public_key_hex())).unwrap();
        let c = with(&[("RCN_IDENTITY_PUBLIC_KEY_FILE", path.to_str().unwrap())]).unwrap();
        assert_eq!(c.identity_verifier().unwrap(), &gateway.verifier());
        assert!(c.identity_signer.is_none());
        std::fs::remove_file(&path).unwrap();
        let other = IdentitySigner::generate().public_key_hex();
        let e = with(&[
            ("RCN_IDENTITY_SIGNING_KEY", &seed),
            ("RCN_IDENTITY_PUBLIC_KEY", &other),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("RCN_IDENTITY_PUBLIC_KEY is invalid"), "{e}");
        let e = with(&[("RCN_IDENTITY_PUBLIC_KEY", "not-a-key")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("64 hexadecimal digits"), "{e}");
        assert!(!e.contains("not-a-key"), "{e}");
        let e = with(&[])
            .unwrap()
            .identity_verifier()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RCN_IDENTITY_PUBLIC_KEY is not set"), "{e}");
        let e = with(&[("RCN_IDENTITY_SIGNING_KEY_FILE", "/nonexistent/key")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("RCN_IDENTITY_SIGNING_KEY_FILE is invalid"),
            "{e}"
        );
    }

    #[test]
    fn a_service_may_have_a_database_url_of_its_own() {
        let c = with(&[
            ("DATABASE_URL", "postgres://admin@db/rcn"),
            (
                "RCN_CASEWORK_DATABASE_URL",
                "postgres://rcn_casework@db/rcn",
            ),
        ])
        .unwrap();
        assert_eq!(
            c.database_url_for("casework").unwrap(),
            "postgres://rcn_casework@db/rcn"
        );
        assert_eq!(
            c.database_url_for("gateway").unwrap(),
            "postgres://admin@db/rcn"
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

    #[test]
    fn a_duration_reads_as_humantime_or_in_its_older_numeric_form() {
        let read = |pairs: &[(&str, &str)]| {
            duration(
                &non_blank(lookup_in(pairs)),
                "RCN_X_TIMEOUT",
                Some(Legacy::Millis("RCN_X_TIMEOUT_MS")),
                Duration::from_secs(2),
                Duration::from_millis(50)..=Duration::from_secs(60),
            )
        };
        assert_eq!(read(&[]).unwrap(), Duration::from_secs(2));
        assert_eq!(
            read(&[("RCN_X_TIMEOUT", "1m")]).unwrap(),
            Duration::from_secs(60)
        );
        assert_eq!(
            read(&[("RCN_X_TIMEOUT", "1s 500ms")]).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            read(&[("RCN_X_TIMEOUT_MS", "250")]).unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(
            read(&[("RCN_X_TIMEOUT", "2h")]).unwrap_err().to_string(),
            "RCN_X_TIMEOUT is invalid: \"2h\" is not a duration from 50ms to 1m (e.g. 500ms, 90s, 2m)"
        );
        assert!(
            read(&[("RCN_X_TIMEOUT", "250")]).is_err(),
            "a unit is required"
        );
        assert_eq!(
            read(&[("RCN_X_TIMEOUT_MS", "10")]).unwrap_err().to_string(),
            "RCN_X_TIMEOUT_MS is invalid: \"10\" is not a number from 50 to 60000"
        );
        let both = read(&[("RCN_X_TIMEOUT", "1s"), ("RCN_X_TIMEOUT_MS", "1000")]);
        assert!(
            both.unwrap_err()
                .to_string()
                .contains("set only RCN_X_TIMEOUT"),
            "one setting, one place"
        );
        let secs = duration(
            &lookup_in(&[("RCN_Y_WINDOW_SECS", "7")]),
            "RCN_Y_WINDOW",
            Some(Legacy::Secs("RCN_Y_WINDOW_SECS")),
            Duration::from_secs(300),
            Duration::from_secs(1)..=Duration::from_secs(3600),
        );
        assert_eq!(secs.unwrap(), Duration::from_secs(7));
    }
}
