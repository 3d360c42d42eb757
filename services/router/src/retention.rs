//! The router's retention rules (the job is the kit's, `rcn_runtime::retention`): a routing
//! decision goes with its notice, 6 months after the release of its episode, together with a
//! decision by hand and a forward made for it, unless the episode's case in casework is still
//! open (the job asks casework, see `rcn_runtime::retention::AskCasework` for why it asks rather
//! than follows events). Access-log rows and privacy questions go `RCN_RETENTION_ACCESS_LOG_YEARS`
//! after they were written, longer than the decisions they cover, as in casework and procesregie.
//! Only the router's own tables.

use rcn_contracts::retention::RecordClass;
use rcn_runtime::retention::{AppendOnlyLog, Cutoffs, Rule};
use sqlx::PgConnection;

pub fn rules() -> Vec<Rule> {
    vec![
        Rule {
            class: RecordClass::Notice,
            rule: "routing decisions (with manual decisions and forwards), months after the episode's last release, unless its case is open",
            candidates: Some(|conn, c| Box::pin(expired_episodes(conn, c))),
            apply: |conn, c, open, limit| Box::pin(decisions(conn, c, open, limit)),
        },
        AppendOnlyLog::AccessLog.rule(),
        AppendOnlyLog::PrivacyQuestions.rule(),
    ]
}

/// Every episode whose latest release (or, without one, receipt) lies before the cut-off: the
/// ones to ask casework about.
async fn expired_episodes(conn: &mut PgConnection, c: Cutoffs) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT episode_key FROM decisions GROUP BY episode_key
         HAVING max(COALESCE(release_on, (received_at AT TIME ZONE 'UTC')::date)) < $1",
        c.released_before,
    )
    .fetch_all(&mut *conn)
    .await
}

/// Every decision of up to `limit` episodes whose latest release (or, without one, receipt)
/// lies before the cut-off and whose case is not `open`.
async fn decisions(
    conn: &mut PgConnection,
    c: Cutoffs,
    open: &[String],
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let keys = sqlx::query_scalar!(
        "SELECT d.notice_key FROM decisions d
          WHERE d.episode_key IN (
                SELECT episode_key FROM decisions WHERE episode_key <> ALL($3)
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
        "DELETE FROM manual_decisions WHERE notice_key = ANY($1)",
        &keys
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM forwards WHERE notice_key = ANY($1)", &keys)
        .execute(&mut *conn)
        .await?;
    Ok(
        sqlx::query!("DELETE FROM decisions WHERE notice_key = ANY($1)", &keys)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}
