//! CASES → `cases`, `task_statuses`, `task_claims`, `task_dues`. History rows are keyed by the
//! event (and condition), so a redelivery adds nothing; a case's current municipality, open or
//! closed state and expected release are each last-writer-wins by (event time, event id), so the
//! events may arrive in any order. Events this monitor does not know are skipped.
//!
//! A batch is decoded first and then written in at most four statements, whatever its size: one
//! for the case rows (a case new to the monitor is inserted whole, a known one has each column
//! group replaced where the batch's is newer) and one per history table. Each reduces the batch's
//! events of one case the way applying them one after another would (latest wins, earliest first
//! opening), so a batch gives the same rows as its events one by one. The counters are then refreshed only for the
//! figures each event can change ([`figures_of`]), and for every figure of a case whose
//! municipality the batch changed.

use chrono::{DateTime, NaiveDate, Utc};
use rcn_contracts::casework_api::CloseReason;
use rcn_contracts::casework_events::{
    AssignmentChange, CaseClosed, CaseRescheduled, TaskAssigned, TaskDeadline, TaskStatusChanged,
};
use rcn_contracts::events::{CaseOpened, CaseUpdated};
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode};
use rcn_runtime::consumer::{Delivery, Handler, HandlerError};
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::counters::{Family, Figure, Touched};

#[derive(Debug)]
pub struct Cases {
    pub pool: PgPool,
    /// `rcn.<region>.casework.`
    pub prefix: String,
}

impl Handler for Cases {
    type Message = serde_json::Value;

    async fn handle(&self, batch: &[Delivery<serde_json::Value>]) -> Result<(), HandlerError> {
        let mut changes = Changes::default();
        for d in batch {
            let Some(rest) = d.subject.strip_prefix(&self.prefix) else {
                continue;
            };
            let event = rest.split('.').next().unwrap_or_default();
            changes.add(event, &d.message)?;
        }
        let mut tx = self.pool.begin().await?;
        crate::counters::lock(&mut tx, Family::Cases).await?;
        let touched = changes.apply(&mut tx).await?;
        crate::counters::refresh_cases(&mut tx, touched).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The case figures an event of `event`'s kind can change while the case keeps its municipality
/// (a change of municipality moves every figure of the case, see [`Changes::apply`]).
pub fn figures_of(event: &str) -> &'static [Figure] {
    match event {
        // Opening sets the first opening, the state, the release, spoed and the statuses.
        "case_opened" => &Figure::CASE,
        // The release day, spoed and due dates.
        "case_rescheduled" => &[
            Figure::Opened,
            Figure::Releases,
            Figure::Overdue,
            Figure::OpenSpoed,
        ],
        // Open or closed, and the reason (a case closed as cancelled was never a release).
        "case_closed" => &[
            Figure::Releases,
            Figure::Unclaimed,
            Figure::Overdue,
            Figure::OpenSpoed,
        ],
        "task_assigned" => &[Figure::ClaimTime, Figure::Unclaimed],
        "task_status_changed" => &[Figure::Releases, Figure::Overdue],
        "task_due_soon" | "task_overdue" => &[Figure::Overdue],
        // case_updated changes only the municipality.
        _ => &[],
    }
}

fn decode<T: DeserializeOwned>(what: &str, v: &serde_json::Value) -> Result<T, HandlerError> {
    serde_json::from_value(v.clone()).map_err(|e| super::undecodable(what, e))
}

/// What a batch writes, column by column (bound as arrays, one statement each).
#[derive(Debug, Default)]
struct Changes {
    /// Every event: the case's municipality as of the event.
    municipality: Municipality,
    /// case_opened: when, and when intake received the notice.
    first_opened: FirstOpened,
    /// case_opened (open) and case_closed (closed, why): at, event.
    state: State,
    /// case_opened and case_rescheduled: the expected release and spoed.
    release: Release,
    statuses: History<ConditionStatus>,
    dues: History<Option<NaiveDate>>,
    claims: Claims,
    /// Per case, the figures its events can change.
    touched: Touched<Uuid>,
}

#[derive(Debug, Default)]
struct Municipality {
    case_id: Vec<Uuid>,
    gemeentecode: Vec<Gemeentecode>,
    at: Vec<DateTime<Utc>>,
    event_id: Vec<Uuid>,
}

#[derive(Debug, Default)]
struct FirstOpened {
    case_id: Vec<Uuid>,
    opened_at: Vec<DateTime<Utc>>,
    received_at: Vec<DateTime<Utc>>,
}

#[derive(Debug, Default)]
struct State {
    case_id: Vec<Uuid>,
    at: Vec<DateTime<Utc>>,
    event_id: Vec<Uuid>,
    closed: Vec<bool>,
    reason: Vec<Option<CloseReason>>,
}

#[derive(Debug, Default)]
struct Release {
    case_id: Vec<Uuid>,
    release_on: Vec<Option<NaiveDate>>,
    spoed: Vec<bool>,
    at: Vec<DateTime<Utc>>,
    event_id: Vec<Uuid>,
}

/// Rows of `task_statuses` or `task_dues`: (event, condition) → value, at.
#[derive(Debug)]
struct History<T> {
    event_id: Vec<Uuid>,
    condition: Vec<Condition>,
    case_id: Vec<Uuid>,
    value: Vec<T>,
    at: Vec<DateTime<Utc>>,
}

impl<T> Default for History<T> {
    fn default() -> Self {
        Self {
            event_id: Vec::new(),
            condition: Vec::new(),
            case_id: Vec::new(),
            value: Vec::new(),
            at: Vec::new(),
        }
    }
}

impl<T> History<T> {
    fn push(
        &mut self,
        event_id: Uuid,
        condition: Condition,
        case_id: Uuid,
        value: T,
        at: DateTime<Utc>,
    ) {
        self.event_id.push(event_id);
        self.condition.push(condition);
        self.case_id.push(case_id);
        self.value.push(value);
        self.at.push(at);
    }
}

#[derive(Debug, Default)]
struct Claims {
    event_id: Vec<Uuid>,
    case_id: Vec<Uuid>,
    condition: Vec<Condition>,
    change: Vec<AssignmentChange>,
    held: Vec<bool>,
    at: Vec<DateTime<Utc>>,
}

impl Changes {
    fn municipality(
        &mut self,
        case_id: Uuid,
        gemeentecode: &Gemeentecode,
        at: DateTime<Utc>,
        event_id: Uuid,
    ) {
        let m = &mut self.municipality;
        m.case_id.push(case_id);
        m.gemeentecode.push(gemeentecode.clone());
        m.at.push(at);
        m.event_id.push(event_id);
    }

    fn state(
        &mut self,
        case_id: Uuid,
        at: DateTime<Utc>,
        event_id: Uuid,
        closed: Option<CloseReason>,
    ) {
        let s = &mut self.state;
        s.case_id.push(case_id);
        s.at.push(at);
        s.event_id.push(event_id);
        s.closed.push(closed.is_some());
        s.reason.push(closed);
    }

    fn release(
        &mut self,
        case_id: Uuid,
        release_on: Option<NaiveDate>,
        spoed: bool,
        at: DateTime<Utc>,
        event_id: Uuid,
    ) {
        let r = &mut self.release;
        r.case_id.push(case_id);
        r.release_on.push(release_on);
        r.spoed.push(spoed);
        r.at.push(at);
        r.event_id.push(event_id);
    }

    /// Decodes one event of kind `event` into the batch; events this monitor does not know are
    /// skipped.
    fn add(&mut self, event: &str, v: &serde_json::Value) -> Result<(), HandlerError> {
        let case_id = match event {
            "case_opened" => {
                let e: CaseOpened = decode("case_opened", v)?;
                self.municipality(e.case_id, &e.gemeentecode, e.opened_at, e.event_id);
                let o = &mut self.first_opened;
                o.case_id.push(e.case_id);
                o.opened_at.push(e.opened_at);
                o.received_at.push(e.notice_received_at);
                self.state(e.case_id, e.opened_at, e.event_id, None);
                self.release(
                    e.case_id,
                    e.expected_release_on,
                    e.spoed,
                    e.opened_at,
                    e.event_id,
                );
                for c in &e.conditions {
                    self.statuses
                        .push(e.event_id, c.condition, e.case_id, c.status, e.opened_at);
                }
                e.case_id
            }
            "case_updated" => {
                let e: CaseUpdated = decode("case_updated", v)?;
                self.municipality(e.case_id, &e.gemeentecode, e.updated_at, e.event_id);
                e.case_id
            }
            "case_rescheduled" => {
                let e: CaseRescheduled = decode("case_rescheduled", v)?;
                self.municipality(e.case_id, &e.gemeentecode, e.at, e.event_id);
                self.release(e.case_id, e.expected_release_on, e.spoed, e.at, e.event_id);
                for due in &e.due {
                    self.dues
                        .push(e.event_id, due.condition, e.case_id, due.due_on, e.at);
                }
                e.case_id
            }
            "case_closed" => {
                let e: CaseClosed = decode("case_closed", v)?;
                self.municipality(e.case_id, &e.gemeentecode, e.closed_at, e.event_id);
                self.state(e.case_id, e.closed_at, e.event_id, Some(e.reason));
                e.case_id
            }
            "task_assigned" => {
                let e: TaskAssigned = decode("task_assigned", v)?;
                self.municipality(e.case_id, &e.gemeentecode, e.at, e.event_id);
                let held = e.holder.is_some()
                    && !matches!(
                        e.change,
                        AssignmentChange::Unclaimed | AssignmentChange::Lapsed
                    );
                let c = &mut self.claims;
                c.event_id.push(e.event_id);
                c.case_id.push(e.case_id);
                c.condition.push(e.condition);
                c.change.push(e.change);
                c.held.push(held);
                c.at.push(e.at);
                e.case_id
            }
            "task_status_changed" => {
                let e: TaskStatusChanged = decode("task_status_changed", v)?;
                self.municipality(e.case_id, &e.gemeentecode, e.at, e.event_id);
                self.statuses
                    .push(e.event_id, e.condition, e.case_id, e.to, e.at);
                e.case_id
            }
            "task_due_soon" | "task_overdue" => {
                let e: TaskDeadline = decode(event, v)?;
                self.municipality(e.case_id, &e.gemeentecode, e.raised_at, e.event_id);
                self.dues.push(
                    e.event_id,
                    e.condition,
                    e.case_id,
                    Some(e.due_on),
                    e.raised_at,
                );
                e.case_id
            }
            _ => return Ok(()),
        };
        self.touched.add(&case_id, figures_of(event));
        Ok(())
    }

    /// Writes the batch; the cases and figures to refresh.
    async fn apply(self, tx: &mut PgConnection) -> Result<Touched<Uuid>, sqlx::Error> {
        let mut touched = self.touched;
        if self.municipality.case_id.is_empty() {
            return Ok(touched);
        }
        // One statement for the case rows, whatever the batch holds: each column group reduced
        // over the batch's events of a case (latest municipality, state and release; earliest
        // first opening), then a case new to the monitor is inserted whole, and a known case has
        // each group replaced only where the batch's is newer (the first opening: earlier), so a
        // redelivered or older event changes nothing. Every event names the case's municipality,
        // so this also makes the row of a case whose first event to arrive is not its opening.
        // A case that is new or moved to another municipality moves in every figure.
        let m = &self.municipality;
        let o = &self.first_opened;
        let s = &self.state;
        let r = &self.release;
        let moved = sqlx::query_scalar!(
            r#"WITH batch AS (
                   SELECT DISTINCT ON (case_id) case_id, gemeentecode, at, event_id
                   FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::uuid[])
                        AS b(case_id, gemeentecode, at, event_id)
                   ORDER BY case_id, at DESC, event_id DESC),
                   first_opened AS (
                   SELECT DISTINCT ON (case_id) case_id, opened_at, received_at
                   FROM unnest($5::uuid[], $6::timestamptz[], $7::timestamptz[])
                        AS o(case_id, opened_at, received_at)
                   ORDER BY case_id, opened_at),
                   state AS (
                   SELECT DISTINCT ON (case_id) case_id, at, event_id, closed, reason
                   FROM unnest($8::uuid[], $9::timestamptz[], $10::uuid[], $11::bool[], $12::text[])
                        AS s(case_id, at, event_id, closed, reason)
                   ORDER BY case_id, at DESC, event_id DESC),
                   release AS (
                   SELECT DISTINCT ON (case_id) case_id, release_on, spoed, at, event_id
                   FROM unnest($13::uuid[], $14::date[], $15::bool[], $16::timestamptz[], $17::uuid[])
                        AS r(case_id, release_on, spoed, at, event_id)
                   ORDER BY case_id, at DESC, event_id DESC),
                   before AS (SELECT c.case_id, c.gemeentecode FROM cases c JOIN batch USING (case_id)),
                   changed AS (
                   INSERT INTO cases AS c (case_id, gemeentecode, gemeente_at, gemeente_event,
                                           first_opened_at, notice_received_at,
                                           opened_at, closed, close_reason, state_at, state_event,
                                           release_on, spoed, release_at, release_event)
                   SELECT b.case_id, b.gemeentecode, b.at, b.event_id,
                          o.opened_at, o.received_at,
                          CASE WHEN NOT s.closed THEN s.at END, COALESCE(s.closed, false), s.reason,
                          s.at, s.event_id,
                          r.release_on, COALESCE(r.spoed, false), r.at, r.event_id
                   FROM batch b LEFT JOIN first_opened o USING (case_id)
                        LEFT JOIN state s USING (case_id) LEFT JOIN release r USING (case_id)
                   ON CONFLICT (case_id) DO UPDATE SET
                       -- Each group: the newer of the batch's and the row's (the first opening:
                       -- the earlier); an opening (also a reopening) sets when the case was
                       -- opened, a closure keeps it.
                       (gemeentecode, gemeente_at, gemeente_event) = (
                           SELECT * FROM (VALUES
                               (EXCLUDED.gemeentecode, EXCLUDED.gemeente_at, EXCLUDED.gemeente_event),
                               (c.gemeentecode, c.gemeente_at, c.gemeente_event)) AS g(code, at, event)
                           ORDER BY at DESC, event DESC LIMIT 1),
                       (first_opened_at, notice_received_at) = (
                           SELECT * FROM (VALUES
                               (EXCLUDED.first_opened_at, EXCLUDED.notice_received_at),
                               (c.first_opened_at, c.notice_received_at)) AS o(opened_at, received_at)
                           ORDER BY opened_at NULLS LAST LIMIT 1),
                       (opened_at, closed, close_reason, state_at, state_event) = (
                           SELECT * FROM (VALUES
                               (CASE WHEN EXCLUDED.closed THEN c.opened_at ELSE EXCLUDED.state_at END,
                                EXCLUDED.closed, EXCLUDED.close_reason, EXCLUDED.state_at, EXCLUDED.state_event),
                               (c.opened_at, c.closed, c.close_reason, c.state_at, c.state_event))
                               AS s(opened_at, closed, reason, at, event)
                           ORDER BY at DESC NULLS LAST, event DESC LIMIT 1),
                       (release_on, spoed, release_at, release_event) = (
                           SELECT * FROM (VALUES
                               (EXCLUDED.release_on, EXCLUDED.spoed, EXCLUDED.release_at, EXCLUDED.release_event),
                               (c.release_on, c.spoed, c.release_at, c.release_event))
                               AS r(release_on, spoed, at, event)
                           ORDER BY at DESC NULLS LAST, event DESC LIMIT 1)
                   -- Only rows the batch changes: a redelivery writes nothing.
                   WHERE (EXCLUDED.gemeente_at, EXCLUDED.gemeente_event) > (c.gemeente_at, c.gemeente_event)
                      OR EXCLUDED.first_opened_at < c.first_opened_at
                      OR (EXCLUDED.state_at, EXCLUDED.state_event) > (c.state_at, c.state_event)
                      OR (EXCLUDED.release_at, EXCLUDED.release_event) > (c.release_at, c.release_event)
                      OR c.first_opened_at IS NULL AND EXCLUDED.first_opened_at IS NOT NULL
                      OR c.state_at IS NULL AND EXCLUDED.state_at IS NOT NULL
                      OR c.release_at IS NULL AND EXCLUDED.release_at IS NOT NULL
                   RETURNING case_id, gemeentecode)
               SELECT changed.case_id AS "case_id!"
               FROM changed LEFT JOIN before USING (case_id)
               WHERE before.gemeentecode IS DISTINCT FROM changed.gemeentecode"#,
            &m.case_id,
            &m.gemeentecode as &[Gemeentecode],
            &m.at,
            &m.event_id,
            &o.case_id,
            &o.opened_at,
            &o.received_at,
            &s.case_id,
            &s.at,
            &s.event_id,
            &s.closed,
            &s.reason as &[Option<CloseReason>],
            &r.case_id,
            &r.release_on as &[Option<NaiveDate>],
            &r.spoed,
            &r.at,
            &r.event_id,
        )
        .fetch_all(&mut *tx)
        .await?;
        for case in &moved {
            touched.add(case, &Figure::CASE);
        }
        let h = &self.statuses;
        if !h.event_id.is_empty() {
            sqlx::query!(
                "INSERT INTO task_statuses (event_id, condition, case_id, status, at)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::timestamptz[])
                 ON CONFLICT (event_id, condition) DO NOTHING",
                &h.event_id,
                &h.condition as &[Condition],
                &h.case_id,
                &h.value as &[ConditionStatus],
                &h.at,
            )
            .execute(&mut *tx)
            .await?;
        }
        let c = &self.claims;
        if !c.event_id.is_empty() {
            sqlx::query!(
                "INSERT INTO task_claims (event_id, case_id, condition, change, held, at)
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bool[], $6::timestamptz[])
                 ON CONFLICT (event_id) DO NOTHING",
                &c.event_id,
                &c.case_id,
                &c.condition as &[Condition],
                &c.change as &[AssignmentChange],
                &c.held,
                &c.at,
            )
            .execute(&mut *tx)
            .await?;
        }
        let h = &self.dues;
        if !h.event_id.is_empty() {
            sqlx::query!(
                "INSERT INTO task_dues (event_id, condition, case_id, due_on, at)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::date[], $5::timestamptz[])
                 ON CONFLICT (event_id, condition) DO NOTHING",
                &h.event_id,
                &h.condition as &[Condition],
                &h.case_id,
                &h.value as &[Option<NaiveDate>],
                &h.at,
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(touched)
    }
}
