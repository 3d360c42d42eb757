//! `privacy_export`: the privacy officer asks intake what it holds about one person (AVG art. 15,
//! issue 16): the receipt of every notice about the person intake accepted, with what became of
//! it as far as intake heard. Intake keeps no notice content, so that is all it holds.
//!
//! Found through the person pseudonym (computed from the BSN in the request body with the
//! region's key), never the BSN. Only a privacy officer may ask; anyone else is refused before
//! anything is read or logged. The question (who, when, why, the pseudonym) is logged in
//! `privacy_questions` in the same transaction as the answer is read.

use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::RoutingOutcomeKind;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_export::{EXPORT_VERB, ExportRequest, IntakeExport, NoticeReceipt};
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{Gemeentecode, NoticeKind};
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
