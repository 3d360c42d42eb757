//! Opening cases from routed notices, and attaching later notices to them (what a later notice
//! changes is in [`crate::updates`]). A case's tasks start from the institution's screening, each
//! with its first history entry, and their due dates from the region's deadline rules.

use chrono::{NaiveDate, Utc};
use rcn_contracts::events::{CaseUpdated, NoticeRouted, RoutingOutcome};
use rcn_contracts::notice::NoticeKind;
use rcn_contracts::{Gemeentecode, SCHEMA_VERSION};
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use rcn_runtime::{Config, outbox};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::opening::Opening;
use crate::spoed::is_spoed;
use crate::state::{Casework, today};

pub fn spec(config: &Config) -> ConsumerSpec {
    let s = config.region.subjects();
    let mut spec = ConsumerSpec::new(
        &s,
        s.routing_stream(),
        "casework",
        s.routed_any(),
        "casework",
    );
    spec.batch = config.consumer_batch;
    spec.workers = config.consumer_workers;
    spec
}

impl Handler for Casework {
    type Message = NoticeRouted;

    async fn handle(&self, batch: &[Delivery<NoticeRouted>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        for d in batch {
            let RoutingOutcome::Routed { gemeentecode } = &d.message.outcome else {
                // Only routed.* subjects reach this consumer; anything else is a wiring error.
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "casework received a notice that was not routed to a municipality ({})",
                    d.message.notice_key
                )));
            };
            self.apply(&mut tx, d, gemeentecode).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Casework {
    async fn apply(
        &self,
        tx: &mut PgConnection,
        d: &Delivery<NoticeRouted>,
        gemeente: &Gemeentecode,
    ) -> Result<(), HandlerError> {
        let routed = &d.message;
        let notice = &routed.notice;
        // A notice is applied once: a redelivery finds it here and changes nothing.
        let seen = sqlx::query_scalar!(
            "SELECT 1 FROM case_notices WHERE notice_key = $1",
            routed.notice_key,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if seen.is_some() {
            return Ok(());
        }
        let now = Utc::now();
        let today = today();
        let release = notice.detention.expected_release_on;
        let spoed = is_spoed(notice.kind, release, today);
        let person = &notice.person;
        let new_case_id = Uuid::now_v7();
        let by = format!("notice:{}", routed.notice_key);
        // The institution's first word on the episode is that it is cancelled: the episode is
        // recorded (so a late, older notice of it opens no work either) as a closed case
        // without tasks. A newer notice may reopen it ([`crate::reopening`]).
        let cancelled = notice.kind == NoticeKind::Cancelled;
        let case_id = sqlx::query_scalar!(
            "INSERT INTO cases (case_id, episode_key, person_key, gemeentecode, bsn, family_name, name_prefix,
                                given_names, date_of_birth, institution_code, started_on, expected_release_on,
                                spoed, risk_flags, opened_at, opened_by_notice,
                                status, closed_at, closed_reason, closed_by, closed_note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::timestamptz, $16,
                     CASE WHEN $17 THEN 'closed' ELSE 'open' END,
                     CASE WHEN $17 THEN $15::timestamptz END,
                     CASE WHEN $17 THEN 'cancelled' END,
                     CASE WHEN $17 THEN $18 END,
                     CASE WHEN $17 THEN $19 END)
             ON CONFLICT (episode_key) DO NOTHING
             RETURNING case_id",
            new_case_id,
            routed.episode_key,
            routed.person_key,
            gemeente as &Gemeentecode,
            person.bsn.expose(),
            person.family_name,
            person.name_prefix,
            person.given_names,
            person.date_of_birth,
            notice.sender.institution_code,
            notice.detention.started_on,
            release,
            spoed,
            sqlx::types::Json(&notice.risk_flags) as _,
            now,
            routed.notice_key,
            cancelled,
            by,
            CANCELLED_UNOPENED,
        )
        .fetch_optional(&mut *tx)
        .await?;

        let opened = case_id.is_some();
        let case_id = match case_id {
            Some(id) => id,
            None => {
                sqlx::query_scalar!(
                    "SELECT case_id FROM cases WHERE episode_key = $1",
                    routed.episode_key,
                )
                .fetch_one(&mut *tx)
                .await?
            }
        };
        sqlx::query!(
            "INSERT INTO case_notices (notice_key, case_id, kind, sent_at, received_at, applied_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            routed.notice_key,
            case_id,
            notice.kind as NoticeKind,
            notice.sent_at,
            routed.received_at,
            now,
        )
        .execute(&mut *tx)
        .await?;

        let notice = Applied {
            d,
            gemeente,
            case_id,
            by,
            now,
            today,
            release,
            spoed,
        };
        if opened && cancelled {
            cancelled_before_work(tx, &notice).await
        } else if opened {
            self.opened(tx, &notice).await
        } else {
            self.attached(tx, &notice).await
        }
    }

    /// A new case: its tasks from the notice's screening, and `case_opened` to the municipality.
    async fn opened(&self, tx: &mut PgConnection, n: &Applied<'_>) -> Result<(), HandlerError> {
        let (routed, case_id) = (&n.d.message, n.case_id);
        let states = self.open_tasks(tx, case_id, routed).await?;
        if routed.notice.kind == NoticeKind::ReleasedUnexpectedly {
            crate::updates::mark_released_on_open(tx, case_id, n.release.unwrap_or(n.today), &n.by)
                .await?;
        }
        let opening = Opening {
            case_id,
            gemeente: n.gemeente,
            expected_release_on: n.release,
            spoed: n.spoed,
            conditions: states,
        };
        self.announce_opened(tx, opening, n.d, n.now).await?;
        tracing::info!(%case_id, notice_key = %routed.notice_key, trace_id = %n.d.trace.trace_id(), gemeentecode = %n.gemeente, spoed = n.spoed, "case opened");
        Ok(())
    }

    /// A later notice of an episode that has its case: `case_updated`, then what it changes.
    async fn attached(&self, tx: &mut PgConnection, n: &Applied<'_>) -> Result<(), HandlerError> {
        let (routed, case_id) = (&n.d.message, n.case_id);
        let event = CaseUpdated {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id,
            episode_key: routed.episode_key.clone(),
            gemeentecode: n.gemeente.clone(),
            notice_key: routed.notice_key.clone(),
            notice_kind: routed.notice.kind,
            updated_at: n.now,
        };
        let subject = self.subjects.case_updated(n.gemeente);
        outbox::enqueue(
            tx,
            outbox::Event {
                event_id: event.event_id,
                subject,
                payload: &event,
                trace: Some(&n.d.trace),
            },
        )
        .await?;
        tracing::info!(%case_id, notice_key = %routed.notice_key, trace_id = %n.d.trace.trace_id(), kind = routed.notice.kind.as_str(), "notice attached to case");
        // After CaseUpdated, so consumers learn of the notice before of what it changed.
        crate::updates::apply_later_notice(self, tx, case_id, n.d, n.gemeente, n.today).await?;
        Ok(())
    }
}

/// A routed notice recorded on its case, and what [`Casework::apply`] decided about it.
struct Applied<'a> {
    d: &'a Delivery<NoticeRouted>,
    gemeente: &'a Gemeentecode,
    case_id: Uuid,
    /// Who changes the case: `notice:<key>`.
    by: String,
    now: chrono::DateTime<Utc>,
    today: NaiveDate,
    release: Option<NaiveDate>,
    spoed: bool,
}

/// The episode's first notice cancels it: the case is recorded closed, without work.
async fn cancelled_before_work(tx: &mut PgConnection, n: &Applied<'_>) -> Result<(), HandlerError> {
    let detail = serde_json::json!({"reason": "cancelled", "note": CANCELLED_UNOPENED, "open_conditions": []});
    crate::history::record_case(tx, n.case_id, &n.by, "closed", detail).await?;
    tracing::info!(case_id = %n.case_id, notice_key = %n.d.message.notice_key, trace_id = %n.d.trace.trace_id(), "episode cancelled before any work was opened");
    Ok(())
}

/// Why a case was recorded closed the moment it was opened.
const CANCELLED_UNOPENED: &str = "cancelled by the institution before any work was opened";
