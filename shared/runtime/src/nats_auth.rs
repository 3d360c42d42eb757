//! How a process proves who it is to NATS: explicit credentials from the environment, never
//! parsed out of `NATS_URL` and never printed.
//!
//! A URL with credentials in it (`nats://user:secret@host`) is refused at start-up: the client
//! would silently drop them (every request then fails with "authorization violation"), and the
//! URL is printed in logs and errors. Exactly one kind of credential may be set.

use std::path::PathBuf;

use crate::config::{ConfigError, Secret};

/// The credentials a process connects with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NatsAuth {
    /// No credentials: a server without authorisation (development, tests).
    #[default]
    None,
    /// `NATS_USER` and `NATS_PASSWORD`: a user of the server's accounts file.
    UserPassword { user: String, password: Secret },
    /// `NATS_TOKEN`: the server's single authorisation token (the launcher's own server).
    Token(Secret),
    /// `NATS_CREDS_FILE`: a `.creds` file (JWT and nkey seed), for operator-mode deployments.
    CredsFile(PathBuf),
    /// `NATS_NKEY_SEED`: an nkey user seed (`SU…`).
    NkeySeed(Secret),
}

impl NatsAuth {
    /// Reads the credential variables through `get` (blank values count as unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let user = get("NATS_USER");
        let password = get("NATS_PASSWORD");
        let token = get("NATS_TOKEN");
        let creds = get("NATS_CREDS_FILE");
        let seed = get("NATS_NKEY_SEED");
        let kinds = [
            user.is_some() || password.is_some(),
            token.is_some(),
            creds.is_some(),
            seed.is_some(),
        ];
        if kinds.iter().filter(|set| **set).count() > 1 {
            return Err(ConfigError::Invalid {
                var: "NATS_USER",
                reason: "set one kind of NATS credential: NATS_USER with NATS_PASSWORD, \
                         NATS_TOKEN, NATS_CREDS_FILE or NATS_NKEY_SEED"
                    .into(),
            });
        }
        Ok(match (user, password, token, creds, seed) {
            (Some(user), Some(password), ..) => NatsAuth::UserPassword {
                user,
                password: Secret::new(password),
            },
            (Some(_), None, ..) => {
                return Err(ConfigError::Missing {
                    var: "NATS_PASSWORD",
                    hint: "NATS_USER is set; give its password too",
                });
            }
            (None, Some(_), ..) => {
                return Err(ConfigError::Missing {
                    var: "NATS_USER",
                    hint: "NATS_PASSWORD is set; name the user it belongs to",
                });
            }
            (_, _, Some(token), ..) => NatsAuth::Token(Secret::new(token)),
            (_, _, _, Some(path), _) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(ConfigError::Invalid {
                        var: "NATS_CREDS_FILE",
                        reason: format!("{} is not a readable file", path.display()),
                    });
                }
                NatsAuth::CredsFile(path)
            }
            (_, _, _, _, Some(seed)) => {
                if !seed.starts_with("SU") {
                    return Err(ConfigError::Invalid {
                        var: "NATS_NKEY_SEED",
                        reason: "an nkey user seed starts with SU".into(),
                    });
                }
                NatsAuth::NkeySeed(Secret::new(seed))
            }
            _ => NatsAuth::None,
        })
    }

    /// Client options that present these credentials.
    pub async fn options(&self) -> Result<async_nats::ConnectOptions, std::io::Error> {
        Ok(match self {
            NatsAuth::None => async_nats::ConnectOptions::new(),
            NatsAuth::UserPassword { user, password } => {
                async_nats::ConnectOptions::with_user_and_password(
                    user.clone(),
                    password.expose().to_owned(),
                )
            }
            NatsAuth::Token(token) => {
                async_nats::ConnectOptions::with_token(token.expose().to_owned())
            }
            NatsAuth::CredsFile(path) => {
                async_nats::ConnectOptions::with_credentials_file(path.clone()).await?
            }
            NatsAuth::NkeySeed(seed) => {
                async_nats::ConnectOptions::with_nkey(seed.expose().to_owned())
            }
        })
    }
}

/// Refuses a `NATS_URL` that carries credentials, without repeating it (it holds a secret).
pub fn check_url_has_no_credentials(url: &str) -> Result<(), ConfigError> {
    // Every server of a comma-separated list, with or without a scheme.
    let carries_userinfo = url.split(',').any(|server| {
        let rest = server
            .trim()
            .split_once("://")
            .map_or(server.trim(), |(_, r)| r);
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        authority.contains('@')
    });
    if carries_userinfo {
        return Err(ConfigError::Invalid {
            var: "NATS_URL",
            reason: "it holds credentials, which the NATS client would ignore and logs would \
                     show; give the address alone and the credentials in NATS_USER and \
                     NATS_PASSWORD (or NATS_TOKEN, NATS_CREDS_FILE, NATS_NKEY_SEED)"
                .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(pairs: &[(&str, &str)]) -> Result<NatsAuth, ConfigError> {
        NatsAuth::from_lookup(crate::config::lookup_in(pairs))
    }

    #[test]
    fn no_credentials_means_none() {
        assert_eq!(auth(&[]).unwrap(), NatsAuth::None);
    }

    #[test]
    fn a_user_needs_a_password_and_the_other_way_round() {
        let e = auth(&[("NATS_USER", "intake")]).unwrap_err().to_string();
        assert!(e.contains("NATS_PASSWORD"), "{e}");
        let e = auth(&[("NATS_PASSWORD", "s3cret")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("NATS_USER") && !e.contains("s3cret"), "{e}");
        assert!(matches!(
            auth(&[("NATS_USER", "intake"), ("NATS_PASSWORD", "s3cret")]).unwrap(),
            NatsAuth::UserPassword { user, .. } if user == "intake"
        ));
    }

    #[test]
    fn two_kinds_of_credential_are_refused() {
        let e = auth(&[
            ("NATS_TOKEN", "t0ken"),
            ("NATS_USER", "u"),
            ("NATS_PASSWORD", "p"),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("one kind"), "{e}");
        assert!(!e.contains("t0ken"), "{e}");
    }

    #[test]
    fn a_missing_creds_file_and_a_wrong_seed_are_named() {
        let e = auth(&[("NATS_CREDS_FILE", "/nonexistent/rcn.creds")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("NATS_CREDS_FILE"), "{e}");
        let e = auth(&[("NATS_NKEY_SEED", "not-a-seed")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("NATS_NKEY_SEED") && !e.contains("not-a-seed"),
            "{e}"
        );
    }

    #[test]
    fn credentials_are_never_shown_by_debug() {
        let shown = format!(
            "{:?} {:?}",
            auth(&[("NATS_USER", "intake"), ("NATS_PASSWORD", "s3cret")]).unwrap(),
            auth(&[("NATS_TOKEN", "t0ken")]).unwrap()
        );
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0ken"),
            "{shown}"
        );
    }

    #[test]
    fn a_url_with_credentials_is_refused_without_repeating_them() {
        for url in [
            "nats://intake:s3cret@nats:4222",
            "tls://s3cret@nats:4222",
            "nats://a:4222,nats://intake:s3cret@b:4222",
            "intake:s3cret@nats:4222",
        ] {
            let e = check_url_has_no_credentials(url).unwrap_err().to_string();
            assert!(
                e.contains("NATS_URL") && !e.contains("s3cret"),
                "{url}: {e}"
            );
        }
        for url in [
            "nats://nats:4222",
            "nats://127.0.0.1:4222,nats://b:4222",
            "localhost",
        ] {
            check_url_has_no_credentials(url).expect(url);
        }
    }
}
