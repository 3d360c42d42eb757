//! When the municipality's part in a case ends (issue 16): a person moving out of the region, an
//! institution cancelling its notices, and a move to another municipality of the region. The old
//! municipality's staff lose the case — the case page and the task history answer `not-found`,
//! the inbox lists none of its tasks — while the RCN keeps it and, after a move, the new
//! municipality gains it. A closure starts the retention clock: the job removes the case after
//! `RCN_RETENTION_CASE_YEARS` and not a day before; a moved case stays open, so it stays.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use chrono::{DateTime, Months, Utc};
use rcn_contracts::Condition;
use rcn_contracts::casework_api::{
    CaseDetail, CaseStatus, CloseReason, ErrorCode, InboxPage, TaskHistory, TaskView,
};
use rcn_contracts::events::{NoticeRouted, RoutingOutcome};
use rcn_contracts::identity::Identity;
use rcn_contracts::notice::NoticeKind;
use rcn_contracts::retention::RecordClass;
use rcn_runtime::retention::{ManualClock, Removed};
use serde_json::json;
use uuid::Uuid;

use crate::casework_support::{App, CaseworkProblem, PATIENCE, one, rcn, staff};
use crate::helpers::{days_from_today, gm, routed_notice};

/// A later notice of episode `episode-n1`, sent a minute after the first.
fn later(key: &str, kind: NoticeKind) -> NoticeRouted {
    routed_notice(
        &format!("PI-HAARLEM:{key}"),
        "episode-n1",
        days_from_today(30),
        |n| {
            n.kind = kind;
            n.sent_at += chrono::Duration::minutes(1);
        },
    )
}

/// The inbox total of `who` in `scope`.
async fn inbox_total(app: &App, who: &Identity, scope: &str) -> u64 {
    let page: InboxPage = app
        .call(who, "inbox", &json!({"scope": scope}))
        .await
        .unwrap();
    page.total
}

/// What `who` hears when asking for the case page and the housing task's history.
async fn reads(app: &App, who: &Identity, case: Uuid) -> (Option<ErrorCode>, Option<ErrorCode>) {
    let page = app
        .call::<_, CaseDetail>(who, "case", &json!({"case_id": case}))
        .await
        .err()
        .map(|e| e.code());
    let history = app
        .call::<_, TaskHistory>(who, "task_history", &one(case, Condition::Housing))
        .await
        .err()
        .map(|e| e.code());
    (page, history)
}

/// Haarlem's case with the housing task claimed by anna, as staff see it before the change.
async fn haarlem_case_claimed_by_anna(app: &mut App) -> Uuid {
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let anna = staff("anna", "GM0392");
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Housing))
        .await
        .unwrap();
    assert_eq!(reads(app, &anna, case).await, (None, None));
    assert_eq!(inbox_total(app, &anna, "mine").await, 1);
    assert!(inbox_total(app, &anna, "all").await > 0);
    case
}

/// Waits until the case is closed and says why and when.
async fn closed(app: &App, case: Uuid) -> (String, DateTime<Utc>) {
    rcn_runtime::testing::eventually(PATIENCE, "the case to close", || async {
        sqlx::query_as::<_, (String, Option<String>, Option<DateTime<Utc>>)>(
            "SELECT status, closed_reason, closed_at FROM casework.cases WHERE case_id = $1",
        )
        .bind(case)
        .fetch_one(&app.db)
        .await
        .ok()
        .and_then(|(status, reason, at)| (status == "closed").then_some((reason?, at?)))
    })
    .await
}

/// The case-class count of one run of the retention job.
fn cases_removed(report: &[Removed]) -> u64 {
    report
        .iter()
        .filter(|r| r.class == RecordClass::Case)
        .map(|r| r.count)
        .sum()
}

/// Runs the retention job at `months` after `from` and says how many cases it removed.
async fn retention_after(app: &App, from: DateTime<Utc>, months: u32) -> u64 {
    let at = from.checked_add_months(Months::new(months)).unwrap();
    let job = rcn_casework::retention_job(&app.env.config)
        .await
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(at)));
    let removed = cases_removed(&job.run_once().await.unwrap());
    job.pool.close().await;
    removed
}

async fn case_rows(app: &App, case: Uuid) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM casework.cases WHERE case_id = '{case}'"
    ))
    .await
}

/// The closure the retention clock counts from: kept 23 months on, removed 25 months on (the
/// default is 2 years), with its tasks.
async fn the_closure_starts_the_retention_clock(app: &App, case: Uuid, closed_at: DateTime<Utc>) {
    assert_eq!(retention_after(app, closed_at, 23).await, 0, "not before");
    assert_eq!(case_rows(app, case).await, 1);
    assert_eq!(retention_after(app, closed_at, 25).await, 1);
    assert_eq!(case_rows(app, case).await, 0, "gone after its years");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM casework.condition_tasks WHERE case_id = '{case}'"
        ))
        .await,
        0
    );
}

/// The old municipality's staff lose every read of the case; the RCN keeps it, closed.
async fn haarlem_no_longer_sees_it(app: &App, case: Uuid, reason: CloseReason) {
    let anna = staff("anna", "GM0392");
    let not_found = Some(ErrorCode::NotFound);
    assert_eq!(reads(app, &anna, case).await, (not_found, not_found));
    assert_eq!(
        reads(app, &staff("bert", "GM0392"), case).await,
        (not_found, not_found),
        "a colleague who never held a task neither"
    );
    assert_eq!(inbox_total(app, &anna, "mine").await, 0);
    assert_eq!(inbox_total(app, &anna, "all").await, 0);
    let e = app
        .call::<_, serde_json::Value>(
            &anna,
            "close_case",
            &json!({"case_id": case, "reason": "duplicate"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "not even 'already closed'");
    let seen: CaseDetail = app
        .call(&rcn("rita"), "case", &json!({"case_id": case}))
        .await
        .unwrap();
    assert_eq!(
        (seen.status, seen.closed_reason),
        (CaseStatus::Closed, Some(reason))
    );
}

#[tokio::test]
async fn a_person_moving_out_of_the_region_closes_the_case_for_haarlem_and_starts_its_retention_clock()
 {
    let mut app = App::spawn().await;
    let case = haarlem_case_claimed_by_anna(&mut app).await;

    // The router sends a later notice out of the region (Amsterdam): casework's
    // out-of-region consumer closes the case.
    let mut away = later("n2", NoticeKind::Update);
    away.outcome = RoutingOutcome::OutOfRegion {
        gemeentecode: gm("GM0363"),
    };
    away.reason = "BRP registration Amsterdam (GM0363) is outside the region".into();
    let ack = app
        .js
        .publish(
            app.subjects.out_of_region(&gm("GM0363")),
            serde_json::to_vec(&away).unwrap().into(),
        )
        .await
        .unwrap();
    ack.await.unwrap();
    let (reason, closed_at) = closed(&app, case).await;
    assert_eq!(reason, "moved_out_of_region");

    haarlem_no_longer_sees_it(&app, case, CloseReason::MovedOutOfRegion).await;
    the_closure_starts_the_retention_clock(&app, case, closed_at).await;
    app.stop_all().await;
}

#[tokio::test]
async fn a_cancelling_notice_closes_the_case_for_haarlem_and_starts_its_retention_clock() {
    let mut app = App::spawn().await;
    let case = haarlem_case_claimed_by_anna(&mut app).await;

    app.send_notice(&later("n2", NoticeKind::Cancelled)).await;
    let (reason, closed_at) = closed(&app, case).await;
    assert_eq!(reason, "cancelled");

    haarlem_no_longer_sees_it(&app, case, CloseReason::Cancelled).await;
    the_closure_starts_the_retention_clock(&app, case, closed_at).await;
    app.stop_all().await;
}

#[tokio::test]
async fn a_case_closed_as_completed_stays_haarlem_s_own_record_until_retention() {
    let mut app = App::spawn().await;
    let case = haarlem_case_claimed_by_anna(&mut app).await;
    let anna = staff("anna", "GM0392");
    let _: serde_json::Value = app
        .call(
            &anna,
            "close_case",
            &json!({"case_id": case, "reason": "completed"}),
        )
        .await
        .unwrap();
    let (_, closed_at) = closed(&app, case).await;
    // Only the closures that end the municipality's part take the case away.
    assert_eq!(reads(&app, &anna, case).await, (None, None));
    assert_eq!(inbox_total(&app, &anna, "all").await, 0, "no open work");
    the_closure_starts_the_retention_clock(&app, case, closed_at).await;
    app.stop_all().await;
}

#[tokio::test]
async fn a_case_moved_to_velsen_leaves_haarlem_reaches_velsen_and_keeps_no_retention_clock() {
    let mut app = App::spawn().await;
    let case = haarlem_case_claimed_by_anna(&mut app).await;
    let open_tasks = inbox_total(&app, &staff("anna", "GM0392"), "all").await;
    let vera = staff("vera", "GM0453");
    assert_eq!(
        reads(&app, &vera, case).await,
        (Some(ErrorCode::NotFound), Some(ErrorCode::NotFound)),
        "Velsen does not see Haarlem's case"
    );

    let mut moved = later("n2", NoticeKind::Update);
    moved.outcome = RoutingOutcome::Routed {
        gemeentecode: gm("GM0453"),
    };
    app.send_notice(&moved).await;

    let anna = staff("anna", "GM0392");
    let not_found = Some(ErrorCode::NotFound);
    assert_eq!(reads(&app, &anna, case).await, (not_found, not_found));
    assert_eq!(
        inbox_total(&app, &anna, "mine").await,
        0,
        "the claim lapsed"
    );
    assert_eq!(inbox_total(&app, &anna, "all").await, 0);
    // Velsen has it now: the page, the history (with Haarlem's lapsed claim) and every open task.
    assert_eq!(reads(&app, &vera, case).await, (None, None));
    let history: TaskHistory = app
        .call(&vera, "task_history", &one(case, Condition::Housing))
        .await
        .unwrap();
    assert!(
        history.entries.iter().any(|e| e.change == "lapsed"),
        "{history:?}"
    );
    assert_eq!(inbox_total(&app, &vera, "all").await, open_tasks);
    assert_eq!(inbox_total(&app, &vera, "unclaimed").await, open_tasks);
    let (gemeente, status, closed_at): (String, String, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT gemeentecode, status, closed_at FROM casework.cases WHERE case_id = $1",
    )
    .bind(case)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((gemeente.as_str(), status.as_str()), ("GM0453", "open"));
    assert_eq!(closed_at, None, "a move is no closure");

    // Years on, the open case is still there: only a closure starts the clock.
    assert_eq!(retention_after(&app, Utc::now(), 60).await, 0);
    assert_eq!(case_rows(&app, case).await, 1);
    app.stop_all().await;
}
