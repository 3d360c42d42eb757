//! The triage board: a meeting's agenda with its cut-off and the drafts waiting for completion,
//! and the outcome a procesregisseur records for an application. Two procesregisseurs recording
//! at once: the first commit wins, the other is told which outcome was recorded, and nothing of
//! theirs is kept.

use chrono::{Days, NaiveDate, Utc};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::identity::Identity;
use rcn_contracts::notice::Problem;
use rcn_contracts::procesregie_api::{
    AgendaQuery, ApplicationStatus, ApplicationView, MAX_TEXT, Partner, TriageAgenda,
    TriageDecision, TriageOutcome,
};
use rcn_contracts::procesregie_events::{ApplicationTriaged, IcoOpened, ProcesregieEvent};
use rcn_contracts::{Gemeentecode, SCHEMA_VERSION};
use sqlx::types::Json;
use uuid::Uuid;

use crate::Procesregie;
use crate::access::{self, Read, db, not_found};
use crate::applications::{self, ApplicationRow, select_applications};
use rcn_runtime::trace_context::TraceContext;

impl Procesregie {
    /// The agenda of the meeting on `q.meeting_on`, or of the next meeting from today.
    pub async fn agenda(
        &self,
        who: &Identity,
        q: &AgendaQuery,
    ) -> Result<TriageAgenda, ApiProblem> {
        let why = access::read_why(q.why.as_deref())?;
        if !access::sees_region(who) {
            return Err(ApiProblem::forbidden(
                "the triage board is for procesregisseurs and the RCN",
            ));
        }
        let rules = &self.settings.triage;
        let slot = match q.meeting_on {
            Some(day) => rules.slot_meeting_on(day).ok_or_else(|| {
                ApiProblem::invalid(vec![Problem::new(
                    "meeting_on",
                    "there is no triage meeting on this day",
                )])
            })?,
            None => {
                let today = Utc::now()
                    .with_timezone(&chrono_tz::Europe::Amsterdam)
                    .date_naive();
                next_meeting(rules, today)
            }
        };
        let mut tx = self.pool.begin().await.map_err(db)?;
        let on_agenda: Vec<ApplicationRow> = select_applications!(
            "WHERE a.triage_on = $1 AND a.status = ANY($2) ORDER BY a.submitted_at",
            slot.meeting_on,
            &[ApplicationStatus::Submitted, ApplicationStatus::Triaged] as &[ApplicationStatus],
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let drafts: Vec<ApplicationRow> = select_applications!(
            "WHERE a.status = $1 ORDER BY a.created_at LIMIT 500",
            ApplicationStatus::Draft as ApplicationStatus,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let reads: Vec<Read> = on_agenda
            .iter()
            .chain(&drafts)
            .map(|r| Read {
                application_id: Some(r.application_id),
                case_id: r.case_id,
                ico_id: r.ico_id,
            })
            .collect();
        let what =
            rcn_contracts::access_log::What::new(rcn_contracts::access_log::Read::TriageAgenda);
        access::log_reads_why(&mut tx, who, &what.to_log(), &reads, why).await?;
        tx.commit().await.map_err(db)?;
        Ok(TriageAgenda {
            meeting_on: slot.meeting_on,
            cutoff_at: slot.cutoff_at,
            applications: on_agenda.iter().map(ApplicationRow::summary).collect(),
            drafts: drafts.iter().map(ApplicationRow::summary).collect(),
        })
    }

    /// Records the triage's outcome; for outcome `ico` opens the ICO, chaired by the recorder.
    pub async fn decide(
        &self,
        who: &Identity,
        d: &TriageDecision,
        trace: Option<&TraceContext>,
    ) -> Result<ApplicationView, ApiProblem> {
        access::require_regisseur(who)?;
        let mut problems = Vec::new();
        if d.reason.trim().is_empty() {
            problems.push(Problem::new("reason", "give the reason for the outcome"));
        }
        if d.reason.chars().count() > MAX_TEXT {
            problems.push(Problem::new(
                "reason",
                format!("at most {MAX_TEXT} characters"),
            ));
        }
        match &d.advice {
            None if d.outcome == TriageOutcome::Advice => problems.push(Problem::new(
                "advice",
                "the outcome advice needs the advice",
            )),
            Some(a) if a.trim().is_empty() && d.outcome == TriageOutcome::Advice => problems.push(
                Problem::new("advice", "the outcome advice needs the advice"),
            ),
            Some(a) if a.chars().count() > MAX_TEXT => problems.push(Problem::new(
                "advice",
                format!("at most {MAX_TEXT} characters"),
            )),
            _ => {}
        }
        if !problems.is_empty() {
            return Err(ApiProblem::invalid(problems));
        }
        let now = Utc::now();
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Only a submitted application takes an outcome: the second of two concurrent decisions
        // waits for the first's row lock, then finds the status changed and updates nothing.
        let decided = sqlx::query_scalar!(
            "UPDATE applications SET status = $7, outcome = $2, outcome_reason = $3,
                 advice = $4, decided_by = $5, decided_at = $6, updated_at = $6
             WHERE application_id = $1 AND status = $8
             RETURNING application_id",
            d.application_id,
            d.outcome as TriageOutcome,
            d.reason.trim(),
            d.advice.as_deref().map(str::trim),
            &who.user_id,
            now,
            ApplicationStatus::Triaged as ApplicationStatus,
            ApplicationStatus::Submitted as ApplicationStatus,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let row = applications::load(&mut tx, d.application_id, false)
            .await?
            .filter(|r| r.visible_to(who))
            .ok_or_else(|| not_found("application"))?;
        if decided.is_none() {
            return Err(already(&row));
        }
        let ico_id = if d.outcome == TriageOutcome::Ico {
            Some(self.open_ico(&mut tx, who, &row, now, trace).await?)
        } else {
            None
        };
        let event = ApplicationTriaged {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            application_id: row.application_id,
            gemeentecode: row
                .gemeentecode
                .as_deref()
                .and_then(|g| Gemeentecode::parse(g).ok()),
            triage_on: row.triage_on.unwrap_or_else(|| now.date_naive()),
            outcome: d.outcome,
            ico_id,
            submitted_at: row.submitted_at.unwrap_or(now),
            decided_at: now,
        };
        self.announce(
            &mut tx,
            ProcesregieEvent::ApplicationTriaged,
            event.event_id,
            &event,
            trace,
        )
        .await?;
        let view = self
            .read_application(
                &mut tx,
                who,
                d.application_id,
                rcn_contracts::access_log::Read::TriageDecide,
                None,
            )
            .await?;
        tx.commit().await.map_err(db)?;
        tracing::info!(application_id = %d.application_id, outcome = d.outcome.as_str(), "triage outcome recorded");
        Ok(view)
    }

    async fn open_ico(
        &self,
        tx: &mut sqlx::PgConnection,
        who: &Identity,
        row: &ApplicationRow,
        now: chrono::DateTime<Utc>,
        trace: Option<&TraceContext>,
    ) -> Result<Uuid, ApiProblem> {
        let ico_id = Uuid::now_v7();
        sqlx::query!(
            "INSERT INTO icos (ico_id, application_id, procesregisseur, partners, goal, opened_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            ico_id,
            row.application_id,
            &who.user_id,
            Json(&row.partners.0) as Json<&Vec<Partner>>,
            row.goal.as_deref().unwrap_or_default(),
            now,
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let event = IcoOpened {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            ico_id,
            application_id: row.application_id,
            case_id: row.case_id,
            gemeentecode: row
                .gemeentecode
                .as_deref()
                .and_then(|g| Gemeentecode::parse(g).ok()),
            procesregisseur: who.user_id.clone(),
            opened_at: now,
        };
        self.announce(
            tx,
            ProcesregieEvent::IcoOpened,
            event.event_id,
            &event,
            trace,
        )
        .await?;
        Ok(ico_id)
    }
}

/// Why an application takes no outcome now: not yet submitted, or someone recorded one first.
fn already(row: &ApplicationRow) -> ApiProblem {
    match (row.outcome, &row.decided_by) {
        (Some(outcome), Some(by)) => ApiProblem::conflict(format!(
            "the triage outcome of this application was already recorded by {by}: {} ({}); yours was not recorded",
            outcome.as_str(),
            outcome.dutch()
        )),
        _ => ApiProblem::conflict(
            "this application is still a draft; it takes an outcome once it is submitted",
        ),
    }
}

/// The first meeting on or after `today` (its agenda may be closed already).
fn next_meeting(rules: &crate::triage::TriageRules, today: NaiveDate) -> crate::triage::TriageSlot {
    (0..21u64)
        .find_map(|n| rules.slot_meeting_on(today + Days::new(n)))
        .unwrap_or_else(|| rules.slot_for(Utc::now()))
}
