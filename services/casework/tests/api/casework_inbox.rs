//! The inbox and the API's gatekeeping: a municipality's staff see and change only their own
//! cases; rows come most urgent first, filtered and paged; the BSN is masked; every read is in
//! the append-only access log; bad requests get a stable code and no leaked details.

use async_nats::HeaderMap;
use rcn_contracts::Condition;
use rcn_contracts::casework_api::{
    BulkReply, CaseClosedReply, ErrorCode, InboxPage, TaskHistory, TaskView,
};
use rcn_contracts::envelope::ApiReply;
use rcn_runtime::headers;
use rcn_runtime::signed_identity::{IdentitySigner, unix_ms_now};
use serde_json::json;

use crate::casework_support::{App, CaseworkProblem, one, rcn, staff, task};
use crate::helpers::{days_from_today, today};

fn keys(page: &InboxPage) -> Vec<(uuid::Uuid, Condition)> {
    page.rows.iter().map(|r| (r.case_id, r.condition)).collect()
}

#[tokio::test]
async fn staff_of_one_municipality_never_see_or_change_a_case_of_another() {
    let mut app = App::spawn().await;
    let haarlem_case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let velsen_case = app
        .open_case("n2", "GM0453", days_from_today(30), |_| {})
        .await;
    let (anna, vera) = (staff("anna", "GM0392"), staff("vera", "GM0453"));

    let page: InboxPage = app
        .call(&anna, "inbox", &json!({"scope": "all"}))
        .await
        .unwrap();
    assert_eq!(page.total, 3, "Haarlem's three open tasks only");
    assert!(
        page.rows
            .iter()
            .all(|r| r.case_id == haarlem_case && r.gemeentecode.as_str() == "GM0392")
    );
    let e = app
        .call::<_, InboxPage>(
            &anna,
            "inbox",
            &json!({"scope": "all", "gemeentecode": "GM0453"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden);

    // Every way of touching Velsen's case answers as if it did not exist.
    let housing = one(velsen_case, Condition::Housing);
    let refusals = [
        app.call::<_, TaskView>(&anna, "claim", &housing)
            .await
            .map(|_| ()),
        app.call::<_, TaskView>(
            &anna,
            "update_status",
            &json!({"task": task(velsen_case, Condition::Housing), "status": "in_progress"}),
        )
        .await
        .map(|_| ()),
        app.call::<_, TaskHistory>(&anna, "task_history", &housing)
            .await
            .map(|_| ()),
        app.call::<_, BulkReply>(&anna, "claim_case", &json!({"case_id": velsen_case}))
            .await
            .map(|_| ()),
        app.call::<_, CaseClosedReply>(
            &anna,
            "close_case",
            &json!({"case_id": velsen_case, "reason": "duplicate"}),
        )
        .await
        .map(|_| ()),
    ];
    for r in refusals {
        assert_eq!(r.unwrap_err().code(), ErrorCode::NotFound);
    }
    let bulk: BulkReply = app
        .call(
            &anna,
            "claim_many",
            &json!({"tasks": [task(velsen_case, Condition::Income)]}),
        )
        .await
        .unwrap();
    assert_eq!(
        bulk.results[0].error.as_ref().unwrap().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        app.count("SELECT count(*) FROM casework.condition_tasks WHERE claimed_by IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM casework.task_history WHERE change <> 'opened'")
            .await,
        0
    );
    let vera_sees: InboxPage = app
        .call(&vera, "inbox", &json!({"scope": "unclaimed"}))
        .await
        .unwrap();
    assert_eq!(vera_sees.total, 3);
    assert!(vera_sees.rows.iter().all(|r| r.case_id == velsen_case));

    // The RCN sees the region, and one municipality when it asks.
    let region: InboxPage = app
        .call(&rcn("rcn-1"), "inbox", &json!({"scope": "all"}))
        .await
        .unwrap();
    assert_eq!(region.total, 6);
    let velsen: InboxPage = app
        .call(
            &rcn("rcn-1"),
            "inbox",
            &json!({"scope": "all", "gemeentecode": "GM0453"}),
        )
        .await
        .unwrap();
    assert_eq!(velsen.total, 3);
    app.stop_all().await;
}

#[tokio::test]
async fn the_inbox_shows_spoed_first_then_the_earliest_due_date_and_pages() {
    let mut app = App::spawn().await;
    let later = app
        .open_case("later", "GM0392", days_from_today(40), |_| {})
        .await;
    let sooner = app
        .open_case("sooner", "GM0392", days_from_today(20), |_| {})
        .await;
    let spoed = app
        .open_case("spoed", "GM0392", days_from_today(5), |_| {})
        .await;
    let anna = staff("anna", "GM0392");

    let page: InboxPage = app
        .call(
            &anna,
            "inbox",
            &json!({"scope": "unclaimed", "page_size": 4}),
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.page, page.page_size), (9, 1, 4));
    // Per case: debts and income a week before release (by condition order), housing on release day.
    assert_eq!(
        keys(&page),
        [
            (spoed, Condition::Debts),
            (spoed, Condition::Income),
            (spoed, Condition::Housing),
            (sooner, Condition::Debts)
        ]
    );
    assert!(page.rows[..3].iter().all(|r| r.spoed) && !page.rows[3].spoed);
    let last: InboxPage = app
        .call(
            &anna,
            "inbox",
            &json!({"scope": "unclaimed", "page_size": 4, "page": 3}),
        )
        .await
        .unwrap();
    assert_eq!(keys(&last), [(later, Condition::Housing)]);

    // My inbox holds what I claimed.
    let _: TaskView = app
        .call(&anna, "claim", &one(later, Condition::Income))
        .await
        .unwrap();
    let mine: InboxPage = app.call(&anna, "inbox", &json!({})).await.unwrap();
    assert_eq!(keys(&mine), [(later, Condition::Income)]);
    assert_eq!(mine.rows[0].claimed_by.as_deref(), Some("anna"));
    let e = app
        .call::<_, InboxPage>(&anna, "inbox", &json!({"page_size": 1000}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadRequest);
    app.stop_all().await;
}

#[tokio::test]
async fn the_inbox_filters_by_condition_status_release_window_spoed_and_overdue() {
    let mut app = App::spawn().await;
    let far = app
        .open_case("far", "GM0392", days_from_today(40), |_| {})
        .await;
    // Released in 3 days: debts and income were due 4 days ago.
    let near = app
        .open_case("near", "GM0392", days_from_today(3), |_| {})
        .await;
    let anna = staff("anna", "GM0392");
    let query = |q: serde_json::Value| {
        let mut q = q;
        q["scope"] = "all".into();
        q
    };
    let page: InboxPage = app
        .call(&anna, "inbox", &query(json!({"conditions": ["housing"]})))
        .await
        .unwrap();
    assert_eq!(
        keys(&page),
        [(near, Condition::Housing), (far, Condition::Housing)]
    );
    let page: InboxPage = app
        .call(&anna, "inbox", &query(json!({"statuses": ["arranged"]})))
        .await
        .unwrap();
    assert_eq!(page.total, 4, "id and care of both cases");
    let page: InboxPage = app
        .call(&anna, "inbox", &query(json!({"release_within_days": 7})))
        .await
        .unwrap();
    assert!(page.total == 3 && page.rows.iter().all(|r| r.case_id == near));
    let page: InboxPage = app
        .call(&anna, "inbox", &query(json!({"spoed": false})))
        .await
        .unwrap();
    assert!(page.total == 3 && page.rows.iter().all(|r| r.case_id == far));
    let page: InboxPage = app
        .call(&anna, "inbox", &query(json!({"overdue": true})))
        .await
        .unwrap();
    assert_eq!(
        keys(&page),
        [(near, Condition::Debts), (near, Condition::Income)]
    );
    assert!(
        page.rows
            .iter()
            .all(|r| r.overdue && r.due_on.unwrap() < today())
    );
    app.stop_all().await;
}

#[tokio::test]
async fn inbox_rows_show_the_bsn_masked_and_every_read_is_logged_for_good() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let anna = staff("anna", "GM0392");
    let page: InboxPage = app
        .call(&anna, "inbox", &json!({"scope": "all"}))
        .await
        .unwrap();
    let row = &page.rows[0];
    assert_eq!(row.person.bsn_masked, "*****6782");
    assert_eq!(row.person.family_name, "Jansen");
    let raw: ApiReply<serde_json::Value> = {
        app.raw_call(
            "inbox",
            Some(&anna.to_header()),
            br#"{"scope":"all"}"#.to_vec(),
        )
        .await
    };
    assert!(
        !serde_json::to_string(&raw).unwrap().contains("123456782"),
        "the full BSN never leaves casework in a row"
    );
    let _: TaskHistory = app
        .call(&anna, "task_history", &one(case, Condition::Housing))
        .await
        .unwrap();

    let log: Vec<(String, String, Option<String>, uuid::Uuid, String)> = sqlx::query_as(
        "SELECT user_id, role, gemeentecode, case_id, what FROM casework.access_log ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(log.len(), 3, "one entry per case per read: {log:?}");
    assert!(log.iter().all(|(u, r, g, c, _)| u == "anna"
        && r == "municipal_staff"
        && g.as_deref() == Some("GM0392")
        && *c == case));
    assert!(log[2].4.contains("history"), "{log:?}");
    for tamper in [
        "UPDATE casework.access_log SET user_id = 'nobody'",
        "DELETE FROM casework.access_log",
        "TRUNCATE casework.access_log",
    ] {
        assert!(
            sqlx::query(tamper).execute(&app.db).await.is_err(),
            "{tamper} must fail"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) FROM casework.access_log").await,
        3
    );
    app.stop_all().await;
}

#[tokio::test]
async fn requests_without_a_valid_identity_or_body_get_a_stable_code_and_nothing_leaks() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let body = serde_json::to_vec(&one(case, Condition::Housing)).unwrap();

    let none: ApiReply<TaskView> = app.raw_call("claim", None, body.clone()).await;
    assert_eq!(
        none.into_result().unwrap_err().code(),
        ErrorCode::Unauthenticated
    );
    let incomplete: ApiReply<TaskView> = app
        .raw_call(
            "claim",
            Some(r#"{"user_id":"anna","role":"municipal_staff"}"#),
            body.clone(),
        )
        .await;
    assert_eq!(
        incomplete.into_result().unwrap_err().code(),
        ErrorCode::Unauthenticated
    );

    // A valid identity the gateway did not sign for exactly this request changes nothing.
    let anna = staff("anna", "GM0392");
    let who = anna.to_header();
    let subject = app.subjects.casework_api("claim");
    let mut unsigned = HeaderMap::new();
    unsigned.insert(headers::IDENTITY, who.as_str());
    let now = unix_ms_now();
    let mut expired = unsigned.clone();
    let stale = app.env.signer().signature_value(
        &who,
        &subject,
        &body,
        now - 60_000,
        now - 30_000,
        [9; 16],
    );
    expired.insert(headers::IDENTITY_SIGNATURE, stale.as_str());
    let forgeries = [
        ("unsigned", unsigned),
        ("expired", expired),
        (
            "signed for another verb",
            app.env
                .signed(&who, &app.subjects.casework_api("unclaim"), &body),
        ),
        (
            "signed for another body",
            app.env.signed(&who, &subject, b"{}"),
        ),
        (
            "signed with another key",
            IdentitySigner::generate().sign(&who, &subject, &body),
        ),
    ];
    for (what, h) in forgeries {
        let refused: ApiReply<TaskView> = app.raw_call_with("claim", h, body.clone()).await;
        let e = refused.into_result().unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unauthenticated, "{what}: {e:?}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM casework.condition_tasks WHERE claimed_by IS NOT NULL")
            .await,
        0,
        "no forged request claimed anything"
    );

    let h = Some(who.as_str());
    let garbage: ApiReply<TaskView> = app.raw_call("claim", h, b"{not json".to_vec()).await;
    assert_eq!(
        garbage.into_result().unwrap_err().code(),
        ErrorCode::BadRequest
    );
    let wrong: ApiReply<TaskView> = app
        .raw_call(
            "claim",
            h,
            br#"{"task":{"case_id":"x","condition":"weather"}}"#.to_vec(),
        )
        .await;
    let e = wrong.into_result().unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadRequest);
    assert!(
        !e.detail.to_lowercase().contains("sql") && !e.detail.contains("postgres"),
        "{}",
        e.detail
    );
    let unknown = app
        .call::<_, TaskView>(
            &anna,
            "claim",
            &one(uuid::Uuid::now_v7(), Condition::Housing),
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    assert_eq!(
        app.count("SELECT count(*) FROM casework.condition_tasks WHERE claimed_by IS NOT NULL")
            .await,
        0
    );
    app.stop_all().await;
}
