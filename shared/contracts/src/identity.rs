//! Who is asking: the identity the gateway authenticated, carried in the `Rcn-Identity` header of
//! every NATS request. The owning service authorises again with it; it never trusts a request
//! body to say who someone is or which municipality they work for.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::value::{Gemeentecode, InvalidValue};

/// What a person does in rcn, which decides what they may see and change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Nazorgcoördinator of one municipality: works that municipality's cases, and nobody else's.
    MunicipalStaff,
    /// Coordinator of the Regionaal Coördinatiepunt Nazorg: sees the whole region.
    RcnCoordinator,
    /// Procesregisseur of the Zorg- en Veiligheidshuis: sees the whole region for triage and ICO.
    Procesregisseur,
    /// Privacy officer (functionaris gegevensbescherming): answers "who saw this person" from the
    /// access logs. Sees and works no case in casework.
    PrivacyOfficer,
    /// Administrator of rcn itself (accounts, partner tokens). Sees and works no case in casework.
    Administrator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::MunicipalStaff => "municipal_staff",
            Role::RcnCoordinator => "rcn_coordinator",
            Role::Procesregisseur => "procesregisseur",
            Role::PrivacyOfficer => "privacy_officer",
            Role::Administrator => "administrator",
        }
    }

    /// Every role, in the order a person picks one.
    pub const ALL: [Role; 5] = [
        Role::MunicipalStaff,
        Role::RcnCoordinator,
        Role::Procesregisseur,
        Role::PrivacyOfficer,
        Role::Administrator,
    ];

    /// The role named `s` (its `as_str`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The caller of a request, as the gateway authenticated them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The person's account id (from the identity provider); shown to colleagues as the holder of
    /// a task.
    pub user_id: String,
    pub role: Role,
    /// The municipality the person works for; required for municipal staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemeentecode: Option<Gemeentecode>,
}

/// The longest user id accepted.
pub const MAX_USER_ID: usize = 200;

impl Identity {
    /// Parses and checks the header value: JSON, a plausible user id, and a municipality for
    /// municipal staff.
    pub fn from_header(value: &str) -> Result<Self, InvalidValue> {
        let identity: Identity = serde_json::from_str(value)
            .map_err(|_| InvalidValue("the identity header is not a valid identity".into()))?;
        identity.check()?;
        Ok(identity)
    }

    pub fn check(&self) -> Result<(), InvalidValue> {
        check_user_id(&self.user_id)?;
        if self.role == Role::MunicipalStaff && self.gemeentecode.is_none() {
            return Err(InvalidValue(
                "municipal staff must carry the gemeentecode of their municipality".into(),
            ));
        }
        Ok(())
    }

    /// The header value for this identity.
    pub fn to_header(&self) -> String {
        serde_json::to_string(self).expect("an identity serialises")
    }

    /// Whether this person may see the cases of municipality `gemeente`.
    pub fn may_see(&self, gemeente: &Gemeentecode) -> bool {
        match self.role {
            Role::MunicipalStaff => self.gemeentecode.as_ref() == Some(gemeente),
            Role::RcnCoordinator | Role::Procesregisseur => true,
            // Their own pages come with their own issues; until then no case is theirs to see.
            Role::PrivacyOfficer | Role::Administrator => false,
        }
    }

    /// Whether this person may claim and work the tasks of municipality `gemeente`: only its own
    /// staff do aftercare work.
    pub fn may_work(&self, gemeente: &Gemeentecode) -> bool {
        self.role == Role::MunicipalStaff && self.gemeentecode.as_ref() == Some(gemeente)
    }
}

/// A user id: 1 to [`MAX_USER_ID`] printable characters without spaces at either end.
pub fn check_user_id(user_id: &str) -> Result<(), InvalidValue> {
    let ok = !user_id.is_empty()
        && user_id.len() <= MAX_USER_ID
        && user_id.trim() == user_id
        && !user_id.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(InvalidValue(format!(
            "a user id has 1 to {MAX_USER_ID} characters, without leading or trailing spaces"
        )))
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Identity({} {} {:?})",
            self.user_id,
            self.role.as_str(),
            self.gemeentecode
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_header_parses() {
        let id = Identity::from_header(
            r#"{"user_id":"anna@haarlem.nl","role":"municipal_staff","gemeentecode":"GM0392"}"#,
        )
        .unwrap();
        assert_eq!(id.role, Role::MunicipalStaff);
        assert_eq!(Identity::from_header(&id.to_header()).unwrap(), id);
        let haarlem = Gemeentecode::parse("GM0392").unwrap();
        let velsen = Gemeentecode::parse("GM0453").unwrap();
        assert!(id.may_see(&haarlem) && id.may_work(&haarlem));
        assert!(!id.may_see(&velsen) && !id.may_work(&velsen));
    }

    #[test]
    fn the_rcn_sees_everything_but_works_nothing() {
        let rcn = Identity::from_header(r#"{"user_id":"rcn-1","role":"rcn_coordinator"}"#).unwrap();
        let velsen = Gemeentecode::parse("GM0453").unwrap();
        assert!(rcn.may_see(&velsen));
        assert!(!rcn.may_work(&velsen));
    }

    #[test]
    fn the_privacy_officer_and_the_administrator_see_no_case() {
        let velsen = Gemeentecode::parse("GM0453").unwrap();
        for role in [Role::PrivacyOfficer, Role::Administrator] {
            let who = Identity {
                user_id: "x".into(),
                role,
                gemeentecode: Some(velsen.clone()),
            };
            assert!(!who.may_see(&velsen) && !who.may_work(&velsen), "{role:?}");
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn incomplete_identities_are_refused() {
        assert!(Identity::from_header(r#"{"user_id":"anna","role":"municipal_staff"}"#).is_err());
        assert!(Identity::from_header(r#"{"user_id":"","role":"rcn_coordinator"}"#).is_err());
        assert!(Identity::from_header(r#"{"user_id":"x","role":"admin"}"#).is_err());
        assert!(Identity::from_header("not json").is_err());
        assert!(check_user_id(" anna").is_err());
    }
}
