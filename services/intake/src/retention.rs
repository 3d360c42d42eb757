//! Intake's retention rules (the job is the kit's, `rcn_runtime::retention`): a receipt goes 6
//! months after the release of its episode, with the routing outcome recorded for it, unless the
//! episode's case in casework is still open (the job asks casework, see
//! `rcn_runtime::retention::AskCasework` for why it asks rather than follows events); an outcome
//! whose receipt never came goes 6 months after it was decided; the privacy officer's questions go
//! when the access log they are part of does. Only intake's own tables.

use rcn_contracts::retention::RecordClass;
use rcn_runtime::retention::{AppendOnlyLog, Cutoffs, Rule};
use sqlx::PgConnection;

pub fn rules() -> Vec<Rule> {
    vec![
        Rule {
            class: RecordClass::Notice,
            rule: "receipts and their routing outcomes, months after the episode's last release, unless its case is open",
            candidates: Some(|conn, c| Box::pin(expired_episodes(conn, c))),
            apply: |conn, c, open, limit| Box::pin(receipts(conn, c, open, limit)),
        },
        Rule {
            class: RecordClass::Notice,
            rule: "routing outcomes without a receipt, months after the decision",
            candidates: None,
            apply: |conn, c, _, limit| Box::pin(orphan_outcomes(conn, c, limit)),
        },
        AppendOnlyLog::PrivacyQuestions.rule(),
    ]
}

/// Every episode whose latest release (or, without one, receipt) lies before the cut-off: the
/// ones to ask casework about.
async fn expired_episodes(conn: &mut PgConnection, c: Cutoffs) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT episode_key FROM receipts GROUP BY episode_key
         HAVING max(COALESCE(release_on, (received_at AT TIME ZONE 'UTC')::date)) < $1",
        c.released_before,
    )
    .fetch_all(&mut *conn)
    .await
}

/// Every receipt of up to `limit` episodes whose latest release (or, without one, receipt) lies
/// before the cut-off and whose case is not `open`, with their outcomes.
async fn receipts(
    conn: &mut PgConnection,
    c: Cutoffs,
    open: &[String],
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let keys = sqlx::query_scalar!(
        "SELECT r.notice_key FROM receipts r
          WHERE r.episode_key IN (
                SELECT episode_key FROM receipts WHERE episode_key <> ALL($3)
                 GROUP BY episode_key
                HAVING max(COALESCE(release_on, (received_at AT TIME ZONE 'UTC')::date)) < $1
                LIMIT $2)
          FOR UPDATE",
        c.released_before,
        limit,
        open,
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM notice_outcomes WHERE notice_key = ANY($1)",
        &keys
    )
    .execute(&mut *conn)
    .await?;
    Ok(
        sqlx::query!("DELETE FROM receipts WHERE notice_key = ANY($1)", &keys)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}

async fn orphan_outcomes(
    conn: &mut PgConnection,
    c: Cutoffs,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let before = c.released_before.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    Ok(sqlx::query!(
        "DELETE FROM notice_outcomes WHERE notice_key IN (
             SELECT o.notice_key FROM notice_outcomes o
              WHERE o.decided_at < $1
                AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.notice_key = o.notice_key)
              LIMIT $2)",
        before,
        limit,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
