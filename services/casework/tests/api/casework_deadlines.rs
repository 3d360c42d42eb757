//! Deadlines: due dates from the region's rules (working days and Dutch holidays where a rule
//! says so), and `due_soon` / `overdue` reminders exactly once per task and due date — across
//! restarts, with several instances, and with many scheduler rounds racing.

use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use rcn_casework::state::Casework;
use rcn_contracts::casework_events::{DeadlineKind, TaskDeadline};
use rcn_contracts::deadlines::DeadlineRules;
use rcn_contracts::notice::NoticeKind;
use rcn_contracts::{Condition, ConditionStatus};
use rcn_runtime::headers;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::casework_support::App;
use crate::helpers::{days_from_today, header, routed_notice, today};

fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

async fn due_dates(app: &App, case: uuid::Uuid) -> Vec<(String, Option<NaiveDate>)> {
    sqlx::query_as("SELECT condition, due_on FROM casework.condition_tasks WHERE case_id = $1 ORDER BY condition")
        .bind(case)
        .fetch_all(&app.db)
        .await
        .expect("due dates")
}

/// Reminders on CASES as (kind, condition, due date), after checking each carries its recorded id.
async fn reminders(app: &App, part: &str, n: usize) -> Vec<(DeadlineKind, Condition, NaiveDate)> {
    let events = app.wait_for_events(part, n).await;
    let mut out = Vec::new();
    for m in &events {
        let e: TaskDeadline = serde_json::from_slice(&m.payload).expect("a TaskDeadline");
        assert_eq!(
            header(m, headers::MSG_ID),
            Some(e.event_id.to_string().as_str())
        );
        let recorded: uuid::Uuid = sqlx::query_scalar(
            "SELECT event_id FROM casework.reminders WHERE case_id = $1 AND condition = $2 AND kind = $3 AND due_on = $4",
        )
        .bind(e.case_id)
        .bind(e.condition.as_str())
        .bind(e.kind.as_str())
        .bind(e.due_on)
        .fetch_one(&app.db)
        .await
        .expect("the reminder is recorded");
        assert_eq!(recorded, e.event_id);
        out.push((e.kind, e.condition, e.due_on));
    }
    out.sort_by_key(|(k, c, d)| (k.as_str(), *c, *d));
    out
}

#[tokio::test]
async fn a_region_counting_in_working_days_gets_deadlines_clear_of_holidays() {
    let mut app = App::spawn_with(|c| {
        c.scheduler_interval = Duration::from_secs(3600);
        c.deadlines = DeadlineRules::parse("id=0wd,housing=0wd,income=5wd").unwrap();
    })
    .await;
    // Koningsdag 2027 is Tuesday 27 April.
    let kings_day = app
        .open_case("n1", "GM0392", day("2027-04-27"), |_| {})
        .await;
    assert_eq!(
        due_dates(&app, kings_day).await,
        [
            ("care".into(), Some(day("2027-04-20"))),
            ("debts".into(), Some(day("2027-04-20"))),
            ("housing".into(), Some(day("2027-04-26"))),
            ("id".into(), Some(day("2027-04-26"))),
            ("income".into(), Some(day("2027-04-19"))),
        ]
    );
    // Released on Easter Monday 2027 (29 March): housing is due on Good Friday, a working day.
    let easter = app
        .open_case("n2", "GM0392", day("2027-03-29"), |_| {})
        .await;
    assert_eq!(
        due_dates(&app, easter).await[2],
        ("housing".into(), Some(day("2027-03-26")))
    );
    // Released on Tweede Kerstdag 2026 (Saturday): housing is due Thursday 24 December.
    let christmas = app
        .open_case("n3", "GM0392", day("2026-12-26"), |_| {})
        .await;
    assert_eq!(
        due_dates(&app, christmas).await[2],
        ("housing".into(), Some(day("2026-12-24")))
    );
    app.stop_all().await;
}

#[tokio::test]
async fn reminders_are_raised_once_per_task_and_due_date_across_restarts_and_instances() {
    let mut app = App::spawn_with(|c| {
        c.scheduler_interval = Duration::from_millis(100);
        c.due_soon_working_days = 10;
    })
    .await;
    // Release in 3 days. Example screening: housing needs action (due in 3 days: due soon),
    // income unknown and debts in progress (due 4 days ago: overdue), id and care arranged.
    let case = app
        .open_case("n1", "GM0392", days_from_today(3), |_| {})
        .await;
    let due_in_3 = days_from_today(3);
    let due_4_ago = today() - chrono::Days::new(4);
    let expected_overdue = vec![
        (DeadlineKind::Overdue, Condition::Income, due_4_ago),
        (DeadlineKind::Overdue, Condition::Debts, due_4_ago),
    ];
    let mut expected_overdue_sorted = expected_overdue.clone();
    expected_overdue_sorted.sort_by_key(|(k, c, d)| (k.as_str(), *c, *d));
    assert_eq!(
        reminders(&app, "task_overdue", 2).await,
        expected_overdue_sorted
    );
    assert_eq!(
        reminders(&app, "task_due_soon", 1).await,
        [(DeadlineKind::DueSoon, Condition::Housing, due_in_3)]
    );

    // Many more rounds, a restart, then three instances at once: nothing new.
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.stop_all().await;
    for _ in 0..3 {
        app.start_instance().await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.events("task_overdue").await.len(),
        2,
        "no overdue reminder twice"
    );
    assert_eq!(
        app.events("task_due_soon").await.len(),
        1,
        "no due-soon reminder twice"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM casework.reminders").await,
        3
    );

    // The release moves to 5 days from now: new due dates are new deadlines, reminded once more
    // (by whichever of the three instances gets there first).
    let moved = routed_notice("PI-HAARLEM:n2", "episode-n1", days_from_today(5), |n| {
        n.kind = NoticeKind::ReleaseDateChanged
    });
    assert_eq!(app.send_notice(&moved).await, case);
    let due_2_ago = today() - chrono::Days::new(2);
    app.wait_for_events("task_overdue", 4).await;
    app.wait_for_events("task_due_soon", 2).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let overdue = reminders(&app, "task_overdue", 4).await;
    assert_eq!(overdue.len(), 4, "{overdue:?}");
    assert!(
        overdue.contains(&(DeadlineKind::Overdue, Condition::Income, due_2_ago))
            && overdue.contains(&(DeadlineKind::Overdue, Condition::Debts, due_2_ago))
    );
    let due_soon = reminders(&app, "task_due_soon", 2).await;
    assert_eq!(due_soon.len(), 2, "{due_soon:?}");
    assert!(due_soon.contains(&(
        DeadlineKind::DueSoon,
        Condition::Housing,
        days_from_today(5)
    )));
    app.stop_all().await;
}

#[tokio::test]
async fn many_scheduler_rounds_racing_raise_each_reminder_exactly_once() {
    let mut app = App::spawn_with(|c| c.scheduler_interval = Duration::from_secs(3600)).await;
    for i in 0..20 {
        app.open_case(&format!("n{i}"), "GM0392", days_from_today(30 + i), |n| {
            n.conditions = Default::default()
        })
        .await;
    }
    // A scheduler of our own, on casework's schema, looking from a day when everything is late.
    let options = PgConnectOptions::from_str(app.env.config.database_url().unwrap())
        .unwrap()
        .options([("search_path", "casework")]);
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect_with(options)
        .await
        .unwrap();
    let cw = std::sync::Arc::new(Casework::new(pool, app.subjects.clone(), &app.settings));
    let when = days_from_today(60);
    let rounds = (0..10).map(|_| {
        let cw = cw.clone();
        tokio::spawn(async move { rcn_casework::scheduler::tick(&cw, when).await.unwrap() })
    });
    let raised: usize = futures::future::join_all(rounds)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .sum();
    assert_eq!(raised, 100, "20 cases × 5 open tasks, each reminded once");
    assert_eq!(
        app.count("SELECT count(*) FROM casework.reminders WHERE kind = 'overdue'")
            .await,
        100
    );
    assert_eq!(
        app.count("SELECT count(*) FROM casework.outbox").await
            + app.events("task_overdue").await.len() as i64,
        100
    );
    app.wait_for_events("task_overdue", 100).await;
    assert_eq!(app.events("task_overdue").await.len(), 100);
    // Done tasks and closed cases are not reminded of.
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM casework.condition_tasks")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(statuses, [ConditionStatus::Unknown.as_str()]);
    app.stop_all().await;
}
