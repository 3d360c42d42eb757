//! Casework's retention rules (the job is the kit's, `rcn_runtime::retention`):
//! - a closed case goes `RCN_RETENTION_CASE_YEARS` after its closure (closed as completed, by
//!   hand, cancelled, or moved out of the region: every closure starts the clock), with its tasks,
//!   their history and reminders, its history and its notices;
//! - the notices of a closed case go earlier, months after the release, as notices do: a notice
//!   linked to an open case is kept while the case is open;
//! - access-log rows go `RCN_RETENTION_ACCESS_LOG_YEARS` after they were written, longer than the
//!   cases they cover (the settings refuse otherwise).
//!
//! Only casework's own tables.

use rcn_contracts::retention::RecordClass;
use rcn_runtime::retention::{AppendOnlyLog, Cutoffs, Rule};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The episodes among `episode_keys` whose case is open now (the `open_episodes` endpoint): the
/// notices of those intake and the router keep past their months.
pub async fn open_episodes(
    pool: &PgPool,
    episode_keys: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT episode_key FROM cases WHERE status = 'open' AND episode_key = ANY($1)",
        episode_keys,
    )
    .fetch_all(pool)
    .await
}

pub fn rules() -> Vec<Rule> {
    vec![
        Rule {
            class: RecordClass::Case,
            rule: "closed cases with tasks, history and notices, years after closure",
            candidates: None,
            apply: |conn, c, _, limit| Box::pin(closed_cases(conn, c, limit)),
        },
        Rule {
            class: RecordClass::Notice,
            rule: "notices of closed cases, months after release",
            candidates: None,
            apply: |conn, c, _, limit| Box::pin(notices_of_closed_cases(conn, c, limit)),
        },
        AppendOnlyLog::AccessLog.rule(),
        AppendOnlyLog::PrivacyQuestions.rule(),
    ]
}

async fn closed_cases(conn: &mut PgConnection, c: Cutoffs, limit: i64) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT case_id FROM cases WHERE status = 'closed' AND closed_at < $1
          ORDER BY closed_at LIMIT $2 FOR UPDATE",
        c.case_closed_before,
        limit,
    )
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    sqlx::query!("DELETE FROM reminders WHERE case_id = ANY($1)", &ids)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM task_history WHERE case_id = ANY($1)", &ids)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "DELETE FROM closing_candidates WHERE case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM condition_tasks WHERE case_id = ANY($1)", &ids)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM case_history WHERE case_id = ANY($1)", &ids)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM case_notices WHERE case_id = ANY($1)", &ids)
        .execute(&mut *conn)
        .await?;
    Ok(
        sqlx::query!("DELETE FROM cases WHERE case_id = ANY($1)", &ids)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}

async fn notices_of_closed_cases(
    conn: &mut PgConnection,
    c: Cutoffs,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM case_notices WHERE notice_key IN (
             SELECT n.notice_key FROM case_notices n JOIN cases k USING (case_id)
              WHERE k.status = 'closed'
                AND COALESCE(k.released_on, k.expected_release_on,
                             (k.closed_at AT TIME ZONE 'UTC')::date) < $1
              LIMIT $2)",
        c.released_before,
        limit,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
