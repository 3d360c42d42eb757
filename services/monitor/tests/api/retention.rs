//! The monitor's retention job, with a clock the test sets: a dead-letter desk log row and a
//! privacy question older than `RCN_RETENTION_ACCESS_LOG_YEARS` go (only through the job), newer
//! ones stay, the aggregates stay, a dry run removes nothing and counts what the run then
//! removes, the deletion log says so (and answers the privacy officer only), and
//! `rcn monitor rebuild` keeps the logs, deletion log included.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use chrono::{DateTime, Months, Utc};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::retention::{RETENTION_LOG_VERB, RetentionLogReply};
use rcn_runtime::retention::{ManualClock, Removed};
use sqlx::PgPool;

use crate::dead_letter_desk::ask;
use crate::helpers::TestMonitor;

fn counts(report: &[Removed]) -> Vec<(String, &'static str, u64)> {
    report
        .iter()
        .map(|r| (r.class.to_string(), r.rule, r.count))
        .collect()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The `why` of the desk log rows left, oldest first.
async fn desk_log(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT why FROM dead_letter_log ORDER BY at")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The person pseudonyms of the privacy questions left, oldest first.
async fn questions(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT person_key FROM privacy_questions ORDER BY at")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn old_desk_log_rows_and_questions_go_new_ones_and_the_aggregates_stay_and_a_rebuild_keeps_the_logs()
 {
    let mut monitor = TestMonitor::spawn(rcn_monitor::Settings::default()).await;
    // The desk looked at two letters about person p-1: four years ago and now; the privacy
    // officer asked about p-1 four years ago and now. And a notice counted four years ago.
    sqlx::query(
        "INSERT INTO dead_letter_log (at, sequence, service, action, user_id, role, why, person_keys)
         VALUES (now() - interval '4 years', 1, 'router', 'inspected', 'rcn', 'rcn_coordinator', 'old look', ARRAY['p-1']),
                (now() - interval '4 years', 1, 'router', 'discarded', 'rcn', 'rcn_coordinator', 'old discard', ARRAY['p-1']),
                (now(), 2, 'router', 'inspected', 'rcn', 'rcn_coordinator', 'new look', ARRAY['p-1'])",
    )
    .execute(&monitor.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO privacy_questions (at, user_id, role, person_key, question)
         VALUES (now() - interval '4 years', 'fg', 'privacy_officer', 'p-old', 'privacy_accesses'),
                (now(), 'fg', 'privacy_officer', 'p-new', 'privacy_accesses')",
    )
    .execute(&monitor.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO notices (notice_key, kind, institution_code, received_at)
         VALUES ('PI-HAARLEM:old', 'release', 'PI-HAARLEM', now() - interval '4 years')",
    )
    .execute(&monitor.pool)
    .await
    .unwrap();
    // Nobody but the job may delete from either log.
    for table in ["dead_letter_log", "privacy_questions"] {
        let refused = sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&monitor.pool)
            .await;
        assert!(refused.is_err(), "{table} stays append-only");
    }

    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let clock = ManualClock::new(now);
    let job = rcn_monitor::retention_job(&monitor.env.config)
        .await
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let dry = job.dry_run().await.unwrap();
    let expected = vec![
        (
            "access_log".to_owned(),
            "dead-letter desk log rows, years after they were written",
            2,
        ),
        (
            "access_log".to_owned(),
            "privacy questions, years after they were asked",
            1,
        ),
    ];
    assert_eq!(counts(&dry), expected);
    assert_eq!(
        desk_log(&monitor.pool).await,
        ["old look", "old discard", "new look"],
        "a dry run removes nothing"
    );
    let run = job.run_once().await.unwrap();
    assert_eq!(
        counts(&run),
        expected,
        "the run removes what the dry run said"
    );
    assert_eq!(desk_log(&monitor.pool).await, ["new look"]);
    assert_eq!(questions(&monitor.pool).await, ["p-new"]);
    assert_eq!(
        count(&monitor.pool, "SELECT count(*) FROM notices").await,
        1,
        "the aggregates stay"
    );
    // Still append-only after the job's transactions.
    let refused = sqlx::query("DELETE FROM dead_letter_log")
        .execute(&monitor.pool)
        .await;
    assert!(refused.is_err());

    // A year on, the row of now has not expired yet; three years and a day on, it has.
    clock.set(now.checked_add_months(Months::new(12)).unwrap());
    assert!(job.run_once().await.unwrap().iter().all(|r| r.count == 0));
    let later = now.checked_add_months(Months::new(37)).unwrap();
    clock.set(later);
    assert_eq!(
        job.run_once()
            .await
            .unwrap()
            .iter()
            .map(|r| r.count)
            .collect::<Vec<_>>(),
        [1, 1]
    );
    assert!(desk_log(&monitor.pool).await.is_empty());
    // Two new rows for the rebuild to carry over.
    sqlx::query(
        "INSERT INTO dead_letter_log (sequence, service, action, user_id, role, why)
         VALUES (3, 'casework', 'replayed', 'rcn', 'rcn_coordinator', 'after the runs')",
    )
    .execute(&monitor.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO privacy_questions (user_id, role, person_key, question)
         VALUES ('fg', 'privacy_officer', 'p-after', 'privacy_accesses')",
    )
    .execute(&monitor.pool)
    .await
    .unwrap();
    job.pool.close().await;

    // The deletion log: a line per rule and run, with its count and no personal data. (Only the
    // runs on the test's clock: the running monitor's own job may have run on the system clock.)
    let ours = [now, now.checked_add_months(Months::new(12)).unwrap(), later];
    let logged: Vec<(DateTime<Utc>, String, String, i64)> = sqlx::query_as(
        "SELECT run_at, class, rule, removed FROM retention_log
          WHERE run_at = ANY($1) ORDER BY run_at, rule",
    )
    .bind(&ours[..])
    .fetch_all(&monitor.pool)
    .await
    .unwrap();
    let removed_at = |at: DateTime<Utc>| -> i64 {
        logged
            .iter()
            .filter(|(t, ..)| *t == at)
            .map(|(.., n)| n)
            .sum()
    };
    assert_eq!(logged.len(), 6, "three runs of two rules: {logged:?}");
    assert!(logged.iter().all(|(_, class, ..)| class == "access_log"));
    assert_eq!((removed_at(now), removed_at(later)), (3, 2));
    let text = format!("{logged:?}");
    assert!(
        !text.contains("p-1") && !text.contains("old look"),
        "{text}"
    );

    // The privacy officer reads it over NATS; an RCN coordinator is refused.
    let subject = monitor.subjects.monitor_api(RETENTION_LOG_VERB);
    let officer = Identity {
        user_id: "fg".into(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    };
    let reply: RetentionLogReply = ask(&monitor, subject.clone(), &officer, "{}")
        .await
        .into_result()
        .unwrap();
    assert_eq!(reply.service, "monitor");
    let lines: Vec<_> = reply
        .lines
        .iter()
        .filter(|l| ours.contains(&l.run_at))
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0].run_at, later, "newest first");
    assert_eq!(
        lines.iter().map(|l| l.removed).sum::<i64>(),
        5,
        "every removal counted"
    );
    let coordinator = Identity {
        user_id: "rcn".into(),
        role: Role::RcnCoordinator,
        gemeentecode: None,
    };
    let refused = ask::<RetentionLogReply>(&monitor, subject, &coordinator, "{}")
        .await
        .into_result()
        .unwrap_err();
    assert_eq!(refused.status, 403);

    // A rebuild replaces the read models but keeps the records: the desk log, the questions and
    // the deletion log come along as they are. (With the monitor stopped, so its own job cannot
    // add a line in between.)
    monitor.stop().await;
    let before: Vec<(DateTime<Utc>, String, String, i64)> = sqlx::query_as(
        "SELECT run_at, class, rule, removed FROM retention_log ORDER BY run_at, rule",
    )
    .fetch_all(&monitor.pool)
    .await
    .unwrap();
    assert!(before.len() >= 6);
    rcn_monitor::rebuild::run(&monitor.env.config)
        .await
        .expect("the rebuild runs");
    let pool = crate::helpers::schema_pool(&monitor.env).await;
    assert_eq!(desk_log(&pool).await, ["after the runs"]);
    assert_eq!(questions(&pool).await, ["p-after"]);
    let after: Vec<(DateTime<Utc>, String, String, i64)> = sqlx::query_as(
        "SELECT run_at, class, rule, removed FROM retention_log ORDER BY run_at, rule",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(after, before, "the deletion log survives the rebuild");
    // And the rebuilt tables are still append-only for everyone but the job.
    assert!(
        sqlx::query("DELETE FROM dead_letter_log")
            .execute(&pool)
            .await
            .is_err()
    );
    pool.close().await;
}
