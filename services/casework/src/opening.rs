//! Opening a case's work: its tasks from the institution's screening (each with its first
//! history entry and its due date from the region's deadline rules), and `CaseOpened` to the
//! municipality that works it — when a case opens ([`crate::cases`]), moves
//! ([`crate::updates`]) or reopens ([`crate::reopening`]). It knows nothing of why.

use chrono::{NaiveDate, Utc};
use rcn_contracts::events::{CaseOpened, ConditionState, NoticeRouted};
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, SCHEMA_VERSION};
use rcn_runtime::consumer::Delivery;
use rcn_runtime::outbox;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::state::Casework;

/// A case as it is announced to the municipality that works it from now on.
pub(crate) struct Opening<'a> {
    pub case_id: Uuid,
    pub gemeente: &'a Gemeentecode,
    pub expected_release_on: Option<NaiveDate>,
    pub spoed: bool,
    pub conditions: Vec<ConditionState>,
}

impl Casework {
    /// Creates a case's tasks from the notice's screening, each with its first history entry and
    /// its due date; returns their states.
    pub(crate) async fn open_tasks(
        &self,
        tx: &mut PgConnection,
        case_id: Uuid,
        routed: &NoticeRouted,
    ) -> Result<Vec<ConditionState>, sqlx::Error> {
        let notice = &routed.notice;
        let release = notice.detention.expected_release_on;
        let states: Vec<ConditionState> = self
            .conditions
            .iter()
            .map(|c| ConditionState {
                condition: *c,
                status: notice
                    .conditions
                    .get(*c)
                    .map_or(ConditionStatus::Unknown, |s| s.status),
            })
            .collect();
        let notes: Vec<Option<&str>> = states
            .iter()
            .map(|s| {
                notice
                    .conditions
                    .get(s.condition)
                    .and_then(|c| c.note.as_deref())
            })
            .collect();
        // One statement for every task and its "opened" history entry: a round trip per row
        // was most of the cost of opening a case.
        sqlx::query!(
            "WITH tasks AS (
                 INSERT INTO condition_tasks (case_id, condition, status, note, due_on)
                 SELECT $1, x.condition, x.status, x.note, x.due_on
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::date[]) AS x(condition, status, note, due_on)
                 RETURNING condition, status, note
             )
             INSERT INTO task_history (case_id, condition, by_whom, change, to_status, note)
             SELECT $1, condition, $6, 'opened', status, note FROM tasks",
            case_id,
            states.iter().map(|s| s.condition).collect::<Vec<Condition>>() as _,
            states.iter().map(|s| s.status).collect::<Vec<ConditionStatus>>() as _,
            notes as _,
            states
                .iter()
                .map(|s| release.map(|r| self.deadlines.due_on(s.condition, r)))
                .collect::<Vec<_>>() as _,
            format!("notice:{}", routed.notice_key),
        )
        .execute(&mut *tx)
        .await?;
        Ok(states)
    }

    /// Tells a municipality it has a case (`CaseOpened` on its subject): when the case is opened,
    /// and again when it moves there or reopens there, as if it had been routed there first.
    pub(crate) async fn announce_opened(
        &self,
        tx: &mut PgConnection,
        opening: Opening<'_>,
        d: &Delivery<NoticeRouted>,
        at: chrono::DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let routed = &d.message;
        let event = CaseOpened {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id: opening.case_id,
            episode_key: routed.episode_key.clone(),
            person_key: Some(routed.person_key.clone()),
            gemeentecode: opening.gemeente.clone(),
            notice_key: routed.notice_key.clone(),
            expected_release_on: opening.expected_release_on,
            spoed: opening.spoed,
            conditions: opening.conditions,
            opened_at: at,
            notice_received_at: routed.received_at,
        };
        let subject = self.subjects.case_opened(opening.gemeente);
        outbox::enqueue(
            tx,
            outbox::Event {
                event_id: event.event_id,
                subject,
                payload: &event,
                trace: Some(&d.trace),
            },
        )
        .await?;
        self.note_risk_flags(tx, opening.case_id, opening.gemeente, d, at)
            .await
    }

    /// Passes on the risk flags a notice of the case carries, on a subject of their own that
    /// only procesregie and the RCN read: for the notice that opens, moves or reopens the case,
    /// and for any later notice that brings flags. Nothing is sent for a notice without flags.
    pub(crate) async fn note_risk_flags(
        &self,
        tx: &mut PgConnection,
        case_id: Uuid,
        gemeente: &Gemeentecode,
        d: &Delivery<NoticeRouted>,
        at: chrono::DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let routed = &d.message;
        if routed.notice.risk_flags.is_empty() {
            return Ok(());
        }
        let flags = rcn_contracts::casework_events::RiskFlagsNoted {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id,
            episode_key: routed.episode_key.clone(),
            person_key: routed.person_key.clone(),
            gemeentecode: gemeente.clone(),
            risk_flags: routed.notice.risk_flags.clone(),
            noted_at: at,
        };
        outbox::enqueue(
            tx,
            outbox::Event {
                event_id: flags.event_id,
                subject: self.subjects.risk_flags_noted(gemeente),
                payload: &flags,
                trace: Some(&d.trace),
            },
        )
        .await
    }
}
