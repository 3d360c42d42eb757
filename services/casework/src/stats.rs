//! Read-only figures about casework's tables for tools outside the service (`rcn bench`): they
//! open casework's schema and ask these functions, so that no other crate names casework's
//! tables in its own SQL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The PostgreSQL schema casework keeps its tables in.
pub const SCHEMA: &str = "casework";

/// Opens casework's schema on `database_url` with `pool_size` connections, creating and
/// migrating it when needed (as casework itself does when it starts).
pub async fn open(database_url: &str, pool_size: u32) -> anyhow::Result<PgPool> {
    Ok(rcn_runtime::db::open(
        database_url,
        SCHEMA,
        pool_size,
        crate::migrations(),
        Duration::from_secs(10),
    )
    .await?)
}

/// How many cases casework holds, open or closed.
pub async fn case_count(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM cases"#)
        .fetch_one(pool)
        .await
}

/// How many notices casework has applied to a case (each once, however often it was delivered).
pub async fn applied_notice_count(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM case_notices"#)
        .fetch_one(pool)
        .await
}

/// When each of `notice_keys` was applied to its case; keys not applied (yet) are left out.
pub async fn applied_at(
    pool: &PgPool,
    notice_keys: &[String],
) -> sqlx::Result<Vec<(String, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT notice_key, applied_at FROM case_notices WHERE notice_key = ANY($1)",
        notice_keys,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.notice_key, r.applied_at))
        .collect())
}
