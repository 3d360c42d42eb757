//! `privacy_export`: the privacy officer asks procesregie what it holds about one person (AVG
//! art. 15, issue 16): every application about the person (made from one of their cases, or for
//! them by name) and every ICO made from those, in full — partners, plan van aanpak with its
//! history, reviews, closure.
//!
//! Found through the person pseudonym (the applications' own, and the cases procesregie watches),
//! never the BSN. Only a privacy officer may ask; anyone else is refused before anything is read
//! or logged. The question (who, when, why, the pseudonym) goes into `privacy_questions`, and each
//! record read into the access log, in the same transaction as the answer is read.
//!
//! The question's insert is assembled at run time, as `privacy::log_question` is.

use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::Identity;
use rcn_contracts::privacy_export::{EXPORT_VERB, ExportRequest, ProcesregieExport};
use uuid::Uuid;

use crate::Procesregie;
use rcn_contracts::access_log::{Read as AccessRead, What};

use crate::access::{self, Read, db};
use crate::applications::{ApplicationRow, select_applications};
use crate::privacy::require_privacy_officer;

impl Procesregie {
    /// `privacy_export`: the person's applications and ICOs, oldest first, the question logged.
    pub async fn export(
        &self,
        who: &Identity,
        request: &ExportRequest,
    ) -> Result<ProcesregieExport, ApiProblem> {
        require_privacy_officer(who)?;
        let person_key = self.person_key_of(&request.bsn)?;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query!(
            "INSERT INTO privacy_questions (user_id, role, gemeentecode, person_key, question, why)
             VALUES ($1, $2, $3, $4, $5, $6)",
            who.user_id,
            who.role.as_str(),
            who.gemeentecode.as_ref().map(|g| g.as_str()),
            person_key,
            EXPORT_VERB,
            request.why,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let rows: Vec<ApplicationRow> = select_applications!(
            "WHERE a.person_key = $1
                OR a.case_id IN (SELECT w.case_id FROM watched_cases w WHERE w.person_key = $1)
             ORDER BY a.created_at, a.application_id",
            person_key
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let reads: Vec<Read> = rows
            .iter()
            .map(|r| Read {
                application_id: Some(r.application_id),
                case_id: r.case_id,
                ico_id: None,
            })
            .collect();
        access::log_reads(
            &mut tx,
            who,
            &What::new(AccessRead::PrivacyExport).to_log(),
            &reads,
        )
        .await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.application_id).collect();
        let icos = self
            .icos_of_applications(&mut tx, who, &ids, AccessRead::PrivacyExport)
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(ProcesregieExport {
            // Every application of the person is in the export itself: no separate
            // "earlier referrals" per application.
            applications: rows.iter().map(|r| r.view(who, Vec::new())).collect(),
            icos,
        })
    }
}
