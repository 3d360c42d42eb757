//! From the provider's verified claims to who someone is in rcn: user id, role, municipality and
//! the name the portal shows. A claim that is missing or unknown means no access, with the reason
//! in Dutch for the page that says so; nothing is guessed.

use std::fmt;

use rcn_contracts::identity::{Identity, Role, check_user_id};
use rcn_contracts::municipality::MunicipalityList;
use rcn_contracts::value::Gemeentecode;
use serde_json::{Map, Value};

use super::settings::{ClaimNames, RoleTable};

/// Who signed in: the identity the gateway passes to the services, and how the portal greets them.
#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    pub identity: Identity,
    /// From the name claim; the user id when the provider gives no name.
    pub display_name: String,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Person({:?})", self.identity)
    }
}

/// Why someone who did sign in at the provider gets no access to rcn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoAccess {
    #[error("the {claim:?} claim (the user id) is missing or not a usable id")]
    NoUserId { claim: String },
    #[error("the {claim:?} claim (the role) is missing")]
    NoRole { claim: String },
    #[error("the role claim {values:?} names no role of rcn")]
    UnknownRole { values: Vec<String> },
    #[error("the role claim gives several roles: {roles:?}")]
    SeveralRoles { roles: Vec<Role> },
    #[error("the {claim:?} claim (the municipality) is missing for role {role:?}")]
    NoGemeentecode { claim: String, role: Role },
    #[error("the {claim:?} claim {value:?} is not a current municipality")]
    UnknownGemeentecode { claim: String, value: String },
    /// The identity breaks a rule of the contracts (for a role added there).
    #[error("the identity is incomplete: {0}")]
    Incomplete(String),
}

impl NoAccess {
    /// The reason, in Dutch, for the "geen toegang" page.
    pub fn reason_nl(&self) -> String {
        match self {
            NoAccess::NoUserId { claim } => format!(
                "Uw inlogdienst geeft geen bruikbare gebruikersnaam door (gegeven \u{201c}{claim}\u{201d}). Vraag uw beheerder om dit te herstellen."
            ),
            NoAccess::NoRole { claim } => format!(
                "Uw account heeft geen rol voor rcn (gegeven \u{201c}{claim}\u{201d} ontbreekt). Vraag uw beheerder om u een rol te geven."
            ),
            NoAccess::UnknownRole { values } => format!(
                "Uw rol ({}) geeft geen toegang tot rcn. Vraag uw beheerder om u een rol voor rcn te geven.",
                values.join(", ")
            ),
            NoAccess::SeveralRoles { .. } => "Uw account heeft meer dan één rol voor rcn. Vraag uw beheerder om u er één te geven.".to_owned(),
            NoAccess::NoGemeentecode { claim, .. } => format!(
                "Uw account vermeldt niet voor welke gemeente u werkt (gegeven \u{201c}{claim}\u{201d} ontbreekt). Vraag uw beheerder om dit aan te vullen."
            ),
            NoAccess::UnknownGemeentecode { value, .. } => format!(
                "Uw account vermeldt gemeentecode \u{201c}{value}\u{201d}, maar dat is geen bestaande gemeente. Vraag uw beheerder om dit te herstellen."
            ),
            NoAccess::Incomplete(_) => "Uw account mist gegevens die rcn nodig heeft voor uw rol. Vraag uw beheerder om dit aan te vullen.".to_owned(),
        }
    }
}

/// A claim by name; a name with dots that is not itself a claim is a path into nested objects
/// (`realm_access.roles`).
fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v).filter(|v| !v.is_null());
    }
    let mut parts = name.split('.');
    let mut at = claims.get(parts.next()?)?;
    for part in parts {
        at = at.as_object()?.get(part)?;
    }
    Some(at).filter(|v| !v.is_null())
}

/// A claim as one string, exactly as sent: a string, or a number (some directories send ids as
/// numbers).
fn claim_str(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claim(claims, name)? {
        Value::String(s) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Maps `claims` (the ID token's, completed by the userinfo endpoint's) to a person.
pub fn person(
    claims: &Map<String, Value>,
    names: &ClaimNames,
    table: &RoleTable,
) -> Result<Person, NoAccess> {
    let user_id = claim_str(claims, &names.user_id)
        .filter(|id| check_user_id(id).is_ok())
        .ok_or_else(|| NoAccess::NoUserId {
            claim: names.user_id.clone(),
        })?;
    let role = role(claims, names, table)?;
    let gemeentecode = match claim_str(claims, &names.gemeentecode) {
        None => None,
        Some(value) => Some(
            Gemeentecode::parse(&value)
                .ok()
                .filter(|code| MunicipalityList::builtin().current_entry(code).is_some())
                .ok_or_else(|| NoAccess::UnknownGemeentecode {
                    claim: names.gemeentecode.clone(),
                    value: value.chars().take(40).collect(),
                })?,
        ),
    };
    if role == Role::MunicipalStaff && gemeentecode.is_none() {
        return Err(NoAccess::NoGemeentecode {
            claim: names.gemeentecode.clone(),
            role,
        });
    }
    let identity = Identity {
        user_id,
        role,
        gemeentecode,
    };
    identity
        .check()
        .map_err(|e| NoAccess::Incomplete(e.to_string()))?;
    let display_name = claim_str(claims, &names.name)
        .filter(|n| !n.chars().any(char::is_control))
        .map(|n| n.trim().chars().take(200).collect())
        .unwrap_or_else(|| identity.user_id.clone());
    Ok(Person {
        identity,
        display_name,
    })
}

/// The one role the role claim gives; a list (groups) may hold values that are no role of rcn,
/// as long as exactly one role remains.
fn role(
    claims: &Map<String, Value>,
    names: &ClaimNames,
    table: &RoleTable,
) -> Result<Role, NoAccess> {
    let values: Vec<String> = match claim(claims, &names.role) {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.trim().to_owned()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(|s| s.trim().to_owned()))
            .collect(),
        Some(other) => vec![other.to_string()],
    };
    let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return Err(NoAccess::NoRole {
            claim: names.role.clone(),
        });
    }
    let mut roles: Vec<Role> = values.iter().filter_map(|v| table.role_of(v)).collect();
    roles.dedup();
    roles.sort_by_key(|r| r.as_str());
    roles.dedup();
    match roles.as_slice() {
        [one] => Ok(*one),
        [] => Err(NoAccess::UnknownRole {
            // Shown to the person: a few short values, not a directory's whole group list.
            values: values
                .into_iter()
                .take(5)
                .map(|v| v.chars().take(60).collect())
                .collect(),
        }),
        _ => Err(NoAccess::SeveralRoles { roles }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> ClaimNames {
        ClaimNames {
            user_id: "sub".into(),
            name: "name".into(),
            role: "rcn_rol".into(),
            gemeentecode: "gemeentecode".into(),
        }
    }

    fn table() -> RoleTable {
        RoleTable::Table(vec![
            ("nazorg".into(), Role::MunicipalStaff),
            ("rcn".into(), Role::RcnCoordinator),
            ("zvh".into(), Role::Procesregisseur),
        ])
    }

    fn map(claims: Value) -> Result<Person, NoAccess> {
        person(claims.as_object().unwrap(), &names(), &table())
    }

    #[test]
    fn municipal_staff_get_their_role_and_municipality() {
        let p = map(json!({"sub": "anna", "name": "Anna de Vries", "rcn_rol": "nazorg", "gemeentecode": "gm0392"})).unwrap();
        assert_eq!(p.identity.user_id, "anna");
        assert_eq!(p.identity.role, Role::MunicipalStaff);
        assert_eq!(p.identity.gemeentecode.unwrap().as_str(), "GM0392");
        assert_eq!(p.display_name, "Anna de Vries");
    }

    #[test]
    fn a_group_list_may_hold_other_groups_but_one_role() {
        let p = map(json!({"sub": "rita", "rcn_rol": ["everyone", "rcn"]})).unwrap();
        assert_eq!(p.identity.role, Role::RcnCoordinator);
        assert_eq!(p.display_name, "rita", "no name claim: the user id");
        assert_eq!(
            map(json!({"sub": "x", "rcn_rol": ["rcn", "zvh"]})).unwrap_err(),
            NoAccess::SeveralRoles {
                roles: vec![Role::Procesregisseur, Role::RcnCoordinator]
            }
        );
    }

    #[test]
    fn nested_claims_are_found_by_a_dotted_path() {
        let mut n = names();
        n.role = "realm_access.roles".into();
        let claims = json!({"sub": "z", "realm_access": {"roles": ["zvh"]}});
        let p = person(claims.as_object().unwrap(), &n, &table()).unwrap();
        assert_eq!(p.identity.role, Role::Procesregisseur);
    }

    #[test]
    fn a_missing_or_unknown_claim_means_no_access_with_a_dutch_reason() {
        let e = map(json!({"sub": "a"})).unwrap_err();
        assert_eq!(
            e,
            NoAccess::NoRole {
                claim: "rcn_rol".into()
            }
        );
        assert!(
            e.reason_nl().contains("geen rol voor rcn"),
            "{}",
            e.reason_nl()
        );

        let e = map(json!({"sub": "a", "rcn_rol": "beheerder"})).unwrap_err();
        assert_eq!(
            e,
            NoAccess::UnknownRole {
                values: vec!["beheerder".into()]
            }
        );
        assert!(e.reason_nl().contains("(beheerder) geeft geen toegang"));

        let e = map(json!({"sub": "a", "rcn_rol": "nazorg"})).unwrap_err();
        assert!(matches!(e, NoAccess::NoGemeentecode { .. }), "{e:?}");
        assert!(e.reason_nl().contains("voor welke gemeente"));

        for code in ["GM9999", "Haarlem", "GM0392x"] {
            let e =
                map(json!({"sub": "a", "rcn_rol": "nazorg", "gemeentecode": code})).unwrap_err();
            assert!(
                matches!(e, NoAccess::UnknownGemeentecode { .. }),
                "{code}: {e:?}"
            );
        }

        for id in [json!(""), json!(" anna"), json!(null), json!({"x": 1})] {
            let e = map(json!({"sub": id, "rcn_rol": "rcn"})).unwrap_err();
            assert!(matches!(e, NoAccess::NoUserId { .. }), "{id}: {e:?}");
        }
    }

    #[test]
    fn the_coordinator_needs_no_municipality() {
        let p = map(json!({"sub": "rita", "rcn_rol": "rcn"})).unwrap();
        assert_eq!(p.identity.gemeentecode, None);
        assert!(p.identity.check().is_ok());
    }
}
