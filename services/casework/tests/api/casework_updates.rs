//! What later notices change in a case — a moved release date, an unexpected release, a transfer,
//! a cancellation, a move to another municipality — and closing a case by hand.

use chrono::{Days, NaiveDate};
use rcn_contracts::Condition;
use rcn_contracts::casework_api::{CaseClosedReply, CloseReason, ErrorCode, InboxPage, TaskView};
use rcn_contracts::casework_events::{CaseClosed, CaseRescheduled};
use rcn_contracts::notice::NoticeKind;
use serde_json::json;

use crate::casework_support::{App, CaseworkProblem, one, rcn, staff};
use crate::helpers::{days_from_today, gm, routed_notice, today};

fn later(
    key: &str,
    episode: &str,
    release: NaiveDate,
    kind: NoticeKind,
) -> rcn_contracts::events::NoticeRouted {
    routed_notice(&format!("PI-HAARLEM:{key}"), episode, release, |n| {
        n.kind = kind
    })
}

/// expected_release_on, released_on, spoed, status, institution_code, gemeentecode.
type CaseState = (
    Option<NaiveDate>,
    Option<NaiveDate>,
    bool,
    String,
    String,
    String,
);

async fn case_row(app: &App, case: uuid::Uuid) -> CaseState {
    sqlx::query_as("SELECT expected_release_on, released_on, spoed, status, institution_code, gemeentecode FROM casework.cases WHERE case_id = $1")
        .bind(case)
        .fetch_one(&app.db)
        .await
        .expect("the case")
}

#[tokio::test]
async fn a_changed_release_date_moves_every_deadline() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let new_release = days_from_today(45);
    app.send_notice(&later(
        "n2",
        "episode-n1",
        new_release,
        NoticeKind::ReleaseDateChanged,
    ))
    .await;

    let due: Vec<(String, Option<NaiveDate>)> =
        sqlx::query_as("SELECT condition, due_on FROM casework.condition_tasks WHERE case_id = $1 ORDER BY condition")
            .bind(case)
            .fetch_all(&app.db)
            .await
            .unwrap();
    let week_before = new_release - Days::new(7);
    let expected: Vec<(String, Option<NaiveDate>)> = [
        ("care", week_before),
        ("debts", week_before),
        ("housing", new_release),
        ("id", new_release),
        ("income", week_before),
    ]
    .into_iter()
    .map(|(c, d)| (c.to_owned(), Some(d)))
    .collect();
    assert_eq!(due, expected);
    assert_eq!(case_row(&app, case).await.0, Some(new_release));
    let events = app.wait_for_events("case_rescheduled", 1).await;
    let e: CaseRescheduled = serde_json::from_slice(&events[0].payload).unwrap();
    assert_eq!(
        (e.previous_release_on, e.expected_release_on, e.spoed),
        (Some(days_from_today(30)), Some(new_release), false)
    );
    assert_eq!(
        app.count("SELECT count(*) FROM casework.task_history WHERE change = 'deadline'")
            .await,
        5
    );

    // An older notice delivered late does not roll the date back.
    let mut stale = later(
        "n0",
        "episode-n1",
        days_from_today(10),
        NoticeKind::ReleasePlanned,
    );
    stale.notice.sent_at -= chrono::Duration::days(3);
    app.send_notice(&stale).await;
    assert_eq!(case_row(&app, case).await.0, Some(new_release));
    app.stop_all().await;
}

#[tokio::test]
async fn an_unexpected_release_makes_the_case_spoed_and_every_open_task_urgent() {
    let mut app = App::spawn().await;
    let calm = app
        .open_case("calm", "GM0392", days_from_today(6), |_| {})
        .await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    app.send_notice(&later(
        "n2",
        "episode-n1",
        today(),
        NoticeKind::ReleasedUnexpectedly,
    ))
    .await;

    let (expected, released, spoed, ..) = case_row(&app, case).await;
    assert_eq!(
        (expected, released, spoed),
        (Some(today()), Some(today()), true)
    );
    let urgent: Vec<String> =
        sqlx::query_scalar("SELECT condition FROM casework.condition_tasks WHERE case_id = $1 AND urgent ORDER BY condition")
            .bind(case)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        urgent,
        ["debts", "housing", "income"],
        "the open tasks, not the arranged ones"
    );
    // Both cases are spoed; the released person's tasks come first.
    let page: InboxPage = app
        .call(&staff("anna", "GM0392"), "inbox", &json!({"scope": "all"}))
        .await
        .unwrap();
    let order: Vec<uuid::Uuid> = page.rows.iter().map(|r| r.case_id).collect();
    assert_eq!(order, [case, case, case, calm, calm, calm]);
    assert!(page.rows.iter().all(|r| r.spoed));
    let events = app.wait_for_events("case_rescheduled", 1).await;
    let e: CaseRescheduled = serde_json::from_slice(&events[0].payload).unwrap();
    assert!(e.released_unexpectedly && e.spoed);
    app.stop_all().await;
}

#[tokio::test]
async fn a_transfer_records_the_new_institution() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let mut moved = later(
        "n2",
        "episode-n1",
        days_from_today(30),
        NoticeKind::Transferred,
    );
    moved.notice.sender.institution_code = "PI-ZAANDAM".into();
    app.send_notice(&moved).await;
    assert_eq!(case_row(&app, case).await.4, "PI-ZAANDAM");
    let detail: serde_json::Value = sqlx::query_scalar(
        "SELECT detail FROM casework.case_history WHERE case_id = $1 AND change = 'transferred'",
    )
    .bind(case)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(detail, json!({"from": "PI-HAARLEM", "to": "PI-ZAANDAM"}));
    app.stop_all().await;
}

#[tokio::test]
async fn a_cancelling_notice_closes_the_case_and_its_tasks_leave_the_inbox() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    app.send_notice(&later(
        "n2",
        "episode-n1",
        days_from_today(30),
        NoticeKind::Cancelled,
    ))
    .await;
    assert_eq!(case_row(&app, case).await.3, "closed");
    let events = app.wait_for_events("case_closed", 1).await;
    let closed: CaseClosed = serde_json::from_slice(&events[0].payload).unwrap();
    assert_eq!(
        (closed.reason, closed.by.as_str()),
        (CloseReason::Cancelled, "notice:PI-HAARLEM:n2")
    );
    assert_eq!(
        closed.open_conditions,
        [Condition::Debts, Condition::Housing, Condition::Income]
    );

    let anna = staff("anna", "GM0392");
    let page: InboxPage = app
        .call(&anna, "inbox", &json!({"scope": "all"}))
        .await
        .unwrap();
    assert_eq!(page.total, 0);
    let e = app
        .call::<_, TaskView>(&anna, "claim", &one(case, Condition::Housing))
        .await
        .unwrap_err();
    // Cancelled, the case is no longer Haarlem's at all (`visibility::ends_municipal_access`).
    assert_eq!(e.code(), ErrorCode::NotFound);
    // A notice after closure is kept but changes nothing.
    app.send_notice(&later(
        "n3",
        "episode-n1",
        days_from_today(50),
        NoticeKind::ReleaseDateChanged,
    ))
    .await;
    assert_eq!(case_row(&app, case).await.0, Some(days_from_today(30)));
    app.stop_all().await;
}

#[tokio::test]
async fn a_case_closes_by_hand_only_with_a_reason_and_only_once() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let anna = staff("anna", "GM0392");
    let e = app
        .call::<_, CaseClosedReply>(
            &anna,
            "close_case",
            &json!({"case_id": case, "reason": "other"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoteRequired);
    let e = app
        .call::<_, CaseClosedReply>(
            &anna,
            "close_case",
            &json!({"case_id": case, "reason": "cancelled"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadRequest);
    let e = app
        .call::<_, CaseClosedReply>(&anna, "close_case", &json!({"case_id": case}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadRequest, "a reason is required");

    let closed: CaseClosedReply =
        app.call(&anna, "close_case", &json!({"case_id": case, "reason": "moved_out_of_region", "note": "Verhuisd naar Leeuwarden"})).await.unwrap();
    assert_eq!(closed.reason, CloseReason::MovedOutOfRegion);
    let (reason, by, note): (String, String, Option<String>) = sqlx::query_as(
        "SELECT closed_reason, closed_by, closed_note FROM casework.cases WHERE case_id = $1",
    )
    .bind(case)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (reason.as_str(), by.as_str(), note.as_deref()),
        (
            "moved_out_of_region",
            "anna",
            Some("Verhuisd naar Leeuwarden")
        )
    );
    let e = app
        .call::<_, CaseClosedReply>(
            &rcn("rcn-1"),
            "close_case",
            &json!({"case_id": case, "reason": "duplicate"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CaseClosed);
    let events = app.wait_for_events("case_closed", 1).await;
    assert!(
        !String::from_utf8(events[0].payload.to_vec())
            .unwrap()
            .contains("Leeuwarden"),
        "the note stays out of the event"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn a_notice_routed_to_another_municipality_moves_the_case_and_its_claims_lapse() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let (anna, vera) = (staff("anna", "GM0392"), staff("vera", "GM0453"));
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Housing))
        .await
        .unwrap();

    let mut rerouted = later("n2", "episode-n1", days_from_today(30), NoticeKind::Update);
    rerouted.outcome = rcn_contracts::events::RoutingOutcome::Routed {
        gemeentecode: gm("GM0453"),
    };
    app.send_notice(&rerouted).await;

    assert_eq!(case_row(&app, case).await.5, "GM0453");
    let e = app
        .call::<_, TaskView>(&anna, "unclaim", &one(case, Condition::Housing))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        ErrorCode::NotFound,
        "Haarlem no longer sees the case"
    );
    let page: InboxPage = app
        .call(&vera, "inbox", &json!({"scope": "unclaimed"}))
        .await
        .unwrap();
    assert_eq!(page.total, 3, "Velsen finds every open task unclaimed");
    assert_eq!(
        app.count("SELECT count(*) FROM casework.task_history WHERE change = 'lapsed'")
            .await,
        1
    );
    app.stop_all().await;
}
