//! Issue 12: each service's PostgreSQL role reaches its own schema only, the migration role's
//! later tables are the service's to use, and `rcn db-roles` can run again.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use rcn::db_roles;
use rcn_runtime::testing::TestEnv;
use sqlx::{Connection as _, PgConnection};

const PREFIX: &str = "rcn_t";

fn password(role: &str) -> Option<String> {
    Some(format!("{role}-test-only"))
}

/// `Ok` or the SQLSTATE PostgreSQL refused `sql` with.
async fn run(conn: &mut PgConnection, sql: &str) -> Result<(), String> {
    sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            sqlx::Error::Database(db) => db.code().unwrap_or_default().into_owned(),
            other => panic!("{sql}: {other}"),
        })
}

const DENIED: &str = "42501";

#[tokio::test]
async fn each_service_role_reaches_its_own_schema_and_nothing_else() {
    let env = TestEnv::new().await;
    let mut config = env.config.clone();
    db_roles::use_own_roles(&mut config, PREFIX, &password)
        .await
        .unwrap();
    // Twice is fine: it is the step an operator runs again after adding a service.
    db_roles::use_own_roles(&mut config, PREFIX, &password)
        .await
        .unwrap();
    let as_service = |schema: &str| config.database_url_for(schema).unwrap().to_owned();
    assert!(as_service("gateway").contains("rcn_t_gateway"));

    // Casework migrates its own schema as its own role, as it does at start-up.
    let casework = rcn_runtime::db::open(
        &as_service("casework"),
        "casework",
        2,
        rcn_casework::migrations(),
        Duration::from_secs(10),
    )
    .await
    .expect("casework migrates its schema as rcn_t_casework");
    sqlx::query("SELECT count(*) FROM cases")
        .fetch_one(&casework)
        .await
        .unwrap();

    let mut intake = PgConnection::connect(&as_service("intake")).await.unwrap();
    run(&mut intake, "CREATE TABLE intake.receipts_probe (n int)")
        .await
        .unwrap();
    run(&mut intake, "INSERT INTO intake.receipts_probe VALUES (1)")
        .await
        .unwrap();

    // The internet-facing gateway cannot read casework's cases.
    let mut gateway = PgConnection::connect(&as_service("gateway")).await.unwrap();
    assert_eq!(
        run(&mut gateway, "SELECT count(*) FROM casework.cases").await,
        Err(DENIED.into())
    );
    assert_eq!(
        run(&mut gateway, "SELECT count(*) FROM casework.access_log").await,
        Err(DENIED.into())
    );
    // Casework cannot read, write or add to intake's tables.
    let mut cw = PgConnection::connect(&as_service("casework"))
        .await
        .unwrap();
    for sql in [
        "SELECT count(*) FROM intake.receipts_probe",
        "INSERT INTO intake.receipts_probe VALUES (2)",
        "DELETE FROM intake.receipts_probe",
        "CREATE TABLE intake.planted (n int)",
        "CREATE SCHEMA planted",
        "CREATE TABLE public.planted (n int)",
    ] {
        assert_eq!(run(&mut cw, sql).await, Err(DENIED.into()), "{sql}");
    }
    let mut admin = PgConnection::connect(env.config.database_url().unwrap())
        .await
        .unwrap();
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM intake.receipts_probe")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(kept, 1, "nothing of intake's changed");

    // A table a later migration creates as the migration role is casework's to use.
    let migrator_url = rcn_runtime::db::with_user(
        env.config.database_url().unwrap(),
        &db_roles::migrator(PREFIX),
        password(&db_roles::migrator(PREFIX)).as_deref(),
    );
    let mut migrator = PgConnection::connect(&migrator_url).await.unwrap();
    run(
        &mut migrator,
        "CREATE TABLE casework.later_migration (n int)",
    )
    .await
    .unwrap();
    run(&mut cw, "INSERT INTO casework.later_migration VALUES (1)")
        .await
        .unwrap();
    assert_eq!(
        run(
            &mut gateway,
            "SELECT count(*) FROM casework.later_migration"
        )
        .await,
        Err(DENIED.into())
    );
}
