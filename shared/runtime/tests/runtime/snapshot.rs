//! `db::read_only_pair`: two read-only transactions that see one moment of the database, or one
//! when the pool has no connection to spare.

use std::time::{Duration, Instant};

use rcn_runtime::db::{ReadOnly, read_only_pair};
use rcn_runtime::testing::TestEnv;
use sqlx::PgPool;

async fn pool(env: &TestEnv, schema: &str, size: u32) -> PgPool {
    let url = env.config.database_url().expect("set by TestEnv");
    let pool = rcn_runtime::db::open(
        url,
        schema,
        size,
        &sqlx::migrate::Migrator::DEFAULT,
        Duration::from_secs(5),
    )
    .await
    .expect("the schema is set up");
    sqlx::query("CREATE TABLE IF NOT EXISTS seen (n int NOT NULL)")
        .execute(&pool)
        .await
        .expect("a table");
    pool
}

async fn count(tx: &mut ReadOnly) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM seen")
        .fetch_one(&mut **tx)
        .await
        .expect("a count")
}

#[tokio::test]
async fn both_transactions_see_the_same_moment_and_not_what_is_written_after() {
    let env = TestEnv::new().await;
    let pool = pool(&env, "t_snapshot_pair", 3).await;
    sqlx::query("INSERT INTO seen VALUES (1)")
        .execute(&pool)
        .await
        .expect("before");
    let (mut first, second) = read_only_pair(&pool, Duration::from_secs(5))
        .await
        .expect("the pair begins");
    let mut second = second.expect("a pool of three has a second connection to spare");
    // Written after the pair began (on the pool's third connection), before either read.
    sqlx::query("INSERT INTO seen VALUES (2)")
        .execute(&pool)
        .await
        .expect("after");
    assert_eq!(
        count(&mut second).await,
        1,
        "the second sees the first's moment"
    );
    assert_eq!(count(&mut first).await, 1);
    let written = sqlx::query("INSERT INTO seen VALUES (3)")
        .execute(&mut *second)
        .await;
    assert!(written.is_err(), "the pair is read-only");
    first.commit().await.expect("ends");
    drop(second);
    let now: i64 = sqlx::query_scalar("SELECT count(*) FROM seen")
        .fetch_one(&pool)
        .await
        .expect("a count");
    assert_eq!(now, 2);
}

#[tokio::test]
async fn a_pool_without_a_connection_to_spare_gives_one_transaction_at_once() {
    let env = TestEnv::new().await;
    let pool = pool(&env, "t_snapshot_single", 1).await;
    let started = Instant::now();
    let (mut only, second) = read_only_pair(&pool, Duration::from_secs(30))
        .await
        .expect("the transaction begins");
    assert!(second.is_none(), "a pool of one has nothing to spare");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a full pool is not waited for: {:?}",
        started.elapsed()
    );
    assert_eq!(count(&mut only).await, 0);
}
