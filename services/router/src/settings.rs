//! The router's own settings, read from the environment here and nowhere else: the address
//! register it asks for postcode + house number (rule 2). What every service shares (NATS,
//! PostgreSQL, region) stays in `rcn_runtime::Config`.

use std::time::Duration;

use rcn_runtime::config::{ConfigError, Legacy, Secret, duration, non_blank, number};

/// How the router is configured beyond what every service shares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `RCN_ADDRESS_REGISTER_*`: the address register; `None` (no URL) skips rule 2, and
    /// decisions say so.
    pub address_register: Option<AddressRegisterSettings>,
}

/// How to reach the address register and how patient to be with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRegisterSettings {
    /// `RCN_ADDRESS_REGISTER_URL`: base URL of the Haal Centraal-style address register, without
    /// a trailing slash.
    pub url: String,
    /// `RCN_ADDRESS_REGISTER_API_KEY`: sent as `X-Api-Key`, as Haal Centraal APIs expect.
    pub api_key: Option<Secret>,
    /// `RCN_ADDRESS_REGISTER_TIMEOUT` (e.g. `2s`; or, older, `RCN_ADDRESS_REGISTER_TIMEOUT_MS`):
    /// the most one request may take, connecting included.
    pub timeout: Duration,
    /// `RCN_ADDRESS_REGISTER_RETRIES`: extra attempts after a failed request, with back-off.
    pub retries: u32,
    /// `RCN_ADDRESS_REGISTER_BREAKER_FAILURES`: failed look-ups in a row that open the circuit
    /// breaker, so a register that is down does not slow every notice down.
    pub breaker_failures: u32,
    /// `RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN` (e.g. `30s`; or, older,
    /// `RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN_SECS`): how long the register is skipped once the
    /// breaker is open, before one look-up tries it again.
    pub breaker_cooldown: Duration,
}

impl AddressRegisterSettings {
    /// The register at `url` with the default timeout, retries and breaker.
    pub fn at(url: impl Into<String>) -> Self {
        Self {
            url: url.into().trim().trim_end_matches('/').to_owned(),
            api_key: None,
            timeout: Duration::from_millis(2000),
            retries: 2,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(30),
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
        let Some(url) = get("RCN_ADDRESS_REGISTER_URL") else {
            return Ok(Self::default());
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(['?', '#'])
        {
            return Err(ConfigError::Invalid {
                var: "RCN_ADDRESS_REGISTER_URL",
                reason: format!(
                    "{url:?} is not a base URL like https://api.example.nl/lvbag/individuelebevragingen/v2"
                ),
            });
        }
        let defaults = AddressRegisterSettings::at(url);
        let register = AddressRegisterSettings {
            api_key: get("RCN_ADDRESS_REGISTER_API_KEY").map(Secret::new),
            timeout: duration(
                &get,
                "RCN_ADDRESS_REGISTER_TIMEOUT",
                Some(Legacy::Millis("RCN_ADDRESS_REGISTER_TIMEOUT_MS")),
                Duration::from_secs(2),
                Duration::from_millis(50)..=Duration::from_secs(60),
            )?,
            retries: number(&get, "RCN_ADDRESS_REGISTER_RETRIES", 2, 0..=5)?,
            breaker_failures: number(&get, "RCN_ADDRESS_REGISTER_BREAKER_FAILURES", 5, 1..=1000)?,
            breaker_cooldown: duration(
                &get,
                "RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN",
                Some(Legacy::Secs("RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN_SECS")),
                Duration::from_secs(30),
                Duration::from_secs(1)..=Duration::from_secs(3600),
            )?,
            ..defaults
        };
        Ok(Self {
            address_register: Some(register),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_lookup(rcn_runtime::config::lookup_in(pairs))
    }

    #[test]
    fn the_address_register_is_optional_and_tuned_by_its_own_variables() {
        assert_eq!(with(&[]).unwrap(), Settings::default());
        assert!(
            with(&[("RCN_ADDRESS_REGISTER_URL", " ")])
                .unwrap()
                .address_register
                .is_none()
        );
        let r = with(&[("RCN_ADDRESS_REGISTER_URL", "https://bag.example.nl/v2")])
            .unwrap()
            .address_register
            .unwrap();
        assert_eq!(r.api_key, None);
        assert_eq!(r.timeout, Duration::from_secs(2));
        assert_eq!((r.retries, r.breaker_failures), (2, 5));
        assert_eq!(r.breaker_cooldown, Duration::from_secs(30));

        let s = with(&[
            ("RCN_ADDRESS_REGISTER_URL", "https://bag.example.nl/v2/"),
            ("RCN_ADDRESS_REGISTER_API_KEY", "s3cr3t-key"),
            ("RCN_ADDRESS_REGISTER_TIMEOUT_MS", "250"),
            ("RCN_ADDRESS_REGISTER_RETRIES", "0"),
            ("RCN_ADDRESS_REGISTER_BREAKER_FAILURES", "3"),
            ("RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN_SECS", "10"),
        ])
        .unwrap();
        assert!(
            !format!("{s:?}").contains("s3cr3t"),
            "the key never shows in Debug"
        );
        let r = s.address_register.unwrap();
        assert_eq!(r.url, "https://bag.example.nl/v2");
        assert_eq!(r.api_key.as_ref().map(Secret::expose), Some("s3cr3t-key"));
        assert_eq!(r.timeout, Duration::from_millis(250));
        assert_eq!((r.retries, r.breaker_failures), (0, 3));
        assert_eq!(r.breaker_cooldown, Duration::from_secs(10));

        let r = with(&[
            ("RCN_ADDRESS_REGISTER_URL", "https://bag.example.nl/v2"),
            ("RCN_ADDRESS_REGISTER_TIMEOUT", "750ms"),
            ("RCN_ADDRESS_REGISTER_BREAKER_COOLDOWN", "2m"),
        ])
        .unwrap()
        .address_register
        .unwrap();
        assert_eq!(r.timeout, Duration::from_millis(750));
        assert_eq!(r.breaker_cooldown, Duration::from_secs(120));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = with(&[("RCN_ADDRESS_REGISTER_URL", "bag.example.nl")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "RCN_ADDRESS_REGISTER_URL is invalid: \"bag.example.nl\" is not a base URL"
            ),
            "{e}"
        );
        let e = with(&[
            ("RCN_ADDRESS_REGISTER_URL", "https://bag.example.nl/v2"),
            ("RCN_ADDRESS_REGISTER_RETRIES", "9"),
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "RCN_ADDRESS_REGISTER_RETRIES is invalid: \"9\" is not a number from 0 to 5"
        );
    }
}
