//! `privacy_accesses`: the privacy officer asks procesregie "who saw this person" (issue 16).
//!
//! Procesregie answers for its own access log only: every logged read of the person's
//! applications, of the ICOs made from them and of their cases as procesregie watches them (all
//! found through the person pseudonym each access-log row carries, never the BSN, so also the
//! reads of applications and ICOs retention has since deleted), and every earlier privacy
//! question about them. Only a privacy officer may ask; the question is logged in the same
//! transaction as the answer is read.
//!
//! The queries are checked at compile time against procesregie's own schema (`.ci/sqlx-prepare`
//! gives each service crate its own search path, so `access_log` is procesregie's, not
//! casework's table of the same name).

use chrono::{DateTime, Utc};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{AccessEntry, MAX_ENTRIES, WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::{Bsn, Gemeentecode};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Procesregie;
use crate::access::db;

/// The service name in every entry procesregie returns.
pub const SERVICE: &str = "procesregie";

/// Only the privacy officer asks who saw a person.
pub fn require_privacy_officer(who: &Identity) -> Result<(), ApiProblem> {
    if who.role == Role::PrivacyOfficer {
        Ok(())
    } else {
        Err(ApiProblem::forbidden(
            "only the privacy officer may ask who saw a person",
        ))
    }
}

/// Records that `who` asked `question` about the person `person_key`.
pub async fn log_question(
    conn: &mut PgConnection,
    who: &Identity,
    person_key: &str,
    question: &str,
) -> Result<(), ApiProblem> {
    sqlx::query!(
        "INSERT INTO privacy_questions (user_id, role, gemeentecode, person_key, question)
         VALUES ($1, $2, $3, $4, $5)",
        &who.user_id,
        who.role.as_str(),
        who.gemeentecode.as_ref().map(|g| g.as_str()),
        person_key,
        question,
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// One line of the answer as the database gives it.
struct Row {
    at: DateTime<Utc>,
    user_id: String,
    role: String,
    gemeentecode: Option<String>,
    what: String,
    why: Option<String>,
    case_id: Option<Uuid>,
    application_id: Option<Uuid>,
    ico_id: Option<Uuid>,
}

impl Procesregie {
    /// The person pseudonym of `bsn`; without the region's key procesregie cannot find a person.
    pub(crate) fn person_key_of(&self, bsn: &Bsn) -> Result<String, ApiProblem> {
        self.pseudonyms
            .as_ref()
            .map(|k| k.person_key(bsn))
            .ok_or_else(|| {
                ApiProblem::unavailable(
                    "procesregie has no pseudonym key configured, so it cannot find a person",
                )
            })
    }

    /// `privacy_accesses`: every logged read about the person and every privacy question about
    /// them, oldest first, at most [`MAX_ENTRIES`].
    pub async fn who_saw(&self, who: &Identity, bsn: &Bsn) -> Result<WhoSawReply, ApiProblem> {
        require_privacy_officer(who)?;
        let person_key = self.person_key_of(bsn)?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        log_question(&mut tx, who, &person_key, WHO_SAW_VERB).await?;
        let mut entries = entries(&mut tx, &person_key).await?;
        tx.commit().await.map_err(db)?;
        let truncated = entries.len() > MAX_ENTRIES;
        entries.truncate(MAX_ENTRIES);
        Ok(WhoSawReply {
            service: SERVICE.into(),
            entries,
            truncated,
        })
    }
}

/// The log entries about person `person_key`, oldest first, one more than [`MAX_ENTRIES`] at most.
pub async fn entries(
    conn: &mut PgConnection,
    person_key: &str,
) -> Result<Vec<AccessEntry>, ApiProblem> {
    // The person's reads by the pseudonym each row carries (access_log_person): these stay
    // findable after retention has deleted the application and ICO they were about. Rows
    // written before procesregie knew whom a record was about (an application without a BSN
    // yet, a case whose pseudonym came with a later event, rows older than migration 0007 whose
    // records were gone) carry none; while the record is there they are found through it, as
    // they were before the rows carried the pseudonym. Then the person's questions.
    let rows: Vec<Row> = sqlx::query_as!(
        Row,
        r#"WITH apps AS (SELECT application_id, case_id FROM applications WHERE person_key = $1),
              person_cases AS (
                  SELECT case_id FROM watched_cases WHERE person_key = $1
                  UNION SELECT case_id FROM apps WHERE case_id IS NOT NULL),
              person_icos AS (SELECT i.ico_id FROM icos i JOIN apps USING (application_id)),
              reads AS (
                  SELECT a.* FROM access_log a WHERE a.person_key = $1
                  UNION ALL (
                  SELECT a.* FROM access_log a WHERE a.person_key IS NULL
                     AND a.application_id IN (SELECT application_id FROM apps)
                  UNION
                  SELECT a.* FROM access_log a WHERE a.person_key IS NULL
                     AND a.ico_id IN (SELECT ico_id FROM person_icos)
                  UNION
                  SELECT a.* FROM access_log a WHERE a.person_key IS NULL
                     AND a.case_id IN (SELECT case_id FROM person_cases)))
         SELECT at AS "at!", user_id AS "user_id!", role AS "role!", gemeentecode,
                what AS "what!", why, case_id, application_id, ico_id FROM reads
         UNION ALL
         SELECT at, user_id, role, gemeentecode, question, why, NULL, NULL, NULL
         FROM privacy_questions WHERE person_key = $1
         ORDER BY 1, 5
         LIMIT $2"#,
        person_key,
        (MAX_ENTRIES + 1) as i64,
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    rows.into_iter().map(entry).collect()
}

fn entry(row: Row) -> Result<AccessEntry, ApiProblem> {
    let Row {
        at,
        user_id,
        role,
        gemeentecode,
        what,
        why,
        case_id,
        application_id,
        ico_id,
    } = row;
    let unreadable = || {
        tracing::error!("procesregie's access log holds a word it does not know");
        ApiProblem::unavailable("procesregie cannot read its access log now")
    };
    Ok(AccessEntry {
        at,
        service: SERVICE.into(),
        user_id,
        role: Role::parse(&role).ok_or_else(unreadable)?,
        gemeentecode: match gemeentecode {
            Some(g) => Some(Gemeentecode::parse(&g).map_err(|_| unreadable())?),
            None => None,
        },
        what,
        why,
        case_id,
        application_id,
        ico_id,
    })
}
