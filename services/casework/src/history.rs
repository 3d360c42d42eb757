//! The history of tasks and cases, written in the same transaction as the change it records, and
//! the events that announce those changes (through the outbox, in that same transaction).

use chrono::Utc;
use rcn_contracts::casework_events::{AssignmentChange, TaskAssigned, TaskStatusChanged};
use rcn_contracts::{Condition, ConditionStatus, SCHEMA_VERSION, Subjects};
use rcn_runtime::outbox;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::access::TaskRow;

/// One change of a task, for `task_history`.
#[derive(Debug, Default)]
pub struct TaskChange<'a> {
    pub change: &'a str,
    pub from_status: Option<ConditionStatus>,
    pub to_status: Option<ConditionStatus>,
    pub from_holder: Option<&'a str>,
    pub to_holder: Option<&'a str>,
    pub note: Option<&'a str>,
}

pub async fn record_task(
    conn: &mut PgConnection,
    case_id: Uuid,
    condition: Condition,
    by: &str,
    c: TaskChange<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO task_history (case_id, condition, by_whom, change, from_status, to_status, from_holder, to_holder, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        case_id,
        condition as Condition,
        by,
        c.change,
        c.from_status as Option<ConditionStatus>,
        c.to_status as Option<ConditionStatus>,
        c.from_holder,
        c.to_holder,
        c.note,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn record_case(
    conn: &mut PgConnection,
    case_id: Uuid,
    by: &str,
    change: &str,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_history (case_id, by_whom, change, detail) VALUES ($1, $2, $3, $4)",
        case_id,
        by,
        change,
        detail,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a change of holder and announces it.
pub async fn holder_changed(
    conn: &mut PgConnection,
    subjects: &Subjects,
    task: &TaskRow,
    change: AssignmentChange,
    holder: Option<&str>,
    by: &str,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    let c = TaskChange {
        change: change.as_str(),
        from_holder: task.claimed_by.as_deref(),
        to_holder: holder,
        note,
        ..Default::default()
    };
    record_task(conn, task.case_id, task.condition, by, c).await?;
    let event = TaskAssigned {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id: task.case_id,
        episode_key: task.episode_key.clone(),
        gemeentecode: task.gemeentecode.clone(),
        condition: task.condition,
        change,
        previous_holder: task.claimed_by.clone(),
        holder: holder.map(str::to_owned),
        by: by.to_owned(),
        at: Utc::now(),
    };
    let subject = subjects.task_assigned(&task.gemeentecode);
    outbox::enqueue(
        conn,
        outbox::Event {
            event_id: event.event_id,
            subject,
            payload: &event,
            trace: None,
        },
    )
    .await
}

/// Records a change of status and announces it.
pub async fn status_changed(
    conn: &mut PgConnection,
    subjects: &Subjects,
    task: &TaskRow,
    to: ConditionStatus,
    by: &str,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    let c = TaskChange {
        change: "status",
        from_status: Some(task.status),
        to_status: Some(to),
        note,
        ..Default::default()
    };
    record_task(conn, task.case_id, task.condition, by, c).await?;
    let event = TaskStatusChanged {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id: task.case_id,
        episode_key: task.episode_key.clone(),
        gemeentecode: task.gemeentecode.clone(),
        condition: task.condition,
        from: task.status,
        to,
        by: by.to_owned(),
        at: Utc::now(),
    };
    let subject = subjects.task_status_changed(&task.gemeentecode);
    outbox::enqueue(
        conn,
        outbox::Event {
            event_id: event.event_id,
            subject,
            payload: &event,
            trace: None,
        },
    )
    .await
}
