//! `privacy_accesses`: the privacy officer asks casework "who saw this person" (issue 16).
//!
//! Casework answers for its own access log only: every logged read of any case of the person
//! (found through the person pseudonym each access-log row carries, never the BSN, so also the
//! reads of cases retention has since deleted), and every earlier privacy question about them.
//! Only a privacy officer may ask; the question is written to `privacy_questions` in the same
//! transaction as the answer is read, so a question that cannot be logged is not answered, and
//! the answer already shows it.
//!
//! It must never find a person by BSN in SQL, and never answer anyone else.

use rcn_contracts::casework_api::ErrorCode;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{AccessEntry, MAX_ENTRIES, WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::{Bsn, Gemeentecode};
use sqlx::PgConnection;

use crate::error::{Result, refuse};
use crate::state::Casework;

/// The service name in every entry casework returns.
pub const SERVICE: &str = "casework";

/// Only the privacy officer asks who saw a person.
pub fn require_privacy_officer(who: &Identity) -> Result<()> {
    if who.role == Role::PrivacyOfficer {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::Forbidden,
            "Only the privacy officer may ask who saw a person.",
        ))
    }
}

/// The person pseudonym of `bsn` with the region's key; without the key casework cannot answer.
pub(crate) fn person_key(cw: &Casework, bsn: &Bsn) -> Result<String> {
    match &cw.pseudonyms {
        Some(key) => Ok(key.person_key(bsn)),
        None => Err(refuse(
            ErrorCode::Unavailable,
            "Casework has no pseudonym key configured, so it cannot find a person.",
        )),
    }
}

/// Records that `who` asked `question` about the person `person_key`.
pub async fn log_question(
    conn: &mut PgConnection,
    who: &Identity,
    person_key: &str,
    question: &str,
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO privacy_questions (user_id, role, gemeentecode, person_key, question)
         VALUES ($1, $2, $3, $4, $5)",
        who.user_id,
        who.role as Role,
        &who.gemeentecode as &Option<Gemeentecode>,
        person_key,
        question,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `privacy_accesses`: every read of the person's cases and every privacy question about them,
/// oldest first, at most [`MAX_ENTRIES`].
pub async fn who_saw(cw: &Casework, who: &Identity, bsn: &Bsn) -> Result<WhoSawReply> {
    require_privacy_officer(who)?;
    let person_key = person_key(cw, bsn)?;
    who_saw_person(cw, who, &person_key).await
}

/// [`who_saw`] for the person with pseudonym `person_key`: the question logged, the entries read,
/// in one transaction (what the benchmark measures).
pub async fn who_saw_person(
    cw: &Casework,
    who: &Identity,
    person_key: &str,
) -> Result<WhoSawReply> {
    let mut tx = cw.pool.begin().await?;
    log_question(&mut tx, who, person_key, WHO_SAW_VERB).await?;
    let entries = entries(&mut tx, person_key).await?;
    tx.commit().await?;
    Ok(reply(entries))
}

/// The log entries about person `person_key`, oldest first, one more than [`MAX_ENTRIES`] at most
/// (so the caller knows there were more).
pub async fn entries(conn: &mut PgConnection, person_key: &str) -> Result<Vec<AccessEntry>> {
    // Two index walks: the person's reads by the pseudonym each row carries (access_log_person),
    // and their questions (privacy_questions_person). Not through `cases`: retention deletes a
    // closed case years before the reads of it, and those must still be found.
    let rows = sqlx::query!(
        r#"SELECT at AS "at!", user_id AS "user_id!", role AS "role!: Role",
                  gemeentecode AS "gemeentecode: Gemeentecode", what AS "what!", why, case_id
           FROM (
               SELECT a.at, a.user_id, a.role, a.gemeentecode, a.what, a.why, a.case_id
               FROM access_log a
               WHERE a.person_key = $1
               UNION ALL
               SELECT q.at, q.user_id, q.role, q.gemeentecode, q.question, q.why, NULL
               FROM privacy_questions q WHERE q.person_key = $1
           ) e
           ORDER BY at, what
           LIMIT $2"#,
        person_key,
        (MAX_ENTRIES + 1) as i64,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AccessEntry {
            at: r.at,
            service: SERVICE.into(),
            user_id: r.user_id,
            role: r.role,
            gemeentecode: r.gemeentecode,
            what: r.what,
            why: r.why,
            case_id: r.case_id,
            application_id: None,
            ico_id: None,
        })
        .collect())
}

fn reply(mut entries: Vec<AccessEntry>) -> WhoSawReply {
    let truncated = entries.len() > MAX_ENTRIES;
    entries.truncate(MAX_ENTRIES);
    WhoSawReply {
        service: SERVICE.into(),
        entries,
        truncated,
    }
}
