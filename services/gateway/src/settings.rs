//! The gateway's own settings, read from the environment here and nowhere else: where it listens
//! and how it presents itself over HTTP. What every service shares (NATS, PostgreSQL, region)
//! stays in `rcn_runtime::Config`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::portal::oidc::OidcSettings;
use rcn_runtime::config::{ConfigError, Legacy, duration, non_blank};

/// Why a setting could not be used: the variable and what a valid value looks like.
#[derive(Debug, thiserror::Error)]
#[error("{var} is invalid: {reason}")]
pub struct SettingsError {
    var: &'static str,
    reason: String,
}

impl SettingsError {
    pub(crate) fn new(var: &'static str, reason: impl Into<String>) -> Self {
        Self {
            var,
            reason: reason.into(),
        }
    }
}

/// Where the gateway listens and how it presents itself over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `RCN_HTTP_ADDR`: where the gateway listens (`127.0.0.1:8080` by default; port 0 lets the
    /// system pick a free port, which the launcher then reports).
    pub listen: SocketAddr,
    /// `RCN_GATEWAY_HSTS_MAX_AGE_SECS`: when set (and not 0), every response carries
    /// `Strict-Transport-Security: max-age=<secs>`. Only for a gateway reached over TLS (behind a
    /// TLS-terminating proxy): over plain HTTP, browsers ignore it. Off by default.
    pub hsts_max_age_secs: Option<u64>,
    /// `RCN_GATEWAY_AUTH_FAILURES_MAX`: failed authentications one client address may have in
    /// the window before it gets 429 (10 by default).
    pub auth_failures_max: u32,
    /// `RCN_GATEWAY_AUTH_FAILURES_WINDOW` (e.g. `5m`; or, older, `…_WINDOW_SECS`): the sliding
    /// window over which failures are counted, and how long an address is refused once over the
    /// limit (300 s by default).
    pub auth_failures_window: Duration,
    /// `RCN_GATEWAY_HEADER_READ_TIMEOUT` (e.g. `10s`; or, older, `…_TIMEOUT_MS`): how long a
    /// client may take to send the request line and headers before the connection is closed
    /// (10 s by default).
    pub header_read_timeout: Duration,
    /// `RCN_GATEWAY_REQUEST_TIMEOUT` (e.g. `30s`; or, older, `…_TIMEOUT_MS`): how long one
    /// request may take, body and answer included, before it gets 503 (30 s by default).
    pub request_timeout: Duration,
    /// `RCN_GATEWAY_MAX_CONNECTIONS`: the most connections served at once; further ones wait
    /// in the listen backlog until one closes (1024 by default).
    pub max_connections: usize,
    /// `RCN_OIDC_*`: sign-in to the portal with OpenID Connect; `None` (no `RCN_OIDC_ISSUER`)
    /// turns it off.
    pub oidc: Option<OidcSettings>,
    /// The staff portal's sign-in and sessions.
    pub portal: PortalSettings,
}

/// How staff sign in to the portal and how long a session lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSettings {
    /// `RCN_GATEWAY_PUBLIC_URL`: the address staff type in their browser (e.g.
    /// `https://rcn.zvh-kennemerland.nl`). When it is `https://`, the session cookie is sent only
    /// over TLS (`Secure`, under the `__Host-` prefix). `http://127.0.0.1:8080` by default.
    pub public_url: String,
    /// `RCN_GATEWAY_SESSION_IDLE_SECS`: a session unused this long ends (30 minutes by default).
    pub idle_timeout: Duration,
    /// `RCN_GATEWAY_SESSION_MAX_SECS`: a session ends this long after sign-in, used or not
    /// (10 hours by default: one working day).
    pub absolute_timeout: Duration,
    /// `RCN_GATEWAY_BUILTIN_ACCOUNTS`: whether the sign-in page offers the built-in accounts
    /// (`rcn users`); `true` by default, `false` where everyone signs in through the organisation's
    /// identity provider.
    pub builtin_accounts: bool,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(10 * 60 * 60),
            builtin_accounts: true,
        }
    }
}

impl PortalSettings {
    /// Whether the portal is reached over TLS, so its cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            hsts_max_age_secs: None,
            auth_failures_max: 10,
            auth_failures_window: Duration::from_secs(300),
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            portal: PortalSettings::default(),
            oidc: None,
        }
    }
}

impl From<ConfigError> for SettingsError {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Invalid { var, reason } => Self { var, reason },
            ConfigError::Missing { var, hint } => Self {
                var,
                reason: hint.to_owned(),
            },
        }
    }
}

/// A positive whole number from `var`, or `default` when unset or empty.
fn positive(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    unit: &str,
    default: u64,
) -> Result<u64, SettingsError> {
    match get(var).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(SettingsError {
                var,
                reason: format!("{v:?} is not a positive whole number of {unit} (e.g. {default})"),
            }),
        },
    }
}

fn portal_from_lookup(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<PortalSettings, SettingsError> {
    let d = PortalSettings::default();
    const PUBLIC_URL: &str = "RCN_GATEWAY_PUBLIC_URL";
    let public_url = match get(PUBLIC_URL).as_deref().map(str::trim) {
        None | Some("") => d.public_url,
        Some(v) => {
            let scheme_ok = v.starts_with("https://") || v.starts_with("http://");
            let rest = v.split_once("://").map_or("", |(_, rest)| rest);
            if !scheme_ok || rest.is_empty() || rest.contains(char::is_whitespace) {
                return Err(SettingsError {
                    var: PUBLIC_URL,
                    reason: format!(
                        "{v:?} is not an http:// or https:// address like https://rcn.example.nl"
                    ),
                });
            }
            v.trim_end_matches('/').to_owned()
        }
    };
    const BUILTIN: &str = "RCN_GATEWAY_BUILTIN_ACCOUNTS";
    let builtin_accounts = match get(BUILTIN).as_deref().map(str::trim) {
        None | Some("") => d.builtin_accounts,
        Some("true") => true,
        Some("false") => false,
        Some(v) => {
            return Err(SettingsError {
                var: BUILTIN,
                reason: format!("{v:?} is neither true nor false"),
            });
        }
    };
    let secs = |var, default: Duration| {
        positive(get, var, "seconds", default.as_secs()).map(Duration::from_secs)
    };
    let idle_timeout = secs("RCN_GATEWAY_SESSION_IDLE_SECS", d.idle_timeout)?;
    let absolute_timeout = secs("RCN_GATEWAY_SESSION_MAX_SECS", d.absolute_timeout)?;
    if absolute_timeout < idle_timeout {
        return Err(SettingsError {
            var: "RCN_GATEWAY_SESSION_MAX_SECS",
            reason: "is shorter than RCN_GATEWAY_SESSION_IDLE_SECS".into(),
        });
    }
    Ok(PortalSettings {
        public_url,
        idle_timeout,
        absolute_timeout,
        builtin_accounts,
    })
}

impl Settings {
    /// From the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(rcn_runtime::config::process_env)
    }

    /// From any lookup of variable names (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        const LISTEN: &str = "RCN_HTTP_ADDR";
        let listen = match get(LISTEN).as_deref().map(str::trim) {
            None | Some("") => Self::default().listen,
            Some(v) => v.parse().map_err(|_| SettingsError {
                var: LISTEN,
                reason: format!("{v:?} is not an address like 127.0.0.1:8080"),
            })?,
        };
        const HSTS: &str = "RCN_GATEWAY_HSTS_MAX_AGE_SECS";
        let hsts_max_age_secs = match get(HSTS).as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => match v.parse::<u64>() {
                Ok(0) => None,
                Ok(secs) => Some(secs),
                Err(_) => {
                    return Err(SettingsError {
                        var: HSTS,
                        reason: format!(
                            "{v:?} is not a number of seconds (e.g. 31536000 for a year; 0 or unset for off)"
                        ),
                    });
                }
            },
        };
        let d = Self::default();
        let set = non_blank(&get);
        // A duration of at most `max`, in `humantime` form, or in its older numeric variable.
        let within = |var, legacy, default, max| {
            duration(
                &set,
                var,
                Some(legacy),
                default,
                Duration::from_millis(1)..=max,
            )
        };
        const HOUR: Duration = Duration::from_secs(3600);
        Ok(Self {
            listen,
            hsts_max_age_secs,
            auth_failures_max: positive(
                &get,
                "RCN_GATEWAY_AUTH_FAILURES_MAX",
                "failures",
                d.auth_failures_max.into(),
            )?
            .try_into()
            .map_err(|_| SettingsError {
                var: "RCN_GATEWAY_AUTH_FAILURES_MAX",
                reason: "is too large".into(),
            })?,
            auth_failures_window: within(
                "RCN_GATEWAY_AUTH_FAILURES_WINDOW",
                Legacy::Secs("RCN_GATEWAY_AUTH_FAILURES_WINDOW_SECS"),
                d.auth_failures_window,
                24 * HOUR,
            )?,
            header_read_timeout: within(
                "RCN_GATEWAY_HEADER_READ_TIMEOUT",
                Legacy::Millis("RCN_GATEWAY_HEADER_READ_TIMEOUT_MS"),
                d.header_read_timeout,
                HOUR,
            )?,
            request_timeout: within(
                "RCN_GATEWAY_REQUEST_TIMEOUT",
                Legacy::Millis("RCN_GATEWAY_REQUEST_TIMEOUT_MS"),
                d.request_timeout,
                HOUR,
            )?,
            max_connections: positive(
                &get,
                "RCN_GATEWAY_MAX_CONNECTIONS",
                "connections",
                d.max_connections as u64,
            )?
            .try_into()
            .map_err(|_| SettingsError {
                var: "RCN_GATEWAY_MAX_CONNECTIONS",
                reason: "is too large".into(),
            })?,
            oidc: OidcSettings::from_lookup(&get)?,
            portal: portal_from_lookup(&get)?,
        })
    }

    /// The `Strict-Transport-Security` value, when HSTS is on.
    pub fn hsts_header(&self) -> Option<String> {
        self.hsts_max_age_secs.map(|secs| format!("max-age={secs}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_lookup(rcn_runtime::config::lookup_in(pairs))
    }

    #[test]
    fn the_gateway_listens_where_rcn_http_addr_says() {
        assert_eq!(read(&[]).unwrap().listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            read(&[("RCN_HTTP_ADDR", "0.0.0.0:9000")])
                .unwrap()
                .listen
                .to_string(),
            "0.0.0.0:9000"
        );
        let e = read(&[("RCN_HTTP_ADDR", "localhost")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "RCN_HTTP_ADDR is invalid: \"localhost\" is not an address like 127.0.0.1:8080"
        );
    }

    #[test]
    fn edge_limits_have_defaults_and_name_the_variable_when_wrong() {
        let s = read(&[]).unwrap();
        assert_eq!(s.auth_failures_max, 10);
        assert_eq!(s.header_read_timeout, Duration::from_secs(10));
        assert_eq!(s.max_connections, 1024);
        let s = read(&[
            ("RCN_GATEWAY_AUTH_FAILURES_MAX", "3"),
            ("RCN_GATEWAY_AUTH_FAILURES_WINDOW_SECS", "2"),
            ("RCN_GATEWAY_HEADER_READ_TIMEOUT_MS", "1500"),
            ("RCN_GATEWAY_REQUEST_TIMEOUT_MS", "800"),
            ("RCN_GATEWAY_MAX_CONNECTIONS", "2"),
        ])
        .unwrap();
        assert_eq!(s.auth_failures_max, 3);
        assert_eq!(s.auth_failures_window, Duration::from_secs(2));
        assert_eq!(s.header_read_timeout, Duration::from_millis(1500));
        assert_eq!(s.request_timeout, Duration::from_millis(800));
        assert_eq!(s.max_connections, 2);
        let s = read(&[
            ("RCN_GATEWAY_AUTH_FAILURES_WINDOW", "15m"),
            ("RCN_GATEWAY_HEADER_READ_TIMEOUT", "2s"),
            ("RCN_GATEWAY_REQUEST_TIMEOUT", "1m 30s"),
        ])
        .unwrap();
        assert_eq!(s.auth_failures_window, Duration::from_secs(900));
        assert_eq!(s.header_read_timeout, Duration::from_secs(2));
        assert_eq!(s.request_timeout, Duration::from_secs(90));
        for var in [
            "RCN_GATEWAY_AUTH_FAILURES_WINDOW",
            "RCN_GATEWAY_HEADER_READ_TIMEOUT",
            "RCN_GATEWAY_REQUEST_TIMEOUT",
        ] {
            for bad in ["0s", "-1s", "ten", "5"] {
                let e = read(&[(var, bad)]).unwrap_err().to_string();
                assert!(e.starts_with(&format!("{var} is invalid: ")), "{e}");
            }
        }
        for var in [
            "RCN_GATEWAY_AUTH_FAILURES_MAX",
            "RCN_GATEWAY_AUTH_FAILURES_WINDOW_SECS",
            "RCN_GATEWAY_HEADER_READ_TIMEOUT_MS",
            "RCN_GATEWAY_REQUEST_TIMEOUT_MS",
            "RCN_GATEWAY_MAX_CONNECTIONS",
        ] {
            for bad in ["0", "-1", "ten"] {
                let e = read(&[(var, bad)]).unwrap_err().to_string();
                assert!(e.starts_with(&format!("{var} is invalid: ")), "{e}");
            }
        }
    }

    #[test]
    fn portal_sessions_have_defaults_and_secure_cookies_follow_the_public_url() {
        let p = read(&[]).unwrap().portal;
        assert_eq!(p.idle_timeout, Duration::from_secs(1800));
        assert_eq!(p.absolute_timeout, Duration::from_secs(36000));
        assert!(p.builtin_accounts && !p.secure_cookies());
        let p = read(&[
            ("RCN_GATEWAY_PUBLIC_URL", "https://rcn.example.nl/"),
            ("RCN_GATEWAY_SESSION_IDLE_SECS", "60"),
            ("RCN_GATEWAY_SESSION_MAX_SECS", "120"),
            ("RCN_GATEWAY_BUILTIN_ACCOUNTS", "false"),
        ])
        .unwrap()
        .portal;
        assert_eq!(p.public_url, "https://rcn.example.nl");
        assert!(p.secure_cookies() && !p.builtin_accounts);
        assert_eq!(p.idle_timeout, Duration::from_secs(60));
        for (var, bad) in [
            ("RCN_GATEWAY_PUBLIC_URL", "rcn.example.nl"),
            ("RCN_GATEWAY_BUILTIN_ACCOUNTS", "yes"),
            ("RCN_GATEWAY_SESSION_IDLE_SECS", "0"),
            ("RCN_GATEWAY_SESSION_MAX_SECS", "10"),
        ] {
            let e = read(&[(var, bad)]).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{var} is invalid: ")), "{e}");
        }
    }

    #[test]
    fn hsts_is_off_unless_a_max_age_is_set() {
        assert_eq!(read(&[]).unwrap().hsts_header(), None);
        assert_eq!(
            read(&[("RCN_GATEWAY_HSTS_MAX_AGE_SECS", "0")])
                .unwrap()
                .hsts_header(),
            None
        );
        assert_eq!(
            read(&[("RCN_GATEWAY_HSTS_MAX_AGE_SECS", "31536000")])
                .unwrap()
                .hsts_header()
                .as_deref(),
            Some("max-age=31536000")
        );
        let e = read(&[("RCN_GATEWAY_HSTS_MAX_AGE_SECS", "a year")]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("RCN_GATEWAY_HSTS_MAX_AGE_SECS is invalid"),
            "{e}"
        );
    }
}
