//! Casework's retention rules on the kit's job, with a clock the test sets: a closed case's
//! notices go months after release while an open case keeps its own, the case itself goes years
//! after its closure with its tasks and history, old access-log rows and privacy questions go (only through the job),
//! a dry run removes nothing and counts what the run then removes, and the deletion log says so.

use std::sync::Arc;

use chrono::{DateTime, Months, Utc};
use rcn_contracts::notice::NoticeKind;
use rcn_runtime::retention::{ManualClock, Removed};

use crate::helpers::{TestCasework, days_from_today, routed_notice};

fn counts(report: &[Removed]) -> Vec<(String, u64)> {
    report
        .iter()
        .map(|r| (r.class.to_string(), r.count))
        .collect()
}

/// The counts per rule, in the order of casework's rules: cases, notices, access-log rows,
/// privacy questions.
fn expect(pairs: [(&str, u64); 4]) -> Vec<(String, u64)> {
    pairs.into_iter().map(|(c, n)| (c.to_owned(), n)).collect()
}

#[tokio::test]
async fn a_closed_case_goes_notices_first_then_whole_while_an_open_case_keeps_its_notices() {
    let casework = TestCasework::spawn().await;
    let release = days_from_today(30);
    casework
        .publish(
            &routed_notice("PI-HAARLEM:a1", "episode-a", release, |_| {}),
            "e-a1",
        )
        .await;
    let a = casework.wait_for_case("PI-HAARLEM:a1").await;
    let cancel = routed_notice("PI-HAARLEM:a2", "episode-a", release, |n| {
        n.kind = NoticeKind::Cancelled;
        n.sent_at += chrono::Duration::days(1);
    });
    casework.publish(&cancel, "e-a2").await;
    casework
        .publish(
            &routed_notice("PI-HAARLEM:b1", "episode-b", release, |_| {}),
            "e-b1",
        )
        .await;
    let b = casework.wait_for_case("PI-HAARLEM:b1").await;
    rcn_runtime::testing::eventually(crate::helpers::PATIENCE, "case A to close", || async {
        let closed = casework
            .count(&format!(
                "SELECT count(*) FROM casework.cases WHERE case_id = '{}' AND status = 'closed'
                    AND closed_reason = 'cancelled' AND closed_at IS NOT NULL",
                a.case_id
            ))
            .await;
        (closed == 1).then_some(())
    })
    .await;
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.case_notices")
            .await,
        3
    );
    // Two reads of B: one four years old, one now.
    sqlx::query(
        "INSERT INTO casework.access_log (at, user_id, role, gemeentecode, case_id, what)
         VALUES (now() - interval '4 years', 'anna', 'municipal_staff', 'GM0392', $1, 'case'),
                (now(), 'anna', 'municipal_staff', 'GM0392', $1, 'case')",
    )
    .bind(b.case_id)
    .execute(&casework.db)
    .await
    .unwrap();
    // Two privacy questions about a person: one four years old, one now.
    sqlx::query(
        "INSERT INTO casework.privacy_questions (at, user_id, role, person_key, question)
         VALUES (now() - interval '4 years', 'fg', 'privacy_officer', 'p-1', 'privacy_accesses'),
                (now(), 'fg', 'privacy_officer', 'p-1', 'privacy_accesses')",
    )
    .execute(&casework.db)
    .await
    .unwrap();
    // Nobody else may delete from the access log or the questions.
    for table in ["access_log", "privacy_questions"] {
        let refused = sqlx::query(&format!("DELETE FROM casework.{table}"))
            .execute(&casework.db)
            .await;
        assert!(refused.is_err(), "{table} stays append-only");
    }

    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let clock = ManualClock::new(now.checked_add_months(Months::new(12)).unwrap());
    let job = rcn_casework::retention_job(casework.config())
        .await
        .unwrap()
        .with_clock(Arc::new(clock.clone()));

    // A year on: A's notices have expired (A is closed), B's have not (B is open).
    let dry = job.dry_run().await.unwrap();
    assert_eq!(
        counts(&dry),
        expect([
            ("case", 0),
            ("notice", 2),
            ("access_log", 1),
            ("access_log", 1)
        ])
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.case_notices")
            .await,
        3,
        "a dry run removes nothing"
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.access_log")
            .await,
        2
    );
    let run = job.run_once().await.unwrap();
    assert_eq!(
        counts(&run),
        counts(&dry),
        "the run removes what the dry run said"
    );
    assert_eq!(
        casework
            .count(&format!(
                "SELECT count(*) FROM casework.case_notices WHERE case_id = '{}'",
                b.case_id
            ))
            .await,
        1,
        "the open case keeps its notice"
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.case_notices")
            .await,
        1
    );
    assert_eq!(
        casework.count("SELECT count(*) FROM casework.cases").await,
        2
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.access_log")
            .await,
        1,
        "the recent read stays"
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.privacy_questions WHERE at > now() - interval '1 day'")
            .await,
        1,
        "the recent question stays"
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.privacy_questions")
            .await,
        1,
        "the old question is gone"
    );

    // Past the case years: A goes with its tasks and history; B stays whole.
    clock.set(now.checked_add_months(Months::new(25)).unwrap());
    let run = job.run_once().await.unwrap();
    assert_eq!(
        counts(&run),
        expect([
            ("case", 1),
            ("notice", 0),
            ("access_log", 0),
            ("access_log", 0)
        ])
    );
    for table in [
        "cases",
        "condition_tasks",
        "task_history",
        "case_history",
        "case_notices",
        "reminders",
    ] {
        assert_eq!(
            casework
                .count(&format!(
                    "SELECT count(*) FROM casework.{table} WHERE case_id = '{}'",
                    a.case_id
                ))
                .await,
            0,
            "A is gone from {table}"
        );
    }
    assert_eq!(
        casework
            .count(&format!(
                "SELECT count(*) FROM casework.condition_tasks WHERE case_id = '{}'",
                b.case_id
            ))
            .await,
        5
    );

    // The deletion log: a line per rule and run, counts only.
    let log = rcn_runtime::retention::log(&job.pool, 100).await.unwrap();
    assert_eq!(log.len(), 8, "{log:?}");
    let removed = |class: &str| -> i64 {
        log.iter()
            .filter(|e| e.class == class)
            .map(|e| e.removed)
            .sum()
    };
    assert_eq!(
        (removed("case"), removed("notice"), removed("access_log")),
        (1, 2, 2)
    );
    casework.stop().await;
}
