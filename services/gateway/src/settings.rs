//! The gateway's own settings, read from the environment here and nowhere else: where it listens
//! and how it presents itself over HTTP. What every service shares (NATS, PostgreSQL, region)
//! stays in `rcn_runtime::Config`.

use std::net::SocketAddr;

/// Why a setting could not be used: the variable and what a valid value looks like.
#[derive(Debug, thiserror::Error)]
#[error("{var} is invalid: {reason}")]
pub struct SettingsError {
    var: &'static str,
    reason: String,
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            hsts_max_age_secs: None,
        }
    }
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
        Ok(Self {
            listen,
            hsts_max_age_secs,
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
