//! `privacy_export`: the privacy officer asks the router what it holds about one person (AVG
//! art. 15, issue 16): every routing decision about the person's notices, with the decision by
//! hand and the forward to another region where there was one.
//!
//! Found through the person pseudonym (computed here from the BSN in the request body with the
//! region's key), never the BSN. Only a privacy officer may ask; anyone else is refused before
//! anything is read or logged. The question (who, when, why, the pseudonym) is logged in
//! `privacy_questions` in the same transaction as the answer is read: no answer without its log.
//!
//! `privacy_accesses` ([`Privacy::who_saw`]) is the privacy officer's "who saw this person": the
//! router's access log (`crate::access`: routing decisions read on the case page, manual-queue
//! entries shown, decisions by hand) and the privacy questions about the person, this one
//! included, found the same way and logged the same way.

use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::{RoutingOutcomeKind, RoutingRule};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{AccessEntry, MAX_ENTRIES, WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::privacy_export::{
    EXPORT_VERB, ExportRequest, ForwardRecord, ManualDecisionRecord, RouterExport,
    RoutingDecisionRecord,
};
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{Bsn, Gemeentecode};
use sqlx::PgPool;

/// What the export needs: the router's pool and the region's pseudonym key.
pub struct Privacy {
    pub pool: PgPool,
    /// Without it the router cannot find a person, and says so.
    pub pseudonyms: Option<PseudonymKey>,
}

fn db(e: sqlx::Error) -> ApiProblem {
    tracing::warn!(error = %e, "router privacy export failed");
    ApiProblem::unavailable("the router cannot read its decisions now; ask again")
}

fn unreadable() -> ApiProblem {
    tracing::error!("a routing decision holds a word the router does not know");
    ApiProblem::unavailable("the router cannot read its decisions now")
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

/// The service name in every entry the router returns.
pub const SERVICE: &str = "router";

impl Privacy {
    /// The person pseudonym of `bsn`; without the region's key the router cannot find anyone.
    fn person_key(&self, bsn: &Bsn) -> Result<String, ApiProblem> {
        let key = self.pseudonyms.as_ref().ok_or_else(|| {
            ApiProblem::unavailable(
                "the router has no pseudonym key configured, so it cannot find a person",
            )
        })?;
        Ok(key.person_key(bsn))
    }

    /// `privacy_accesses`: every logged read or change of the person's routing data and every
    /// privacy question about them, oldest first, at most [`MAX_ENTRIES`]; this question is
    /// logged in the same transaction.
    pub async fn who_saw(&self, who: &Identity, bsn: &Bsn) -> Result<WhoSawReply, ApiProblem> {
        if who.role != Role::PrivacyOfficer {
            return Err(ApiProblem::forbidden(
                "only the privacy officer may ask who saw a person",
            ));
        }
        let person_key = self.person_key(bsn)?;
        let mut tx = self.pool.begin().await.map_err(db)?;
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
        // Two index walks: access_log_person and privacy_questions_person.
        let rows = sqlx::query!(
            r#"SELECT at AS "at!", user_id AS "user_id!", role AS "role!: Role",
                      gemeentecode AS "gemeentecode: Gemeentecode", what AS "what!", why
               FROM (
                   SELECT a.at, a.user_id, a.role, a.gemeentecode, a.what, a.why
                   FROM access_log a WHERE a.person_key = $1
                   UNION ALL
                   SELECT q.at, q.user_id, q.role, q.gemeentecode, q.question, q.why
                   FROM privacy_questions q WHERE q.person_key = $1
               ) e
               ORDER BY at, what
               LIMIT $2"#,
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
                what: r.what,
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

    /// `privacy_export`: the decisions about the person, oldest first, the question logged.
    pub async fn export(
        &self,
        who: &Identity,
        request: &ExportRequest,
    ) -> Result<RouterExport, ApiProblem> {
        require_privacy_officer(who)?;
        let person_key = self.person_key(&request.bsn)?;
        let mut tx = self.pool.begin().await.map_err(db)?;
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
            r#"SELECT d.notice_key, d.outcome AS "outcome: RoutingOutcomeKind", d.gemeentecode,
                      d.rule AS "rule: RoutingRule", d.reason, d.ambiguous, d.inputs, d.decided_at,
                      d.received_at,
                      m.outcome AS "m_outcome?: RoutingOutcomeKind", m.gemeentecode AS "m_gemeentecode?",
                      m.decided_by AS "m_decided_by?", m.why AS "m_why?", m.decided_at AS "m_decided_at?",
                      f.target_region AS "f_target_region?", f.gemeentecode AS "f_gemeentecode?",
                      f.forwarded_at AS "f_forwarded_at?", f.acknowledged_at AS "f_acknowledged_at?"
               FROM decisions d
               LEFT JOIN manual_decisions m ON m.notice_key = d.notice_key
               LEFT JOIN forwards f ON f.notice_key = d.notice_key
               WHERE d.person_key = $1
               ORDER BY d.received_at, d.notice_key"#,
            person_key,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let code = |g: Option<String>| -> Result<Option<Gemeentecode>, ApiProblem> {
            g.map(|g| Gemeentecode::parse(&g).map_err(|_| unreadable()))
                .transpose()
        };
        let mut decisions = Vec::with_capacity(rows.len());
        for r in rows {
            let manual = match (r.m_outcome, code(r.m_gemeentecode)?, r.m_decided_by) {
                (Some(outcome), Some(gemeentecode), Some(decided_by)) => {
                    Some(ManualDecisionRecord {
                        outcome,
                        gemeentecode,
                        decided_by,
                        why: r.m_why.unwrap_or_default(),
                        decided_at: r.m_decided_at.ok_or_else(unreadable)?,
                    })
                }
                _ => None,
            };
            let forward = match (r.f_target_region, code(r.f_gemeentecode)?, r.f_forwarded_at) {
                (Some(target_region), Some(gemeentecode), Some(forwarded_at)) => {
                    Some(ForwardRecord {
                        target_region,
                        gemeentecode,
                        forwarded_at,
                        acknowledged_at: r.f_acknowledged_at,
                    })
                }
                _ => None,
            };
            decisions.push(RoutingDecisionRecord {
                notice_key: r.notice_key,
                outcome: r.outcome,
                gemeentecode: code(r.gemeentecode)?,
                rule: r.rule,
                reason: r.reason,
                ambiguous: r.ambiguous,
                inputs: r.inputs,
                decided_at: r.decided_at,
                received_at: r.received_at,
                manual,
                forward,
            });
        }
        Ok(RouterExport { decisions })
    }
}
