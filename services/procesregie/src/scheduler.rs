//! What time alone makes true: an action of an open ICO past its due date, a review past its
//! planned date, and a case coming within the open-conditions rule's window without news from
//! casework. Looked for every `scheduler_interval`; each reminder raised once (keyed by what it is
//! about and the date), in one transaction with its event, so several instances may run.

use std::time::Duration;

use chrono::Utc;
use rcn_contracts::SCHEMA_VERSION;
use rcn_contracts::procesregie_api::{ActionStatus, SuggestionRule};
use rcn_contracts::procesregie_events::{IcoActionOverdue, IcoReviewOverdue, ProcesregieEvent};
use rcn_runtime::CancellationToken;
use uuid::Uuid;

use crate::Procesregie;

/// Runs until `shutdown`; a failed round is logged and tried again next time.
pub async fn run(state: std::sync::Arc<Procesregie>, shutdown: CancellationToken) {
    let every = state.settings.scheduler_interval;
    loop {
        if let Err(e) = state.remind().await {
            tracing::warn!(error = %e.detail, "procesregie reminders not raised this round; will retry");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every.max(Duration::from_millis(50))) => {}
        }
    }
}

impl Procesregie {
    /// One round: raises what is overdue today (Europe/Amsterdam) and was not raised before, and
    /// looks at the cases nearing release again.
    pub async fn remind(&self) -> Result<(), rcn_contracts::envelope::ApiProblem> {
        use crate::access::db;
        let now = Utc::now();
        let today = now
            .with_timezone(&chrono_tz::Europe::Amsterdam)
            .date_naive();
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The CTE's columns are not known non-null to the compiler: `!` says they are.
        let actions = sqlx::query!(
            r#"WITH due AS (
                 SELECT x.action_id, x.ico_id, x.owner_organisation, x.due_on, x.status
                 FROM ico_actions x JOIN icos i USING (ico_id)
                 WHERE i.status = 'open' AND x.status IN ('open', 'in_progress') AND x.due_on < $1
             ), raised AS (
                 INSERT INTO action_reminders (action_id, due_on, raised_at)
                 SELECT action_id, due_on, $2 FROM due ON CONFLICT DO NOTHING
                 RETURNING action_id
             )
             SELECT due.action_id AS "action_id!", due.ico_id AS "ico_id!",
                 due.owner_organisation AS "owner_organisation!", due.due_on AS "due_on!",
                 due.status AS "status!: ActionStatus"
             FROM due JOIN raised USING (action_id)"#,
            today,
            now
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        for a in actions {
            let event = IcoActionOverdue {
                schema_version: SCHEMA_VERSION,
                event_id: Uuid::now_v7(),
                ico_id: a.ico_id,
                action_id: a.action_id,
                owner_organisation: a.owner_organisation,
                due_on: a.due_on,
                status: a.status,
                raised_at: now,
            };
            self.announce(
                &mut tx,
                ProcesregieEvent::IcoActionOverdue,
                event.event_id,
                &event,
                None,
            )
            .await?;
        }
        let reviews = sqlx::query!(
            r#"WITH latest AS (
                 SELECT DISTINCT ON (r.ico_id) r.ico_id, r.next_review_on
                 FROM ico_reviews r ORDER BY r.ico_id, r.held_on DESC, r.recorded_at DESC
             ), due AS (
                 SELECT l.ico_id, l.next_review_on, i.procesregisseur
                 FROM latest l JOIN icos i USING (ico_id)
                 WHERE i.status = 'open' AND l.next_review_on < $1
             ), raised AS (
                 INSERT INTO review_reminders (ico_id, next_review_on, raised_at)
                 SELECT ico_id, next_review_on, $2 FROM due ON CONFLICT DO NOTHING
                 RETURNING ico_id
             )
             SELECT due.ico_id AS "ico_id!", due.next_review_on AS "next_review_on!",
                 due.procesregisseur AS "procesregisseur!"
             FROM due JOIN raised USING (ico_id)"#,
            today,
            now
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        for r in reviews {
            let event = IcoReviewOverdue {
                schema_version: SCHEMA_VERSION,
                event_id: Uuid::now_v7(),
                ico_id: r.ico_id,
                next_review_on: r.next_review_on,
                procesregisseur: r.procesregisseur,
                raised_at: now,
            };
            self.announce(
                &mut tx,
                ProcesregieEvent::IcoReviewOverdue,
                event.event_id,
                &event,
                None,
            )
            .await?;
        }
        // Cases whose release comes within the window as the days pass.
        let window = i32::try_from(self.settings.rules.open_conditions_days).unwrap_or(14);
        let nearing: Vec<Uuid> = sqlx::query_scalar!(
            "SELECT w.case_id FROM watched_cases w
             WHERE w.open AND w.expected_release_on BETWEEN $1 AND $1 + $2::int
               AND NOT EXISTS (SELECT 1 FROM suggestions s
                               WHERE s.case_id = w.case_id AND s.rule = $3)",
            today,
            window,
            SuggestionRule::OpenConditionsNearRelease as SuggestionRule,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        for case_id in nearing {
            self.evaluate(&mut tx, case_id, now).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }
}
