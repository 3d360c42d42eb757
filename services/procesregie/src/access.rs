//! Who may see and do what in procesregie, checked here whatever the gateway decided, and the
//! append-only log of every read of personal data.
//!
//! Procesregisseurs and the RCN see every application, suggestion and ICO of the region;
//! municipal staff their own municipality's and the applications they made themselves. A caller
//! who may not see something gets the same `not found` as for something that does not exist.

use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::{Identity, Role};
use sqlx::PgConnection;
use uuid::Uuid;

/// A database failure, as a caller hears it: never the database's own words.
pub fn db(e: sqlx::Error) -> ApiProblem {
    tracing::warn!(error = %e, "procesregie database call failed");
    ApiProblem::unavailable(
        "procesregie cannot reach its records now; nothing was changed, ask again",
    )
}

/// The RCN and procesregisseurs see the whole region.
pub fn sees_region(who: &Identity) -> bool {
    matches!(who.role, Role::RcnCoordinator | Role::Procesregisseur)
}

/// Whether `who` may see a record of municipality `gemeente` made by `applicant`.
pub fn may_see(who: &Identity, gemeente: Option<&str>, applicant: Option<&str>) -> bool {
    sees_region(who)
        || applicant == Some(who.user_id.as_str())
        || (who.role == Role::MunicipalStaff
            && gemeente.is_some()
            && who.gemeentecode.as_ref().map(|g| g.as_str()) == gemeente)
}

/// The same answer for "does not exist" and "not yours".
pub fn not_found(what: &str) -> ApiProblem {
    ApiProblem::not_found(format!("there is no {what} with this id that you may see"))
}

/// Only procesregisseurs record triage outcomes and run ICOs.
pub fn require_regisseur(who: &Identity) -> Result<(), ApiProblem> {
    if who.role == Role::Procesregisseur {
        Ok(())
    } else {
        Err(ApiProblem::forbidden(
            "only a procesregisseur records triage outcomes and changes an ICO",
        ))
    }
}

/// What a read was about.
#[derive(Debug, Default, Clone, Copy)]
pub struct Read {
    pub application_id: Option<Uuid>,
    pub ico_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
}

/// The reason a read request gave, by the one rule of every read
/// ([`rcn_contracts::access_log::read_why`]): trimmed, none when blank; refused (`400`, the
/// problem at `why`, nothing read) when too long or not one line.
pub fn read_why(raw: Option<&str>) -> Result<Option<&str>, ApiProblem> {
    rcn_contracts::access_log::read_why(raw).map_err(|p| ApiProblem::invalid(vec![p]))
}

/// Records that `who` read `what` of each record, in the caller's transaction: a read that
/// cannot be logged does not happen. Each row keeps the person pseudonym of what was read.
pub async fn log_reads(
    conn: &mut PgConnection,
    who: &Identity,
    what: &str,
    reads: &[Read],
) -> Result<(), ApiProblem> {
    log_reads_why(conn, who, what, reads, None).await
}

/// [`log_reads`], with the reason the reader gave (checked by [`read_why`]), in one statement
/// for every record read.
pub async fn log_reads_why(
    conn: &mut PgConnection,
    who: &Identity,
    what: &str,
    reads: &[Read],
    why: Option<&str>,
) -> Result<(), ApiProblem> {
    if reads.is_empty() {
        return Ok(());
    }
    let applications: Vec<Option<Uuid>> = reads.iter().map(|r| r.application_id).collect();
    let icos: Vec<Option<Uuid>> = reads.iter().map(|r| r.ico_id).collect();
    let cases: Vec<Option<Uuid>> = reads.iter().map(|r| r.case_id).collect();
    // Each row carries the person pseudonym of what was read (the application's, else that of
    // the case as procesregie watches it), so "who saw this person" still finds it after
    // retention has deleted the ICO and its application (the log outlives them). Left joins: a
    // read is logged even when nobody is known yet (then without a pseudonym), never dropped.
    sqlx::query!(
        "INSERT INTO access_log (user_id, role, gemeentecode, application_id, ico_id, case_id, what,
                                 person_key, why)
         SELECT $1, $2, $3, r.a, r.i, r.c, $7, COALESCE(ap.person_key, w.person_key), $8
         FROM unnest($4::uuid[], $5::uuid[], $6::uuid[]) AS r(a, i, c)
         LEFT JOIN icos ico ON ico.ico_id = r.i
         LEFT JOIN applications ap ON ap.application_id = COALESCE(r.a, ico.application_id)
         LEFT JOIN watched_cases w ON w.case_id = COALESCE(r.c, ap.case_id)",
        &who.user_id,
        who.role as Role,
        who.gemeentecode.as_ref().map(|g| g.as_str()),
        &applications as &[Option<Uuid>],
        &icos as &[Option<Uuid>],
        &cases as &[Option<Uuid>],
        what,
        why,
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcn_contracts::Gemeentecode;

    fn who(role: Role, gm: Option<&str>) -> Identity {
        Identity {
            user_id: "u1".into(),
            role,
            gemeentecode: gm.map(|g| Gemeentecode::parse(g).unwrap()),
        }
    }

    #[test]
    fn staff_see_their_municipality_and_their_own_applications_the_region_sees_all() {
        let anna = who(Role::MunicipalStaff, Some("GM0392"));
        assert!(may_see(&anna, Some("GM0392"), Some("someone")));
        assert!(!may_see(&anna, Some("GM0453"), Some("someone")));
        assert!(
            may_see(&anna, Some("GM0453"), Some("u1")),
            "her own application"
        );
        assert!(!may_see(&anna, None, None));
        for role in [Role::RcnCoordinator, Role::Procesregisseur] {
            assert!(may_see(&who(role, None), Some("GM0453"), None));
        }
    }
}
