//! The inbox and the scheduler on thousands of synthetic cases (issue 10): the page keeps the
//! order the inbox always had, whichever way spoed is reckoned; a large inbox is counted up to a
//! cap and says so; what the tasks copy from their case follows every change of the case; and
//! the scheduler closes what is done without looking at every open case.

use std::str::FromStr;

use chrono::{Days, NaiveDate};
use rcn_casework::state::Casework;
use rcn_contracts::casework_api::{InboxPage, InboxQuery, InboxScope};
use rcn_contracts::identity::Identity;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

use rcn_runtime::testing::eventually;

use crate::casework_support::{App, PATIENCE, rcn, staff};
use crate::helpers::{days_from_today, gm, today};

/// Casework of our own on the app's schema, with a pool of its own.
async fn casework(app: &App) -> Casework {
    let options = PgConnectOptions::from_str(app.env.config.database_url().expect("a database"))
        .expect("a PostgreSQL URL")
        .options([("search_path", "casework")]);
    let pool: PgPool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .expect("PostgreSQL");
    Casework::new(pool, app.subjects.clone(), &app.settings)
}

/// Casework of our own on the app's schema, and `cases` synthetic cases in it (a tenth open, 40 %
/// of them in Haarlem, the rest in Velsen).
async fn seeded(app: &App, cases: u64) -> Casework {
    let cw = casework(app).await;
    // Casework migrates its schema as it starts.
    eventually(PATIENCE, "casework's tables", || async {
        sqlx::query("SELECT 1 FROM spoed_horizon")
            .execute(&cw.pool)
            .await
            .ok()
    })
    .await;
    rcn_casework::seed::synthetic_cases(
        &cw.pool,
        cases,
        &[gm("GM0392"), gm("GM0453")],
        &cw.conditions,
        today(),
        |_| {},
    )
    .await
    .expect("synthetic cases");
    cw
}

/// The first `limit` open tasks in the inbox's order as of `day`, reckoned from `cases` as the
/// inbox always did (spoed, urgent, due date, release date), for `where_` (on t and c).
async fn expected(app: &App, day: NaiveDate, where_: &str, limit: i64) -> Vec<(Uuid, String)> {
    sqlx::query_as(&format!(
        "SELECT t.case_id, t.condition
         FROM casework.condition_tasks t JOIN casework.cases c ON c.case_id = t.case_id
         WHERE c.status = 'open' AND t.status IN ('unknown', 'needs_action', 'in_progress') AND {where_}
         ORDER BY (c.spoed OR c.released_on IS NOT NULL OR COALESCE(c.expected_release_on <= $1 + 7, false)) DESC,
                  t.urgent DESC, t.due_on ASC NULLS LAST, c.expected_release_on ASC NULLS LAST, t.case_id, t.condition
         LIMIT $2"
    ))
    .bind(day)
    .bind(limit)
    .fetch_all(&app.db)
    .await
    .expect("the expected order")
}

async fn page(cw: &Casework, who: &Identity, q: InboxQuery, day: NaiveDate) -> InboxPage {
    rcn_casework::inbox::inbox(cw, who, &q, day)
        .await
        .expect("an inbox page")
}

fn keys(page: &InboxPage) -> Vec<(Uuid, String)> {
    page.rows
        .iter()
        .map(|r| (r.case_id, r.condition.as_str().to_owned()))
        .collect()
}

fn region_page(n: u32) -> InboxQuery {
    InboxQuery {
        scope: InboxScope::All,
        page: Some(n),
        page_size: Some(100),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_large_inbox_is_counted_up_to_a_cap_and_says_there_are_more() {
    let app = App::spawn().await;
    let cw = seeded(&app, 6000).await;
    let all = page(&cw, &rcn("r"), region_page(1), today()).await;
    assert_eq!(all.rows.len(), 100);
    assert_eq!(
        (all.total, all.total_is_lower_bound),
        (rcn_casework::inbox::COUNT_CAP as u64, true),
        "3000 open tasks: at least 1000"
    );
    // A small inbox is still counted exactly.
    let holder = rcn_casework::seed::holder(&gm("GM0392"), 3);
    let mine = page(
        &cw,
        &staff(&holder, "GM0392"),
        InboxQuery::default(),
        today(),
    )
    .await;
    let held = app
        .count(&format!(
            "SELECT count(*) FROM casework.condition_tasks t JOIN casework.cases c USING (case_id)
             WHERE c.status = 'open' AND t.status IN ('unknown', 'needs_action', 'in_progress')
               AND t.claimed_by = '{holder}'"
        ))
        .await;
    assert!(held > 0);
    assert_eq!(
        (mine.total, mine.total_is_lower_bound),
        (held as u64, false)
    );
}

#[tokio::test]
async fn the_inbox_keeps_its_order_whether_spoed_is_stored_or_reckoned() {
    let app = App::spawn().await;
    let cw = seeded(&app, 3000).await;
    // Today: spoed as the triggers stored it (the horizon of today); page 1 and page 3.
    for n in [1, 3] {
        let got = page(&cw, &rcn("r"), region_page(n), today()).await;
        let want = expected(&app, today(), "true", i64::from(n) * 100).await;
        assert_eq!(keys(&got), want[(n as usize - 1) * 100..], "page {n} today");
        let spoed = app
            .count(&format!(
                "SELECT count(*) FROM casework.cases c WHERE c.status = 'open'
                 AND (c.spoed OR c.released_on IS NOT NULL OR c.expected_release_on <= '{}'::date + 7)
                 AND c.case_id = ANY(ARRAY[{}]::uuid[])",
                today(),
                got.rows
                    .iter()
                    .map(|r| format!("'{}'", r.case_id))
                    .collect::<Vec<_>>()
                    .join(",")
            ))
            .await;
        assert_eq!(
            spoed as usize,
            got.rows
                .iter()
                .filter(|r| r.spoed)
                .map(|r| r.case_id)
                .collect::<std::collections::HashSet<_>>()
                .len(),
            "the spoed flag shown is the case's"
        );
    }
    // A month on, before the scheduler looked: spoed reckoned from the release dates.
    let later = today() + Days::new(30);
    let staff_q = InboxQuery {
        scope: InboxScope::Unclaimed,
        page_size: Some(100),
        ..Default::default()
    };
    let vera = staff("vera", "GM0453");
    let velsen = "c.gemeentecode = 'GM0453' AND t.claimed_by IS NULL";
    let got = page(&cw, &vera, staff_q.clone(), later).await;
    assert_eq!(keys(&got), expected(&app, later, velsen, 100).await);
    // The scheduler looks that day: the stored spoed moves to it, and the order is the same.
    rcn_casework::scheduler::tick(&cw, later)
        .await
        .expect("a tick");
    let got = page(&cw, &vera, staff_q.clone(), later).await;
    assert_eq!(keys(&got), expected(&app, later, velsen, 100).await);
    // And back to today (a clock set back): tasks stop being spoed again.
    rcn_casework::scheduler::tick(&cw, today())
        .await
        .expect("a tick");
    let got = page(&cw, &vera, staff_q, today()).await;
    assert_eq!(keys(&got), expected(&app, today(), velsen, 100).await);
}

#[tokio::test]
async fn whatever_changes_a_case_its_tasks_follow_in_the_inbox() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(60), |_| {})
        .await;
    let inbox = |who: Identity| {
        let app = &app;
        async move {
            app.call::<_, InboxPage>(
                &who,
                "inbox",
                &InboxQuery {
                    scope: InboxScope::All,
                    ..Default::default()
                },
            )
            .await
            .expect("inbox")
        }
    };
    // The example notice's screening leaves three conditions open.
    assert_eq!(inbox(staff("anna", "GM0392")).await.total, 3);
    assert!(
        inbox(staff("anna", "GM0392"))
            .await
            .rows
            .iter()
            .all(|r| !r.spoed)
    );
    // Any code path that updates the case (re-routing, a new release date, closing, reopening)
    // reaches the tasks through the triggers; here the plainest UPDATE stands in for them.
    let update = |sql: String| {
        let db = app.db.clone();
        async move { sqlx::query(&sql).bind(case).execute(&db).await }
    };
    update(format!(
        "UPDATE casework.cases SET gemeentecode = 'GM0453', expected_release_on = '{}' WHERE case_id = $1",
        days_from_today(2)
    ))
    .await
    .expect("the case changes");
    assert_eq!(inbox(staff("anna", "GM0392")).await.total, 0);
    let velsen = inbox(staff("vera", "GM0453")).await;
    assert_eq!(velsen.total, 3);
    assert!(
        velsen
            .rows
            .iter()
            .all(|r| r.spoed && r.expected_release_on == Some(days_from_today(2)))
    );
    update("UPDATE casework.cases SET status = 'closed' WHERE case_id = $1".into())
        .await
        .expect("a tick");
    assert_eq!(inbox(staff("vera", "GM0453")).await.total, 0);
    update(format!(
        "UPDATE casework.cases SET status = 'open', expected_release_on = '{}' WHERE case_id = $1",
        days_from_today(90)
    ))
    .await
    .expect("the case changes");
    let reopened = inbox(staff("vera", "GM0453")).await;
    assert_eq!(reopened.total, 3);
    assert!(reopened.rows.iter().all(|r| !r.spoed));
    update(format!(
        "UPDATE casework.cases SET released_on = '{}' WHERE case_id = $1",
        today()
    ))
    .await
    .expect("the case changes");
    assert!(
        inbox(staff("vera", "GM0453"))
            .await
            .rows
            .iter()
            .all(|r| r.spoed)
    );
    app.stop_all().await;
}

#[tokio::test]
async fn the_scheduler_closes_done_released_cases_and_leaves_the_rest() {
    let app = App::spawn().await;
    let cw = seeded(&app, 3000).await;
    let open_before = app
        .count("SELECT count(*) FROM casework.cases WHERE status = 'open'")
        .await;
    // Synthetic cases with every task done wait for their release date (1 to 300 days ahead).
    let waiting = app
        .count(
            "SELECT count(*) FROM casework.cases c WHERE c.status = 'open'
             AND NOT EXISTS (SELECT 1 FROM casework.condition_tasks t WHERE t.case_id = c.case_id
                             AND t.status IN ('unknown', 'needs_action', 'in_progress'))",
        )
        .await;
    assert!(waiting > 0);
    rcn_casework::scheduler::tick(&cw, today())
        .await
        .expect("a tick");
    assert_eq!(
        app.count("SELECT count(*) FROM casework.cases WHERE status = 'open'")
            .await,
        open_before,
        "nobody released yet"
    );
    // A year on, every done case is released: all of them close, none with open work.
    rcn_casework::scheduler::tick(&cw, today() + Days::new(365))
        .await
        .expect("a tick");
    assert_eq!(
        app.count("SELECT count(*) FROM casework.cases WHERE status = 'open'")
            .await,
        open_before - waiting
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM casework.cases c WHERE c.status = 'closed' AND c.closed_by = 'system'
             AND EXISTS (SELECT 1 FROM casework.condition_tasks t WHERE t.case_id = c.case_id
                         AND t.status IN ('unknown', 'needs_action', 'in_progress'))"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn done_tasks_show_spoed_as_the_calendar_says_after_the_scheduler_moved_open_work() {
    let mut app = App::spawn().await;
    let cw = seeded(&app, 0).await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(60), |_| {})
        .await;
    // Fifty-five days on, the release is within a week: the scheduler marks the open tasks spoed.
    let later = today() + Days::new(55);
    rcn_casework::scheduler::tick(&cw, later)
        .await
        .expect("a tick");
    let done = page(
        &cw,
        &rcn("r"),
        InboxQuery {
            scope: InboxScope::All,
            statuses: vec![rcn_contracts::ConditionStatus::Arranged],
            ..Default::default()
        },
        later,
    )
    .await;
    assert!(
        !done.rows.is_empty(),
        "the screening arranged some conditions"
    );
    assert!(
        done.rows.iter().all(|r| r.case_id == case && r.spoed),
        "done tasks of a case released within a week are spoed too: {:?}",
        done.rows.iter().map(|r| r.spoed).collect::<Vec<_>>()
    );
    let open = page(&cw, &rcn("r"), region_page(1), later).await;
    assert!(open.rows.iter().all(|r| r.spoed));
    app.stop_all().await;
}

/// Rows read by sequential scans of casework's task table so far (every backend's, once they end).
async fn task_rows_scanned(app: &App) -> i64 {
    app.count(
        "SELECT COALESCE(seq_tup_read, 0) FROM pg_stat_user_tables
         WHERE schemaname = 'casework' AND relname = 'condition_tasks'",
    )
    .await
}

#[tokio::test]
async fn no_inbox_variant_and_no_tick_reads_the_whole_task_table() {
    let app = App::spawn().await;
    seeded(&app, 6000).await.pool.close().await;
    // The seeding backends report as they end.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let cw = casework(&app).await;
    let before = task_rows_scanned(&app).await;
    let anna = staff(&rcn_casework::seed::holder(&gm("GM0392"), 1), "GM0392");
    let all = |q: InboxQuery| InboxQuery {
        scope: InboxScope::All,
        ..q
    };
    for (who, q) in [
        (anna.clone(), InboxQuery::default()),
        (
            anna.clone(),
            InboxQuery {
                scope: InboxScope::Unclaimed,
                ..Default::default()
            },
        ),
        (
            anna.clone(),
            all(InboxQuery {
                spoed: Some(true),
                ..Default::default()
            }),
        ),
        (
            anna.clone(),
            all(InboxQuery {
                overdue: Some(true),
                page: Some(3),
                ..Default::default()
            }),
        ),
        (rcn("r"), all(InboxQuery::default())),
        (
            rcn("r"),
            InboxQuery {
                scope: InboxScope::Unclaimed,
                spoed: Some(false),
                ..Default::default()
            },
        ),
    ] {
        page(&cw, &who, q, today()).await;
    }
    rcn_casework::scheduler::tick(&cw, today())
        .await
        .expect("a tick");
    // A backend reports what it read when it ends.
    cw.pool.close().await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let after = task_rows_scanned(&app).await;
    assert_eq!(
        after - before,
        0,
        "rows of condition_tasks read by sequential scans (30 000 tasks, 3 000 open)"
    );
}
