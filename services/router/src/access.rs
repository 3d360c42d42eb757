//! The router's access log (`access_log`, append-only, migration 0006): every read of a person's
//! routing data that a person made — the case page's routing decisions, the manual queue's
//! entries — and every decision by hand, with who, role, organisation, when, what (the shared
//! vocabulary, `rcn_contracts::access_log`), why and which notices, found by the person
//! pseudonym. Written in the transaction that reads (or changes), so nothing is answered without
//! its record; the privacy officer's "who saw this person" reads it back (`privacy.rs`).
//!
//! It must never write a BSN or a name: only the pseudonym and notice keys.

use std::collections::BTreeMap;

use rcn_contracts::access_log::What;
use rcn_contracts::identity::{Identity, Role};
use sqlx::PgConnection;

/// The notices shown per person: person pseudonym → notice keys, in the order shown. A decision
/// from before the router kept pseudonyms (migration 0005) has none and cannot be found by
/// person, so it is not listed (it expires with retention).
#[derive(Debug, Default)]
pub struct Shown(BTreeMap<String, Vec<String>>);

impl Shown {
    pub fn add(&mut self, person_key: Option<String>, notice_key: &str) {
        if let Some(person) = person_key {
            self.0
                .entry(person)
                .or_default()
                .push(notice_key.to_owned());
        }
    }
}

/// Logs that `who` was shown (or changed) `what` of every person in `shown`, for `why`: one row
/// per person, all in one statement (the manual queue lists up to 500 notices; a round trip per
/// person would hold the coordinator's page up for each).
pub async fn log(
    conn: &mut PgConnection,
    who: &Identity,
    what: &What,
    why: Option<&str>,
    shown: &Shown,
) -> Result<(), sqlx::Error> {
    if shown.0.is_empty() {
        return Ok(());
    }
    // Flattened to (person, notice) pairs in the order shown, grouped back into one row per
    // person: PostgreSQL has no array of arrays of different lengths to pass them as.
    let (persons, notices): (Vec<&str>, Vec<&str>) = shown
        .0
        .iter()
        .flat_map(|(person, notices)| notices.iter().map(move |n| (person.as_str(), n.as_str())))
        .unzip();
    sqlx::query!(
        "INSERT INTO access_log (user_id, role, gemeentecode, person_key, what, why, notice_keys)
         SELECT $1, $2, $3, s.person_key, $4, $5, array_agg(s.notice_key ORDER BY s.n)
         FROM unnest($6::text[], $7::text[]) WITH ORDINALITY AS s(person_key, notice_key, n)
         GROUP BY s.person_key
         ORDER BY min(s.n)",
        who.user_id,
        who.role as Role,
        who.gemeentecode.as_ref().map(|g| g.as_str()),
        what.to_log(),
        why,
        &persons as &[&str],
        &notices as &[&str],
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
