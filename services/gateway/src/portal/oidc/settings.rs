//! Sign-in settings, read from the environment with the rest of the gateway's settings: which
//! OpenID provider, as which client, and how its claims become an rcn role and municipality.
//!
//! The client secret is read here (from a variable or a file) and never printed: its `Debug`
//! shows only that it is set.

use std::fmt;

use openidconnect::url::Url;
use rcn_contracts::identity::Role;

use crate::settings::SettingsError;

/// A client secret: compared and sent, never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

/// How the role claim's values become rcn roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleTable {
    /// `RCN_OIDC_ROLE_MAP` unset: the claim carries rcn's own role names (`municipal_staff`, …).
    RoleNames,
    /// Claim value → role; any value not in the table gives no access.
    Table(Vec<(String, Role)>),
}

impl RoleTable {
    /// The role a claim value stands for, if any.
    pub fn role_of(&self, value: &str) -> Option<Role> {
        match self {
            RoleTable::RoleNames => role_named(value),
            RoleTable::Table(rows) => rows.iter().find(|(v, _)| v == value).map(|(_, r)| *r),
        }
    }
}

/// A role by its snake_case name, as the contracts spell it, so roles added there work here
/// without a change.
fn role_named(name: &str) -> Option<Role> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// Where the person's details are in the provider's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    /// `RCN_OIDC_USER_ID_CLAIM` (`sub`): the account id colleagues see as a task's holder.
    pub user_id: String,
    /// `RCN_OIDC_NAME_CLAIM` (`name`): the name shown in the portal; the user id when missing.
    pub name: String,
    /// `RCN_OIDC_ROLE_CLAIM` (`roles`): a string or a list of strings.
    pub role: String,
    /// `RCN_OIDC_GEMEENTECODE_CLAIM` (`gemeentecode`): the municipality the person works for.
    pub gemeentecode: String,
}

/// Sign-in with OpenID Connect (authorization code flow with PKCE), on when `RCN_OIDC_ISSUER` is
/// set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// `RCN_OIDC_ISSUER`: the provider's issuer URL; its discovery document is at
    /// `<issuer>/.well-known/openid-configuration`. Kept exactly as written: the provider's
    /// tokens must name the very same string.
    pub issuer: String,
    /// `RCN_OIDC_CLIENT_ID`: rcn's client id at the provider.
    pub client_id: String,
    /// `RCN_OIDC_CLIENT_SECRET` or `RCN_OIDC_CLIENT_SECRET_FILE`; none for a public client (PKCE
    /// only).
    pub client_secret: Option<ClientSecret>,
    /// `RCN_OIDC_REDIRECT_URL`: where the provider sends the browser back, the portal's
    /// `/oidc/callback` as the provider knows it (registered there character for character).
    pub redirect_url: String,
    /// `RCN_OIDC_SCOPES`: the scopes asked for (`openid` is always among them).
    pub scopes: Vec<String>,
    pub claims: ClaimNames,
    /// `RCN_OIDC_ROLE_MAP`: `value=role;value=role`.
    pub roles: RoleTable,
}

impl OidcSettings {
    /// The settings for `issuer` with every other setting at its default, for tests and examples.
    pub fn new(issuer: &str, client_id: &str, redirect_url: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: None,
            redirect_url: redirect_url.to_owned(),
            scopes: vec!["openid".into(), "profile".into()],
            claims: ClaimNames {
                user_id: "sub".into(),
                name: "name".into(),
                role: "roles".into(),
                gemeentecode: "gemeentecode".into(),
            },
            roles: RoleTable::RoleNames,
        }
    }

    /// From any lookup of variable names; `None` when `RCN_OIDC_ISSUER` is unset (sign-in with
    /// OpenID Connect off).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, SettingsError> {
        let get = |var: &str| {
            get(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(issuer) = get(ISSUER) else {
            for var in [CLIENT_ID, CLIENT_SECRET, CLIENT_SECRET_FILE, REDIRECT_URL] {
                if get(var).is_some() {
                    return Err(SettingsError::new(
                        var,
                        format!("is set but {ISSUER} is not; set both, or neither"),
                    ));
                }
            }
            return Ok(None);
        };
        web_url(ISSUER, &issuer)?;
        let client_id = get(CLIENT_ID).ok_or_else(|| {
            SettingsError::new(CLIENT_ID, format!("is required when {ISSUER} is set"))
        })?;
        let redirect_url = get(REDIRECT_URL).ok_or_else(|| {
            SettingsError::new(
                REDIRECT_URL,
                format!(
                    "is required when {ISSUER} is set (e.g. https://rcn.example.nl/oidc/callback)"
                ),
            )
        })?;
        web_url(REDIRECT_URL, &redirect_url)?;
        let client_secret = match (get(CLIENT_SECRET), get(CLIENT_SECRET_FILE)) {
            (Some(_), Some(_)) => {
                return Err(SettingsError::new(
                    CLIENT_SECRET_FILE,
                    format!("is set together with {CLIENT_SECRET}; set one of them"),
                ));
            }
            (Some(secret), None) => Some(ClientSecret(secret)),
            (None, Some(path)) => Some(ClientSecret(read_secret_file(&path)?)),
            (None, None) => None,
        };
        let mut settings = Self::new(&issuer, &client_id, &redirect_url);
        settings.client_secret = client_secret;
        if let Some(scopes) = get(SCOPES) {
            settings.scopes = parse_scopes(&scopes)?;
        }
        for (var, field) in [
            (USER_ID_CLAIM, &mut settings.claims.user_id),
            (NAME_CLAIM, &mut settings.claims.name),
            (ROLE_CLAIM, &mut settings.claims.role),
            (GEMEENTECODE_CLAIM, &mut settings.claims.gemeentecode),
        ] {
            if let Some(name) = get(var) {
                if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(SettingsError::new(
                        var,
                        format!("{name:?} is not a claim name (no spaces)"),
                    ));
                }
                *field = name;
            }
        }
        if let Some(table) = get(ROLE_MAP) {
            settings.roles = parse_role_table(&table)?;
        }
        Ok(Some(settings))
    }
}

const ISSUER: &str = "RCN_OIDC_ISSUER";
const CLIENT_ID: &str = "RCN_OIDC_CLIENT_ID";
const CLIENT_SECRET: &str = "RCN_OIDC_CLIENT_SECRET";
const CLIENT_SECRET_FILE: &str = "RCN_OIDC_CLIENT_SECRET_FILE";
const REDIRECT_URL: &str = "RCN_OIDC_REDIRECT_URL";
const SCOPES: &str = "RCN_OIDC_SCOPES";
const USER_ID_CLAIM: &str = "RCN_OIDC_USER_ID_CLAIM";
const NAME_CLAIM: &str = "RCN_OIDC_NAME_CLAIM";
const ROLE_CLAIM: &str = "RCN_OIDC_ROLE_CLAIM";
const GEMEENTECODE_CLAIM: &str = "RCN_OIDC_GEMEENTECODE_CLAIM";
const ROLE_MAP: &str = "RCN_OIDC_ROLE_MAP";

/// An absolute `https` URL; plain `http` only for this machine (development and tests).
fn web_url(var: &'static str, value: &str) -> Result<Url, SettingsError> {
    let url = Url::parse(value).map_err(|_| {
        SettingsError::new(
            var,
            format!("{value:?} is not a URL like https://login.example.nl"),
        )
    })?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => {
            return Err(SettingsError::new(
                var,
                format!("{value:?} must start with https:// (http:// only for localhost)"),
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(SettingsError::new(
            var,
            format!("{value:?} must not hold a user name, password or #fragment"),
        ));
    }
    Ok(url)
}

fn read_secret_file(path: &str) -> Result<String, SettingsError> {
    // The error names the file, never its contents.
    let text = std::fs::read_to_string(path).map_err(|e| {
        SettingsError::new(
            CLIENT_SECRET_FILE,
            format!("cannot read {path:?}: {}", e.kind()),
        )
    })?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(SettingsError::new(
            CLIENT_SECRET_FILE,
            format!("{path:?} is empty"),
        ));
    }
    Ok(secret.to_owned())
}

/// Scopes separated by spaces or commas; `openid` is added first when missing.
fn parse_scopes(value: &str) -> Result<Vec<String>, SettingsError> {
    let mut scopes = vec!["openid".to_owned()];
    for scope in value.split([' ', ',']).filter(|s| !s.is_empty()) {
        if !scope
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(SettingsError::new(
                SCOPES,
                format!("{scope:?} is not a scope name (e.g. \"openid profile\")"),
            ));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    Ok(scopes)
}

/// `value=role;value=role`: a value may itself hold `=` (a group's DN), the role follows the
/// last one.
fn parse_role_table(value: &str) -> Result<RoleTable, SettingsError> {
    let mut rows: Vec<(String, Role)> = Vec::new();
    for entry in value.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((claim_value, role)) = entry.rsplit_once('=') else {
            return Err(SettingsError::new(
                ROLE_MAP,
                format!("{entry:?} is not claim-value=role (e.g. nazorg-haarlem=municipal_staff)"),
            ));
        };
        let (claim_value, role_name) = (claim_value.trim(), role.trim());
        let Some(role) = role_named(role_name) else {
            return Err(SettingsError::new(
                ROLE_MAP,
                format!(
                    "{role_name:?} is not a role of rcn (e.g. municipal_staff, rcn_coordinator, procesregisseur)"
                ),
            ));
        };
        if claim_value.is_empty() {
            return Err(SettingsError::new(
                ROLE_MAP,
                format!("{entry:?} has no claim value before the ="),
            ));
        }
        if let Some((_, earlier)) = rows.iter().find(|(v, _)| v == claim_value) {
            if *earlier != role {
                return Err(SettingsError::new(
                    ROLE_MAP,
                    format!("{claim_value:?} is mapped to two roles"),
                ));
            }
            continue;
        }
        rows.push((claim_value.to_owned(), role));
    }
    if rows.is_empty() {
        return Err(SettingsError::new(
            ROLE_MAP,
            "is set but maps nothing; unset it to use rcn's role names as claim values",
        ));
    }
    Ok(RoleTable::Table(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Option<OidcSettings>, SettingsError> {
        OidcSettings::from_lookup(rcn_runtime::config::lookup_in(pairs))
    }

    const BASE: [(&str, &str); 3] = [
        ("RCN_OIDC_ISSUER", "https://login.example.nl/realms/rcn"),
        ("RCN_OIDC_CLIENT_ID", "rcn-portal"),
        (
            "RCN_OIDC_REDIRECT_URL",
            "https://rcn.example.nl/oidc/callback",
        ),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        BASE.iter().chain(extra).copied().collect()
    }

    fn error_of(pairs: &[(&str, &str)]) -> String {
        read(pairs).expect_err("refused").to_string()
    }

    #[test]
    fn sign_in_with_oidc_is_off_unless_an_issuer_is_set() {
        assert_eq!(read(&[]).unwrap(), None);
        let e = error_of(&[("RCN_OIDC_CLIENT_ID", "rcn")]);
        assert!(
            e.starts_with("RCN_OIDC_CLIENT_ID is invalid: is set but RCN_OIDC_ISSUER"),
            "{e}"
        );
    }

    #[test]
    fn defaults_ask_for_openid_and_profile_and_take_role_names_as_they_are() {
        let s = read(&BASE).unwrap().unwrap();
        assert_eq!(s.client_id, "rcn-portal");
        assert_eq!(s.client_secret, None);
        assert_eq!(s.scopes, ["openid", "profile"]);
        assert_eq!(s.claims.user_id, "sub");
        assert_eq!(s.claims.role, "roles");
        assert_eq!(s.claims.gemeentecode, "gemeentecode");
        assert_eq!(
            s.roles.role_of("rcn_coordinator"),
            Some(Role::RcnCoordinator)
        );
        assert_eq!(s.roles.role_of("admin"), None);
    }

    #[test]
    fn each_required_setting_is_named_when_missing_or_wrong() {
        for (var, bad) in [
            ("RCN_OIDC_ISSUER", "login.example.nl"),
            ("RCN_OIDC_ISSUER", "http://login.example.nl"),
            ("RCN_OIDC_ISSUER", "https://user:pw@login.example.nl"),
            ("RCN_OIDC_REDIRECT_URL", "ftp://rcn.example.nl/cb"),
        ] {
            let mut pairs = with(&[]);
            pairs.retain(|(v, _)| *v != var);
            pairs.push((var, bad));
            let e = error_of(&pairs);
            assert!(e.starts_with(&format!("{var} is invalid: ")), "{e}");
        }
        for var in ["RCN_OIDC_CLIENT_ID", "RCN_OIDC_REDIRECT_URL"] {
            let pairs: Vec<_> = BASE.iter().filter(|(v, _)| *v != var).copied().collect();
            assert!(error_of(&pairs).starts_with(&format!("{var} is invalid: is required")));
        }
        let local = [
            ("RCN_OIDC_ISSUER", "http://127.0.0.1:4444"),
            ("RCN_OIDC_CLIENT_ID", "rcn"),
            (
                "RCN_OIDC_REDIRECT_URL",
                "http://localhost:8080/oidc/callback",
            ),
        ];
        let s = read(&local).unwrap().unwrap();
        assert_eq!(s.issuer, "http://127.0.0.1:4444", "kept exactly as written");
    }

    #[test]
    fn the_client_secret_comes_from_a_variable_or_a_file_and_is_never_shown() {
        let s = read(&with(&[("RCN_OIDC_CLIENT_SECRET", "hunter2-hunter2")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            s.client_secret.as_ref().unwrap().expose(),
            "hunter2-hunter2"
        );
        assert!(!format!("{s:?}").contains("hunter2"));

        let path = std::env::temp_dir().join(format!("rcn-oidc-secret-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, "from-a-file\n").unwrap();
        let path_str = path.to_str().unwrap().to_owned();
        let pairs: Vec<(&str, &str)> = BASE
            .iter()
            .copied()
            .chain([("RCN_OIDC_CLIENT_SECRET_FILE", path_str.as_str())])
            .collect();
        let s = read(&pairs).unwrap().unwrap();
        assert_eq!(s.client_secret.unwrap().expose(), "from-a-file");
        std::fs::remove_file(&path).unwrap();
        let e = error_of(&pairs);
        assert!(
            e.starts_with("RCN_OIDC_CLIENT_SECRET_FILE is invalid: cannot read"),
            "{e}"
        );
        assert!(!e.contains("from-a-file"));

        let both = with(&[
            ("RCN_OIDC_CLIENT_SECRET", "a"),
            ("RCN_OIDC_CLIENT_SECRET_FILE", "/etc/hostname"),
        ]);
        assert!(error_of(&both).contains("set one of them"));
    }

    #[test]
    fn scopes_always_include_openid() {
        let s = read(&with(&[("RCN_OIDC_SCOPES", "profile,rcn email")]))
            .unwrap()
            .unwrap();
        assert_eq!(s.scopes, ["openid", "profile", "rcn", "email"]);
        let e = error_of(&with(&[("RCN_OIDC_SCOPES", "openid \"x\"")]));
        assert!(e.starts_with("RCN_OIDC_SCOPES is invalid"), "{e}");
    }

    #[test]
    fn the_role_table_maps_claim_values_to_roles_and_refuses_unknown_roles() {
        let s = read(&with(&[
            ("RCN_OIDC_ROLE_CLAIM", "groups"),
            (
                "RCN_OIDC_ROLE_MAP",
                "cn=nazorg,ou=haarlem=municipal_staff; rcn=rcn_coordinator;zvh=procesregisseur",
            ),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(s.claims.role, "groups");
        assert_eq!(
            s.roles.role_of("cn=nazorg,ou=haarlem"),
            Some(Role::MunicipalStaff)
        );
        assert_eq!(s.roles.role_of("zvh"), Some(Role::Procesregisseur));
        assert_eq!(
            s.roles.role_of("municipal_staff"),
            None,
            "only the table counts"
        );
        for bad in [
            "nazorg",
            "nazorg=admin",
            "=municipal_staff",
            ";",
            "a=rcn_coordinator;a=procesregisseur",
        ] {
            let e = error_of(&with(&[("RCN_OIDC_ROLE_MAP", bad)]));
            assert!(
                e.starts_with("RCN_OIDC_ROLE_MAP is invalid: "),
                "{bad}: {e}"
            );
        }
        let e = error_of(&with(&[("RCN_OIDC_ROLE_CLAIM", "my role")]));
        assert!(e.starts_with("RCN_OIDC_ROLE_CLAIM is invalid"), "{e}");
    }
}
