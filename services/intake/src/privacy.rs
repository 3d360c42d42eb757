//! `privacy_export`: the privacy officer asks intake what it holds about one person (AVG art. 15,
//! issue 16): the receipt of every notice about the person intake accepted, with what became of
//! it as far as intake heard. Intake keeps no notice content, so that is all it holds.
//!
//! Found through the person pseudonym (computed from the BSN in the request body with the
//! region's key), never the BSN. Only a privacy officer may ask; anyone else is refused before
//! anything is read or logged. The question (who, when, why, the pseudonym) is logged in
//! `privacy_questions` in the same transaction as the answer is read.
//!
//! `privacy_accesses` ([`who_saw`]) is the privacy officer's "who saw this person": intake shows
//! no notice to any person (a partner gets only its own receipt back), so its part is the privacy
//! questions asked of it about the person, this one included.

use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::RoutingOutcomeKind;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{AccessEntry, MAX_ENTRIES, WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::privacy_export::{EXPORT_VERB, ExportRequest, IntakeExport, NoticeReceipt};
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{Bsn, Gemeentecode, NoticeKind};
use sqlx::PgPool;

fn db(e: sqlx::Error) -> ApiProblem {
    tracing::warn!(error = %e, "intake privacy export failed");
    ApiProblem::unavailable("intake cannot read its receipts now; ask again")
}

/// Only the privacy officer makes an export.
pub fn require_privacy_officer(who: &Identity) -> Result<(), ApiProblem> {
    if who.role == Role::PrivacyOfficer {
        Ok(())
    } else {
        Err(ApiProblem::forbidden(
            "only the privacy officer may export what rcn holds about a person",
        ))
    }
}

/// `privacy_export`: the person's receipts, oldest first, the question logged.
pub async fn export(
    pool: &PgPool,
    key: &PseudonymKey,
    who: &Identity,
    request: &ExportRequest,
) -> Result<IntakeExport, ApiProblem> {
    require_privacy_officer(who)?;
    let person_key = key.person_key(&request.bsn);
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query!(
        "INSERT INTO privacy_questions (user_id, role, gemeentecode, person_key, question, why)
         VALUES ($1, $2, $3, $4, $5, $6)",
        who.user_id,
        who.role as Role,
        who.gemeentecode.as_ref().map(|g| g.as_str()),
        person_key,
        EXPORT_VERB,
        request.why,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let rows = sqlx::query!(
        r#"SELECT r.notice_key, r.notice_id, r.institution_code, r.kind AS "kind: NoticeKind",
                  r.received_at, r.release_on,
                  o.outcome AS "outcome?: RoutingOutcomeKind", o.gemeentecode AS "gemeentecode?"
           FROM receipts r LEFT JOIN notice_outcomes o ON o.notice_key = r.notice_key
           WHERE r.person_key = $1
           ORDER BY r.received_at, r.notice_key"#,
        person_key,
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let notices = rows
        .into_iter()
        .map(|r| {
            let gemeentecode = match r.gemeentecode {
                Some(g) => Some(Gemeentecode::parse(&g).map_err(|_| {
                    tracing::error!("a routing outcome holds a code intake does not know");
                    ApiProblem::unavailable("intake cannot read its receipts now")
                })?),
                None => None,
            };
            Ok(NoticeReceipt {
                notice_key: r.notice_key,
                notice_id: r.notice_id,
                institution_code: r.institution_code,
                kind: r.kind,
                received_at: r.received_at,
                release_on: r.release_on,
                outcome: r.outcome,
                gemeentecode,
            })
        })
        .collect::<Result<Vec<_>, ApiProblem>>()?;
    Ok(IntakeExport { notices })
}

/// The service name in every entry intake returns.
pub const SERVICE: &str = "intake";

/// `privacy_accesses`: every privacy question asked of intake about the person (exports with
/// their reason, earlier "who saw" questions), oldest first, at most [`MAX_ENTRIES`]; this
/// question is logged in the same transaction, so it is the last entry.
pub async fn who_saw(
    pool: &PgPool,
    key: &PseudonymKey,
    who: &Identity,
    bsn: &Bsn,
) -> Result<WhoSawReply, ApiProblem> {
    if who.role != Role::PrivacyOfficer {
        return Err(ApiProblem::forbidden(
            "only the privacy officer may ask who saw a person",
        ));
    }
    let person_key = key.person_key(bsn);
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query!(
        "INSERT INTO privacy_questions (user_id, role, gemeentecode, person_key, question)
         VALUES ($1, $2, $3, $4, $5)",
        who.user_id,
        who.role as Role,
        who.gemeentecode.as_ref().map(|g| g.as_str()),
        person_key,
        WHO_SAW_VERB,
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let rows = sqlx::query!(
        r#"SELECT at, user_id, role AS "role: Role", gemeentecode AS "gemeentecode: Gemeentecode",
                  question, why
           FROM privacy_questions WHERE person_key = $1
           ORDER BY at, id LIMIT $2"#,
        person_key,
        (MAX_ENTRIES + 1) as i64,
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let mut entries: Vec<AccessEntry> = rows
        .into_iter()
        .map(|r| AccessEntry {
            at: r.at,
            service: SERVICE.into(),
            user_id: r.user_id,
            role: r.role,
            gemeentecode: r.gemeentecode,
            what: r.question,
            why: r.why,
            case_id: None,
            application_id: None,
            ico_id: None,
        })
        .collect();
    let truncated = entries.len() > MAX_ENTRIES;
    entries.truncate(MAX_ENTRIES);
    Ok(WhoSawReply {
        service: SERVICE.into(),
        entries,
        truncated,
    })
}
