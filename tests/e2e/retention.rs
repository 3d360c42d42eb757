//! Retention across the stack (issue 16): with the clock moved past every retention period, a
//! closed episode is gone from every table of intake, router, casework and procesregie (the case
//! it watches), and its messages from
//! the streams; a notice linked to an open case stays in every service (intake and the router
//! ask casework), and goes once the case is closed; the monitor's aggregates survive; the
//! deletion logs count what went, also as each service answers them to the privacy officer; a
//! dry run removes nothing and reports what the real run then removes. Procesregie forgets the
//! ids of casework's events it applied once neither CASES nor the DLQ can deliver them again
//! (here after the test's 3 + 3-second stream ages). The monitor's dead-letter desk log goes
//! with the access logs' years.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Months, Utc};
use rcn_runtime::retention::{Clock, ManualClock};
use rcn_runtime::testing::eventually;
use rcn_tests::{PATIENCE, TestStack, release_notice_json};

/// How long the test's streams keep a message (`RCN_RETENTION_STREAM_MAX_AGE`).
const STREAM_MAX_AGE: Duration = Duration::from_secs(3);

/// Rows of the person's episode in every table of intake, router, casework and procesregie that
/// holds them.
async fn rows_of(stack: &TestStack, notice_key: &str) -> Vec<(&'static str, i64)> {
    let case_id: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT case_id FROM casework.case_notices WHERE notice_key = $1")
            .bind(notice_key)
            .fetch_optional(&stack.db)
            .await
            .expect("the test database answers");
    let episode: String =
        sqlx::query_scalar("SELECT episode_key FROM router.decisions WHERE notice_key = $1")
            .bind(notice_key)
            .fetch_optional(&stack.db)
            .await
            .expect("the test database answers")
            .unwrap_or_default();
    let mut rows = Vec::new();
    for (table, sql) in [
        (
            "intake.receipts",
            "SELECT count(*) FROM intake.receipts WHERE episode_key = $1",
        ),
        (
            "router.decisions",
            "SELECT count(*) FROM router.decisions WHERE episode_key = $1",
        ),
    ] {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(&episode)
            .fetch_one(&stack.db)
            .await
            .expect("the test database answers");
        rows.push((table, n));
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM intake.notice_outcomes o JOIN router.decisions d USING (notice_key)
          WHERE d.episode_key = $1",
    )
    .bind(&episode)
    .fetch_one(&stack.db)
    .await
    .expect("the test database answers");
    rows.push(("intake.notice_outcomes", n));
    let case_id = case_id.unwrap_or_default();
    for (table, sql) in [
        (
            "casework.cases",
            "SELECT count(*) FROM casework.cases WHERE case_id = $1",
        ),
        (
            "casework.condition_tasks",
            "SELECT count(*) FROM casework.condition_tasks WHERE case_id = $1",
        ),
        (
            "casework.task_history",
            "SELECT count(*) FROM casework.task_history WHERE case_id = $1",
        ),
        (
            "casework.case_history",
            "SELECT count(*) FROM casework.case_history WHERE case_id = $1",
        ),
        (
            "casework.case_notices",
            "SELECT count(*) FROM casework.case_notices WHERE case_id = $1",
        ),
        (
            "procesregie.watched_cases",
            "SELECT count(*) FROM procesregie.watched_cases WHERE case_id = $1",
        ),
        (
            "procesregie.watched_conditions",
            "SELECT count(*) FROM procesregie.watched_conditions WHERE case_id = $1",
        ),
    ] {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(case_id)
            .fetch_one(&stack.db)
            .await
            .expect("the test database answers");
        rows.push((table, n));
    }
    rows
}

/// Every row of the monitor's read models.
async fn monitor_rows(stack: &TestStack) -> i64 {
    stack
        .count(
            "SELECT (SELECT count(*) FROM monitor.notices) + (SELECT count(*) FROM monitor.routing)
                  + (SELECT count(*) FROM monitor.cases) + (SELECT count(*) FROM monitor.task_statuses)",
        )
        .await
}

/// Waits until procesregie has learnt from CASES that the case closed (its retention clock).
async fn procesregie_saw_the_closure(stack: &TestStack, case_id: uuid::Uuid) {
    eventually(PATIENCE, "procesregie to see the case close", || async {
        (stack
            .count(&format!(
                "SELECT count(*) FROM procesregie.watched_cases
                  WHERE case_id = '{case_id}' AND NOT open AND closed_at IS NOT NULL"
            ))
            .await
            == 1)
            .then_some(())
    })
    .await;
}

fn counts(reports: &[rcn::retention::ServiceReport]) -> Vec<(&'static str, String, u64)> {
    reports
        .iter()
        .flat_map(|r| {
            r.removed
                .iter()
                .map(|x| (r.service, x.class.to_string(), x.count))
        })
        .collect()
}

#[tokio::test]
async fn a_closed_episode_expires_from_every_service_and_stream_while_an_open_case_keeps_its_notice()
 {
    let stack = TestStack::spawn_with(|c| c.retention.stream_max_age = Some(STREAM_MAX_AGE)).await;
    let subjects = stack.env.config.region.subjects();
    let js = stack.env.ctx("rcn-test-retention").await.jetstream();
    let notices = js.get_stream(subjects.notices_stream().name).await.unwrap();
    assert_eq!(
        notices.cached_info().config.max_age,
        STREAM_MAX_AGE,
        "`rcn provision` caps the stream at the retention it carries"
    );

    // Person A: a case, then cancelled (the closure starts the retention clock).
    let mut first = release_notice_json();
    first["notice_id"] = "a1".into();
    assert_eq!(stack.post_notice(&first).await.status(), 202);
    let case_a = stack.wait_for_case("PI-HAARLEM:a1").await;
    let mut cancelled = first.clone();
    cancelled["notice_id"] = "a2".into();
    cancelled["kind"] = "cancelled".into();
    cancelled["sent_at"] = "2026-11-21T09:30:00Z".into();
    assert_eq!(stack.post_notice(&cancelled).await.status(), 202);
    eventually(PATIENCE, "case A to close", || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM casework.cases WHERE case_id = $1")
            .bind(case_a.case_id)
            .fetch_one(&stack.db)
            .await
            .ok()
            .filter(|s| s == "closed")
    })
    .await;
    procesregie_saw_the_closure(&stack, case_a.case_id).await;
    // Person B: an open case.
    let mut other = release_notice_json();
    other["notice_id"] = "b1".into();
    other["person"]["bsn"] = "111222333".into();
    assert_eq!(stack.post_notice(&other).await.status(), 202);
    let case_b = stack.wait_for_case("PI-HAARLEM:b1").await;
    assert_eq!(case_b.status, "open");
    for key in ["PI-HAARLEM:a1", "PI-HAARLEM:a2", "PI-HAARLEM:b1"] {
        stack.wait_for_decision(key).await;
    }
    eventually(PATIENCE, "intake to record every outcome", || async {
        (stack
            .count("SELECT count(*) FROM intake.notice_outcomes")
            .await
            == 3)
            .then_some(())
    })
    .await;
    eventually(PATIENCE, "the monitor to count both cases", || async {
        (stack.count("SELECT count(*) FROM monitor.cases").await == 2).then_some(())
    })
    .await;
    // The RCN's dead-letter desk looked at a letter about A (a row of its log, with A's
    // pseudonym, as the desk writes it).
    sqlx::query(
        "INSERT INTO monitor.dead_letter_log (sequence, service, action, user_id, role, why, person_keys)
         VALUES (1, 'router', 'inspected', 'rita', 'rcn_coordinator', 'uitzoeken', ARRAY['a-person'])",
    )
    .execute(&stack.db)
    .await
    .unwrap();
    let monitor_before = monitor_rows(&stack).await;
    let a_before = rows_of(&stack, "PI-HAARLEM:a1").await;
    assert!(
        a_before.iter().all(|(_, n)| *n > 0),
        "A is in every table: {a_before:?}"
    );

    // Nothing has expired today (but the ids of events neither CASES nor the DLQ keeps any more:
    // 3 + 3 seconds here).
    let today = Arc::new(ManualClock::new(Utc::now()));
    let reports = rcn::retention::run(&stack.env.config, false, today)
        .await
        .unwrap();
    assert!(
        counts(&reports)
            .iter()
            .all(|(_, class, n)| *n == 0 || class == "event_ids"),
        "{reports:?}"
    );

    // Four years on: past the notices' months, the cases' years and the access log's years.
    // Whole seconds, so the log's time (PostgreSQL keeps microseconds) compares equal.
    let now = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let later = Arc::new(ManualClock::new(
        now.checked_add_months(Months::new(48)).unwrap(),
    ));
    let applied = applied_event_ids(&stack).await;
    let dry = rcn::retention::run(&stack.env.config, true, later.clone())
        .await
        .unwrap();
    assert_eq!(
        rows_of(&stack, "PI-HAARLEM:a1").await,
        a_before,
        "a dry run removes nothing"
    );
    // B's notice is past its months too, but linked to an open case: intake and the router
    // keep it (they asked casework).
    let expected: Vec<(&str, String, u64)> = [
        ("intake", "notice", 2),
        ("intake", "notice", 0),
        ("intake", "access_log", 0),
        ("router", "notice", 2),
        ("router", "access_log", 0),
        ("router", "access_log", 0),
        ("casework", "case", 1),
        ("casework", "notice", 0),
        ("casework", "access_log", 0),
        ("casework", "access_log", 0),
        ("procesregie", "ico", 0),
        ("procesregie", "ico", 0),
        ("procesregie", "case", 0),
        ("procesregie", "ico", 0),
        ("procesregie", "case", 1),
        ("procesregie", "event_ids", applied),
        ("procesregie", "access_log", 0),
        ("procesregie", "access_log", 0),
        // The monitor's dead-letter desk log (the look at A's letter) and privacy questions.
        ("monitor", "access_log", 1),
        ("monitor", "access_log", 0),
    ]
    .into_iter()
    .map(|(s, c, n)| (s, c.to_owned(), n))
    .collect();
    assert_eq!(counts(&dry), expected, "{dry:?}");

    let real = rcn::retention::run(&stack.env.config, false, later.clone())
        .await
        .unwrap();
    assert_eq!(
        counts(&real),
        counts(&dry),
        "the run removes what the dry run said"
    );
    assert!(
        real.iter().flat_map(|r| &r.removed).all(|x| !x.skipped),
        "casework answered, so no rule was skipped: {real:?}"
    );
    let a_after = rows_of(&stack, "PI-HAARLEM:a1").await;
    assert!(
        a_after.iter().all(|(_, n)| *n == 0),
        "A is gone from every table: {a_after:?}"
    );
    // B's case is open: casework keeps it and its notice, procesregie the case it watches.
    assert_eq!(
        stack
            .count(&format!(
                "SELECT count(*) FROM casework.case_notices WHERE case_id = '{}'",
                case_b.case_id
            ))
            .await,
        1
    );
    assert_eq!(stack.count("SELECT count(*) FROM casework.cases").await, 1);
    assert_eq!(
        stack
            .count("SELECT count(*) FROM procesregie.watched_cases")
            .await,
        1
    );
    let b_kept = rows_of(&stack, "PI-HAARLEM:b1").await;
    assert_eq!(
        monitor_rows(&stack).await,
        monitor_before,
        "the monitor's aggregates stay"
    );
    assert_eq!(
        stack
            .count("SELECT count(*) FROM monitor.dead_letter_log")
            .await,
        0,
        "the desk's log of A's letter went with the years"
    );
    assert!(
        b_kept
            .iter()
            .filter(|(t, _)| t.starts_with("intake.") || t.starts_with("router."))
            .all(|(_, n)| *n > 0),
        "B's notice stays in intake and the router while its case is open: {b_kept:?}"
    );

    // B's case closes (cancelled); a day later its notices and its case go as well.
    let mut b_cancelled = other.clone();
    b_cancelled["notice_id"] = "b2".into();
    b_cancelled["kind"] = "cancelled".into();
    b_cancelled["sent_at"] = "2026-11-21T09:30:00Z".into();
    assert_eq!(stack.post_notice(&b_cancelled).await.status(), 202);
    stack.wait_for_decision("PI-HAARLEM:b2").await;
    eventually(PATIENCE, "case B to close", || async {
        sqlx::query_scalar::<_, String>("SELECT status FROM casework.cases WHERE case_id = $1")
            .bind(case_b.case_id)
            .fetch_one(&stack.db)
            .await
            .ok()
            .filter(|s| s == "closed")
    })
    .await;
    procesregie_saw_the_closure(&stack, case_b.case_id).await;
    eventually(PATIENCE, "intake to record B's outcomes", || async {
        (stack
            .count("SELECT count(*) FROM intake.notice_outcomes")
            .await
            == 2)
            .then_some(())
    })
    .await;
    // The monitor counts B's cancellation too; its aggregates from here on must stay.
    eventually(
        PATIENCE,
        "the monitor to count B's cancellation",
        || async {
            let seen = stack
                .count(&format!(
                "SELECT (SELECT count(*) FROM monitor.notices WHERE notice_key = 'PI-HAARLEM:b2')
                      + (SELECT count(*) FROM monitor.routing WHERE notice_key = 'PI-HAARLEM:b2')
                      + (SELECT count(*) FROM monitor.cases WHERE case_id = '{}' AND closed)",
                case_b.case_id
            ))
                .await;
            (seen == 3).then_some(())
        },
    )
    .await;
    let monitor_now = monitor_rows(&stack).await;
    let day_later = Arc::new(ManualClock::new(
        later.now().checked_add_days(chrono::Days::new(1)).unwrap(),
    ));
    let applied = applied_event_ids(&stack).await;
    assert!(applied > 0, "procesregie applied B's closure");
    let closed = rcn::retention::run(&stack.env.config, false, day_later.clone())
        .await
        .unwrap();
    let went: Vec<_> = counts(&closed)
        .into_iter()
        .filter(|(_, _, n)| *n > 0)
        .collect();
    assert_eq!(
        went,
        [
            ("intake", "notice".to_owned(), 2),
            ("router", "notice".to_owned(), 2),
            ("casework", "case".to_owned(), 1),
            ("procesregie", "case".to_owned(), 1),
            ("procesregie", "event_ids".to_owned(), applied),
        ],
        "{closed:?}"
    );
    let b_after = rows_of(&stack, "PI-HAARLEM:b1").await;
    assert!(
        b_after.iter().all(|(_, n)| *n == 0),
        "B is gone from every table once its case closed: {b_after:?}"
    );
    assert_eq!(
        monitor_rows(&stack).await,
        monitor_now,
        "the monitor's aggregates stay"
    );

    // The deletion logs count it, with no personal data: class, rule, count, time.
    let log = rcn::retention::log(&stack.env.config, 100).await.unwrap();
    let logged = |service: &str, class: &str| -> i64 {
        log.iter()
            .filter(|(s, e)| *s == service && e.class == class && e.run_at == later.now())
            .map(|(_, e)| e.removed)
            .sum()
    };
    assert_eq!(logged("intake", "notice"), 2);
    assert_eq!(logged("router", "notice"), 2);
    assert_eq!(logged("casework", "case"), 1);
    assert_eq!(logged("procesregie", "case"), 1);
    assert_eq!(logged("monitor", "access_log"), 1);
    assert_eq!(
        log.iter().filter(|(s, _)| *s == "casework").count(),
        12,
        "the three runs wrote a line per rule, the dry run none: {log:?}"
    );
    retention_log_answers_the_privacy_officer(&stack, day_later.now(), applied).await;
    let text = rcn::retention::describe_log(&log);
    assert!(
        !text.contains("a1") && !text.contains("111222333"),
        "{text}"
    );

    // And the streams have let the messages go, as their maximum age says.
    for def in [
        subjects.notices_stream(),
        subjects.routing_stream(),
        subjects.cases_stream(),
    ] {
        let name = def.name.clone();
        eventually(PATIENCE, &format!("{name} to be empty"), || {
            let (js, name) = (js.clone(), name.clone());
            async move {
                let mut s = js.get_stream(&name).await.ok()?;
                (s.info().await.ok()?.state.messages == 0).then_some(())
            }
        })
        .await;
    }
    stack.stop().await;
}

/// The ids of casework's events procesregie holds (to recognise a redelivery).
async fn applied_event_ids(stack: &TestStack) -> u64 {
    let n = stack
        .count("SELECT count(*) FROM procesregie.applied_events")
        .await;
    u64::try_from(n).expect("a count")
}

/// Each service answers its deletion log over `retention_log` to the privacy officer, with the
/// counts of the run at `at` (procesregie's with the `event_ids` it forgot); a municipal staff
/// member is refused.
async fn retention_log_answers_the_privacy_officer(
    stack: &TestStack,
    at: DateTime<Utc>,
    event_ids: u64,
) {
    use rcn_contracts::envelope::ApiReply;
    use rcn_contracts::identity::{Identity, Role};
    use rcn_contracts::retention::{RetentionLogReply, retention_log_subjects};

    let ask = |subject: String, who: Identity| async move {
        let body = b"{}".to_vec();
        let h = stack.env.signed(&who.to_header(), &subject, &body);
        let reply = stack
            .nats
            .request_with_headers(subject, h, body.into())
            .await
            .expect("an answer");
        serde_json::from_slice::<ApiReply<RetentionLogReply>>(&reply.payload)
            .expect("an envelope")
            .into_result()
    };
    let officer = Identity {
        user_id: "fg".into(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    };
    let anna = Identity {
        user_id: "anna".into(),
        role: Role::MunicipalStaff,
        gemeentecode: Some(rcn_contracts::Gemeentecode::parse("GM0392").expect("a code")),
    };
    let mut removed = Vec::new();
    for (service, subject) in retention_log_subjects(&stack.env.config.region.subjects()) {
        let reply = ask(subject.clone(), officer.clone())
            .await
            .unwrap_or_else(|p| panic!("{service}: {p:?}"));
        assert_eq!(reply.service, service);
        let at_run: i64 = reply
            .lines
            .iter()
            .filter(|l| l.run_at == at)
            .map(|l| l.removed)
            .sum();
        removed.push((service, at_run));
        let refused = ask(subject, anna.clone())
            .await
            .expect_err("staff may not read the deletion log");
        assert_eq!(refused.status, 403, "{service}");
    }
    assert_eq!(
        removed,
        [
            ("intake", 2),
            ("router", 2),
            ("casework", 1),
            (
                "procesregie",
                1 + i64::try_from(event_ids).expect("a count")
            ),
            ("monitor", 0)
        ]
    );
}
