//! An episode's notices out of order, and its case leaving and coming back (issue 10): a
//! cancellation that arrives first opens no work and an older notice after it opens none either;
//! a newer one reopens; a case moved to another municipality is announced there with its
//! reminders; a person routed out of the region and back again gets the same case, reopened.

use std::str::FromStr;
use std::time::Duration;

use async_nats::HeaderMap;
use chrono::{DateTime, Utc};
use rcn_casework::state::Casework;
use rcn_contracts::Condition;
use rcn_contracts::casework_api::{InboxPage, TaskView};
use rcn_contracts::casework_events::TaskDeadline;
use rcn_contracts::events::{CaseOpened, NoticeRouted, RoutingOutcome};
use rcn_contracts::notice::NoticeKind;
use rcn_runtime::headers;
use rcn_runtime::testing::eventually;
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

use crate::casework_support::{App, PATIENCE, one, staff};
use crate::helpers::{days_from_today, gm, routed_notice, today};

/// A notice of `episode` sent `hours` after the example's `sent_at`, routed to `gemeente`.
fn notice(key: &str, episode: &str, kind: NoticeKind, hours: i64, gemeente: &str) -> NoticeRouted {
    let sent: DateTime<Utc> = "2026-11-20T09:30:00Z".parse().expect("readable");
    let mut routed = routed_notice(
        &format!("PI-HAARLEM:{key}"),
        episode,
        days_from_today(30),
        |n| {
            n.kind = kind;
            n.sent_at = sent + chrono::Duration::hours(hours);
        },
    );
    routed.outcome = RoutingOutcome::Routed {
        gemeentecode: gm(gemeente),
    };
    routed
}

/// (status, closed_reason, gemeentecode) of a case.
async fn case_state(app: &App, case: Uuid) -> (String, Option<String>, String) {
    sqlx::query_as(
        "SELECT status, closed_reason, gemeentecode FROM casework.cases WHERE case_id = $1",
    )
    .bind(case)
    .fetch_one(&app.db)
    .await
    .expect("readable")
}

async fn open_tasks(app: &App, case: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM casework.condition_tasks
         WHERE case_id = $1 AND status IN ('unknown', 'needs_action', 'in_progress')",
    )
    .bind(case)
    .fetch_one(&app.db)
    .await
    .expect("readable")
}

/// How many tasks of `case` the inbox of a colleague of `gemeente` shows.
async fn in_inbox(app: &App, gemeente: &str, case: Uuid) -> usize {
    let page: InboxPage = app
        .call(
            &staff("inbox-reader", gemeente),
            "inbox",
            &json!({"scope": "all"}),
        )
        .await
        .expect("readable");
    page.rows.iter().filter(|r| r.case_id == case).count()
}

/// The `CaseOpened` events on CASES, with the municipality their subject names.
async fn openings(app: &App, n: usize) -> Vec<(String, CaseOpened)> {
    app.wait_for_events("case_opened", n)
        .await
        .into_iter()
        .map(|m| {
            let to = m.subject.rsplit('.').next().expect("readable").to_owned();
            (to, serde_json::from_slice(&m.payload).expect("readable"))
        })
        .collect()
}

#[tokio::test]
async fn a_cancellation_that_arrives_first_opens_no_work_and_only_a_newer_notice_does() {
    let mut app = App::spawn().await;
    let (planned, cancelled, restarted) = (
        notice("n1", "episode-e", NoticeKind::ReleasePlanned, 0, "GM0392"),
        notice("n2", "episode-e", NoticeKind::Cancelled, 1, "GM0392"),
        notice("n3", "episode-e", NoticeKind::DetentionStarted, 2, "GM0392"),
    );
    // The cancellation overtakes the release plan sent an hour before it.
    let case = app.send_notice(&cancelled).await;
    assert_eq!(
        case_state(&app, case).await,
        ("closed".into(), Some("cancelled".into()), "GM0392".into())
    );
    assert_eq!(open_tasks(&app, case).await, 0, "no work was opened");
    assert_eq!(
        app.send_notice(&planned).await,
        case,
        "the episode's one case"
    );
    assert_eq!(
        case_state(&app, case).await.0,
        "closed",
        "the older plan does not undo the cancellation"
    );
    assert_eq!(open_tasks(&app, case).await, 0);
    assert_eq!(in_inbox(&app, "GM0392", case).await, 0);
    assert!(app.events("case_opened").await.is_empty());

    // The institution's newer word: the detention goes on after all. Now the work opens.
    assert_eq!(app.send_notice(&restarted).await, case);
    assert_eq!(
        case_state(&app, case).await,
        ("open".into(), None, "GM0392".into())
    );
    // Example screening: housing, income and debts open; id and care arranged.
    assert_eq!(open_tasks(&app, case).await, 3);
    assert_eq!(in_inbox(&app, "GM0392", case).await, 3);
    let opened = openings(&app, 1).await;
    assert_eq!(opened.len(), 1);
    assert_eq!(
        (opened[0].0.as_str(), opened[0].1.notice_key.as_str()),
        ("GM0392", "PI-HAARLEM:n3")
    );
    let history: Vec<String> = sqlx::query_scalar(
        "SELECT change FROM casework.case_history WHERE case_id = $1 ORDER BY id",
    )
    .bind(case)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(history, ["closed", "reopened"]);
    app.stop_all().await;
}

#[tokio::test]
async fn a_cancellation_sent_after_the_plan_still_closes_the_case_whatever_arrives_later() {
    let mut app = App::spawn().await;
    let case = app
        .send_notice(&notice(
            "n1",
            "episode-e",
            NoticeKind::ReleasePlanned,
            0,
            "GM0392",
        ))
        .await;
    app.send_notice(&notice(
        "n3",
        "episode-e",
        NoticeKind::Cancelled,
        2,
        "GM0392",
    ))
    .await;
    // A change sent between the two arrives last: it changes nothing.
    app.send_notice(&notice("n2", "episode-e", NoticeKind::Update, 1, "GM0453"))
        .await;
    assert_eq!(
        case_state(&app, case).await,
        ("closed".into(), Some("cancelled".into()), "GM0392".into())
    );
    app.stop_all().await;
}

#[tokio::test]
async fn a_case_moved_to_another_municipality_is_announced_there_with_its_reminders() {
    let mut app = App::spawn_with(|c| {
        c.scheduler_interval = Duration::from_secs(3600);
        c.due_soon_working_days = 10;
    })
    .await;
    // Release in 3 days. Example screening: housing due in 3 days (due soon), income and debts
    // due 4 days ago (overdue); id and care arranged.
    let mut first = notice("n1", "episode-m", NoticeKind::ReleasePlanned, 0, "GM0392");
    first.notice.detention.expected_release_on = Some(days_from_today(3));
    let case = app.send_notice(&first).await;
    let options = PgConnectOptions::from_str(app.env.config.database_url().unwrap())
        .unwrap()
        .options([("search_path", "casework")]);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let cw = Casework::new(pool, app.subjects.clone(), &app.settings);
    assert_eq!(
        rcn_casework::scheduler::tick(&cw, today()).await.unwrap(),
        3
    );
    let anna = staff("anna", "GM0392");
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Housing))
        .await
        .unwrap();

    // The person registered in Velsen.
    let mut moved = notice("n2", "episode-m", NoticeKind::Update, 1, "GM0453");
    moved.notice.detention.expected_release_on = Some(days_from_today(3));
    app.send_notice(&moved).await;
    let opened = openings(&app, 2).await;
    let velsen: Vec<&CaseOpened> = opened
        .iter()
        .filter(|(to, _)| to == "GM0453")
        .map(|(_, e)| e)
        .collect();
    assert_eq!(
        velsen.len(),
        1,
        "Velsen is told it has the case: {opened:?}"
    );
    assert_eq!(
        (velsen[0].case_id, velsen[0].expected_release_on),
        (case, Some(days_from_today(3)))
    );
    assert_eq!(velsen[0].conditions.len(), 5);
    assert_eq!(in_inbox(&app, "GM0453", case).await, 3);

    // The next look raises, for Velsen, the reminders Haarlem got.
    assert_eq!(
        rcn_casework::scheduler::tick(&cw, today()).await.unwrap(),
        3
    );
    let mut velsen_reminders: Vec<(String, Condition)> = app
        .wait_for_events("task_", 6)
        .await
        .into_iter()
        .filter(|m| m.subject.ends_with("GM0453") && !m.subject.contains("task_assigned"))
        .map(|m| {
            let e: TaskDeadline = serde_json::from_slice(&m.payload).unwrap();
            assert_eq!(e.gemeentecode.as_str(), "GM0453");
            (e.kind.as_str().to_owned(), e.condition)
        })
        .collect();
    velsen_reminders.sort();
    assert_eq!(
        velsen_reminders,
        [
            ("due_soon".to_owned(), Condition::Housing),
            ("overdue".to_owned(), Condition::Income),
            ("overdue".to_owned(), Condition::Debts),
        ]
    );
    assert_eq!(
        rcn_casework::scheduler::tick(&cw, today()).await.unwrap(),
        0,
        "still once per municipality"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn a_person_routed_out_of_the_region_and_back_gets_the_same_case_reopened() {
    let mut app = App::spawn().await;
    let case = app
        .send_notice(&notice(
            "n1",
            "episode-b",
            NoticeKind::ReleasePlanned,
            0,
            "GM0392",
        ))
        .await;
    let (anna, vera) = (staff("anna", "GM0392"), staff("vera", "GM0453"));
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Housing))
        .await
        .unwrap();

    // Registered in Amsterdam, outside the region: the case closes.
    let mut away = notice("n2", "episode-b", NoticeKind::Update, 1, "GM0392");
    away.outcome = RoutingOutcome::OutOfRegion {
        gemeentecode: gm("GM0363"),
    };
    let mut h = HeaderMap::new();
    h.insert(headers::MSG_ID, "out-of-region-n2");
    app.js
        .publish_with_headers(
            app.subjects.out_of_region(&gm("GM0363")),
            h,
            serde_json::to_vec(&away).unwrap().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    eventually(PATIENCE, "the case to close", || async {
        (case_state(&app, case).await.0 == "closed").then_some(())
    })
    .await;
    assert_eq!(in_inbox(&app, "GM0392", case).await, 0);

    // Then registered in Velsen, back in the region: the same case, open again, there.
    let back = notice("n3", "episode-b", NoticeKind::Update, 2, "GM0453");
    assert_eq!(app.send_notice(&back).await, case);
    assert_eq!(
        case_state(&app, case).await,
        ("open".into(), None, "GM0453".into())
    );
    assert_eq!(app.count("SELECT count(*) FROM casework.cases").await, 1);
    assert_eq!(in_inbox(&app, "GM0453", case).await, 3);
    assert_eq!(in_inbox(&app, "GM0392", case).await, 0);
    let opened = openings(&app, 2).await;
    assert_eq!(
        opened
            .iter()
            .map(|(to, e)| (to.as_str(), e.case_id))
            .collect::<Vec<_>>(),
        [("GM0392", case), ("GM0453", case)]
    );
    // The history is kept; Anna's claim ended with the closure.
    let housing: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT change, from_holder, to_holder FROM casework.task_history
         WHERE case_id = $1 AND condition = 'housing' ORDER BY id",
    )
    .bind(case)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        housing,
        [
            ("opened".to_owned(), None, None),
            ("claimed".to_owned(), None, Some("anna".to_owned())),
            ("lapsed".to_owned(), Some("anna".to_owned()), None),
        ]
    );
    let changes: Vec<String> = sqlx::query_scalar(
        "SELECT change FROM casework.case_history WHERE case_id = $1 ORDER BY id",
    )
    .bind(case)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(changes, ["closed", "reopened"]);
    // Velsen works it.
    let claimed: TaskView = app
        .call(&vera, "claim", &one(case, Condition::Housing))
        .await
        .unwrap();
    assert_eq!(claimed.claimed_by.as_deref(), Some("vera"));
    app.stop_all().await;
}
