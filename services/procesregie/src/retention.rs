//! Procesregie's retention rules (the job is the kit's, `rcn_runtime::retention`):
//! - a closed ICO goes `RCN_RETENTION_ICO_YEARS` after its closure, with its plan van aanpak
//!   (actions, their history and reminders), its reviews and the application it came from;
//! - an application that led to no ICO (advice, a local table, not accepted) goes the same
//!   number of years after the triage decided it: for the person it is finished then;
//! - a suggestion accepted into an application goes with that application;
//! - an application never decided (a draft, or submitted and waiting for the triage) of a case
//!   goes `RCN_RETENTION_CASE_YEARS` after casework closed that case (class `case`: its clock
//!   and its period are the case's, since no triage or ICO ever started one of its own), with the
//!   suggestion accepted into it;
//! - a case procesregie watches (pseudonyms, condition statuses, overdue reminders, and the
//!   suggestions raised about it) goes `RCN_RETENTION_CASE_YEARS` after casework closed it, as
//!   casework's own case does (class `case`), once no application of it is kept any more (an
//!   application, and its ICO, keep the case they came from until their own years have passed;
//!   the rules run in this order, so one run removes both);
//! - the ids of casework's events applied (`applied_events`, no personal data; kept only so a
//!   redelivered event changes nothing) go once CASES can no longer deliver the event again: when
//!   they were applied longer ago than the longest maximum age of the streams procesregie
//!   consumes, as `rcn provision` sets it from the same retention policy (class `event_ids`);
//! - access-log rows and privacy questions go `RCN_RETENTION_ACCESS_LOG_YEARS` after they were
//!   written, longer than the ICOs they cover (the settings refuse otherwise).
//!
//! - a draft application about a person not in casework (no case of it is watched, so there is
//!   no closure to count from) goes `RCN_RETENTION_ICO_YEARS` after its last change: a draft
//!   nobody touched for that long is abandoned (class `ico`). A submitted one stays: it is on the
//!   triage agenda until the procesregisseur decides it, and then goes by the `ico` rules.
//!
//! Open ICOs, open cases and what hangs on them (undecided applications among it) are not
//! touched here. Only procesregie's own tables.

use rcn_contracts::retention::RecordClass;
use rcn_runtime::retention::{AppendOnlyLog, Cutoffs, Rule};
use sqlx::PgConnection;
use uuid::Uuid;

/// The watched-case rule's words in the deletion log.
pub const WATCHED_CASES: &str =
    "watched cases with conditions and suggestions, years after the case closed";

/// The applied-event rule's words in the deletion log.
pub const APPLIED_EVENTS: &str =
    "ids of applied casework events, once their stream can no longer deliver them again";

/// The undecided-application rule's words in the deletion log.
pub const UNDECIDED_APPLICATIONS: &str =
    "applications never decided (draft or waiting for triage), years after their case closed";

/// The abandoned-application rule's words in the deletion log.
pub const ABANDONED_APPLICATIONS: &str =
    "drafts of applications of no case in casework, years after their last change";

pub fn rules() -> Vec<Rule> {
    vec![
        Rule {
            class: RecordClass::Ico,
            rule: "closed ICOs with plan, reviews and application, years after closure",
            candidates: None,
            apply: |conn, c, _, limit| Box::pin(closed_icos(conn, c, limit)),
        },
        Rule {
            class: RecordClass::Ico,
            rule: "applications that led to no ICO, years after the triage decided",
            candidates: None,
            apply: |conn, c, _, limit| Box::pin(applications_without_ico(conn, c, limit)),
        },
        // Before the watched-case rule: the case such an application kept goes in the same run.
        Rule {
            class: RecordClass::Case,
            rule: UNDECIDED_APPLICATIONS,
            candidates: None,
            apply: |conn, c, _, limit| {
                Box::pin(undecided_applications_of_closed_cases(conn, c, limit))
            },
        },
        Rule {
            class: RecordClass::Ico,
            rule: ABANDONED_APPLICATIONS,
            candidates: None,
            apply: |conn, c, _, limit| Box::pin(abandoned_applications(conn, c, limit)),
        },
        Rule {
            class: RecordClass::Case,
            rule: WATCHED_CASES,
            candidates: None,
            apply: |conn, c, _, limit| Box::pin(closed_watched_cases(conn, c, limit)),
        },
        Rule {
            class: RecordClass::EventIds,
            rule: APPLIED_EVENTS,
            candidates: None,
            apply: |conn, c, _, limit| Box::pin(undeliverable_event_ids(conn, c, limit)),
        },
        AppendOnlyLog::AccessLog.rule(),
        AppendOnlyLog::PrivacyQuestions.rule(),
    ]
}

async fn closed_icos(conn: &mut PgConnection, c: Cutoffs, limit: i64) -> Result<u64, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT ico_id, application_id FROM icos WHERE status = 'closed' AND closed_at < $1
          ORDER BY closed_at LIMIT $2 FOR UPDATE",
        c.ico_closed_before,
        limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let icos: Vec<Uuid> = rows.iter().map(|r| r.ico_id).collect();
    let applications: Vec<Uuid> = rows.iter().map(|r| r.application_id).collect();
    sqlx::query!(
        "DELETE FROM action_reminders WHERE action_id IN
             (SELECT action_id FROM ico_actions WHERE ico_id = ANY($1))",
        &icos
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM ico_action_history WHERE action_id IN
             (SELECT action_id FROM ico_actions WHERE ico_id = ANY($1))",
        &icos
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM ico_actions WHERE ico_id = ANY($1)", &icos)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM review_reminders WHERE ico_id = ANY($1)", &icos)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM ico_reviews WHERE ico_id = ANY($1)", &icos)
        .execute(&mut *conn)
        .await?;
    let removed = sqlx::query!("DELETE FROM icos WHERE ico_id = ANY($1)", &icos)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    delete_applications(conn, &applications).await?;
    Ok(removed)
}

async fn applications_without_ico(
    conn: &mut PgConnection,
    c: Cutoffs,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT application_id FROM applications a
          WHERE status = 'triaged' AND outcome <> 'ico' AND decided_at < $1
            AND NOT EXISTS (SELECT 1 FROM icos i WHERE i.application_id = a.application_id)
          ORDER BY decided_at LIMIT $2 FOR UPDATE",
        c.ico_closed_before,
        limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    delete_applications(conn, &ids).await
}

/// Removes applications never decided (a draft, or submitted and waiting for the triage) whose
/// case casework closed before the case cutoff. An application is of the case it names and of
/// the case of the suggestion accepted into it; it goes only when every such case is watched,
/// closed, and past its years (a reopening clears the closure, so a reopened case keeps it).
async fn undecided_applications_of_closed_cases(
    conn: &mut PgConnection,
    c: Cutoffs,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT a.application_id FROM applications a
           LEFT JOIN suggestions s ON s.suggestion_id = a.suggestion_id
          WHERE a.status IN ('draft', 'submitted')
            AND EXISTS (SELECT 1 FROM watched_cases w WHERE w.case_id IN (a.case_id, s.case_id))
            AND NOT EXISTS (SELECT 1 FROM watched_cases w
                             WHERE w.case_id IN (a.case_id, s.case_id)
                               AND (w.open OR w.closed_at >= $1))
          ORDER BY a.created_at LIMIT $2 FOR UPDATE OF a",
        c.case_closed_before,
        limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    delete_applications(conn, &ids).await
}

/// Removes draft applications of no case procesregie watches (a person not in casework) whose
/// last change is older than the ICO cutoff. One of a watched case goes with the
/// case instead ([`undecided_applications_of_closed_cases`]), however long ago it changed.
async fn abandoned_applications(
    conn: &mut PgConnection,
    c: Cutoffs,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT a.application_id FROM applications a
           LEFT JOIN suggestions s ON s.suggestion_id = a.suggestion_id
          WHERE a.status = 'draft' AND a.updated_at < $1
            AND NOT EXISTS (SELECT 1 FROM watched_cases w WHERE w.case_id IN (a.case_id, s.case_id))
          ORDER BY a.updated_at LIMIT $2 FOR UPDATE OF a",
        c.ico_closed_before,
        limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    delete_applications(conn, &ids).await
}

/// Removes applications, and the suggestions accepted into them (what the rule looked at, risk
/// flags among it, belongs to the application it became).
async fn delete_applications(conn: &mut PgConnection, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let gone: Vec<Option<Uuid>> = sqlx::query_scalar!(
        "DELETE FROM applications WHERE application_id = ANY($1) RETURNING suggestion_id",
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let suggestions: Vec<Uuid> = gone.iter().flatten().copied().collect();
    sqlx::query!(
        "DELETE FROM suggestions WHERE suggestion_id = ANY($1) OR application_id = ANY($2)",
        &suggestions,
        ids
    )
    .execute(&mut *conn)
    .await?;
    Ok(gone.len() as u64)
}

/// Forgets the ids of events applied before [`Cutoffs::undeliverable_before`]: the stream has
/// dropped those events, so none of them can come again to be recognised. Oldest first.
async fn undeliverable_event_ids(
    conn: &mut PgConnection,
    c: Cutoffs,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM applied_events WHERE event_id IN
             (SELECT event_id FROM applied_events WHERE applied_at < $1
               ORDER BY applied_at LIMIT $2)",
        c.undeliverable_before,
        limit,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Removes watched cases closed before the case cutoff, with their conditions, overdue
/// reminders and suggestions, unless an application of the case is still kept (it goes first,
/// by its own rule).
async fn closed_watched_cases(
    conn: &mut PgConnection,
    c: Cutoffs,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT case_id FROM watched_cases w
          WHERE NOT open AND closed_at < $1
            AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.case_id = w.case_id)
            AND NOT EXISTS (SELECT 1 FROM applications a JOIN suggestions s USING (suggestion_id)
                             WHERE s.case_id = w.case_id)
          ORDER BY closed_at LIMIT $2 FOR UPDATE",
        c.case_closed_before,
        limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    sqlx::query!(
        "DELETE FROM overdue_conditions WHERE case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM watched_conditions WHERE case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM suggestions WHERE case_id = ANY($1)", &ids)
        .execute(&mut *conn)
        .await?;
    Ok(
        sqlx::query!("DELETE FROM watched_cases WHERE case_id = ANY($1)", &ids)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}
