//! Claiming condition tasks: race-safe claims, unclaim, hand-over, whole cases, bulk claim and
//! reassign; every change in the task's history and on CASES.

use rcn_contracts::Condition;
use rcn_contracts::casework_api::{BulkReply, ErrorCode, TaskHistory, TaskView};
use rcn_contracts::casework_events::{AssignmentChange, TaskAssigned};
use serde_json::json;

use crate::casework_support::{App, CaseworkProblem, one, rcn, staff, task};
use crate::helpers::days_from_today;

#[tokio::test]
async fn twenty_colleagues_claiming_the_same_task_at_once_exactly_one_wins() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let req = one(case, Condition::Housing);
    let people: Vec<_> = (0..20)
        .map(|i| staff(&format!("colleague-{i}"), "GM0392"))
        .collect();
    // Warm the API up first so every claim below really races (none waits for the service).
    let _: rcn_contracts::casework_api::InboxPage =
        app.call(&people[0], "inbox", &json!({})).await.unwrap();

    let attempts = people
        .iter()
        .map(|who| app.call::<_, TaskView>(who, "claim", &req));
    let results = futures::future::join_all(attempts).await;

    let winners: Vec<&TaskView> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one claim succeeds: {results:?}");
    let holder = winners[0].claimed_by.clone().unwrap();
    for loser in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(loser.code(), ErrorCode::ClaimedByOther);
        assert_eq!(
            loser.held_by(),
            Some(holder.as_str()),
            "the refusal names the holder"
        );
        assert!(loser.detail.contains(&holder), "{}", loser.detail);
    }
    let stored: Option<String> =
        sqlx::query_scalar("SELECT claimed_by FROM casework.condition_tasks WHERE case_id = $1 AND condition = 'housing'")
            .bind(case)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some(holder.as_str()));
    assert_eq!(
        app.count("SELECT count(*) FROM casework.task_history WHERE change = 'claimed'")
            .await,
        1
    );
    app.wait_for_events("task_assigned", 1).await;
    assert_eq!(
        app.events("task_assigned").await.len(),
        1,
        "one TaskAssigned event"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn claim_unclaim_and_handover_move_the_task_and_keep_its_history() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let (anna, bram) = (staff("anna", "GM0392"), staff("bram", "GM0392"));
    let income = one(case, Condition::Income);

    let claimed: TaskView = app.call(&anna, "claim", &income).await.unwrap();
    assert_eq!(claimed.claimed_by.as_deref(), Some("anna"));
    let again: TaskView = app.call(&anna, "claim", &income).await.unwrap();
    assert_eq!(
        again.claimed_by.as_deref(),
        Some("anna"),
        "claiming what one holds is harmless"
    );

    let e = app
        .call::<_, TaskView>(&bram, "unclaim", &income)
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.held_by()),
        (ErrorCode::NotClaimedByYou, Some("anna"))
    );
    let e = app
        .call::<_, TaskView>(
            &bram,
            "handover",
            &json!({"task": task(case, Condition::Income), "to_user_id": "carla"}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        ErrorCode::NotClaimedByYou,
        "only the holder hands over"
    );

    let handed: TaskView = app
        .call(&anna, "handover", &json!({"task": task(case, Condition::Income), "to_user_id": "bram", "note": "Bram kent de familie"}))
        .await
        .unwrap();
    assert_eq!(handed.claimed_by.as_deref(), Some("bram"));
    let released: TaskView = app.call(&bram, "unclaim", &income).await.unwrap();
    assert_eq!(released.claimed_by, None);

    let history: TaskHistory = app.call(&anna, "task_history", &income).await.unwrap();
    let changes: Vec<(&str, &str, Option<&str>, Option<&str>)> = history
        .entries
        .iter()
        .map(|e| {
            (
                e.change.as_str(),
                e.by.as_str(),
                e.from_holder.as_deref(),
                e.to_holder.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("opened", "notice:PI-HAARLEM:n1", None, None),
            ("claimed", "anna", None, Some("anna")),
            ("handed_over", "anna", Some("anna"), Some("bram")),
            ("unclaimed", "bram", Some("bram"), None),
        ]
    );
    assert_eq!(
        history.entries[2].note.as_deref(),
        Some("Bram kent de familie")
    );

    let events = app.wait_for_events("task_assigned", 3).await;
    let kinds: Vec<AssignmentChange> = events
        .iter()
        .map(|m| {
            serde_json::from_slice::<TaskAssigned>(&m.payload)
                .unwrap()
                .change
        })
        .collect();
    assert_eq!(
        kinds,
        [
            AssignmentChange::Claimed,
            AssignmentChange::HandedOver,
            AssignmentChange::Unclaimed
        ]
    );
    let payload = String::from_utf8(events[1].payload.to_vec()).unwrap();
    assert!(
        !payload.contains("familie"),
        "notes stay out of events: {payload}"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn claiming_a_case_takes_its_open_tasks_and_names_those_a_colleague_holds() {
    let mut app = App::spawn().await;
    // Example screening: id and care arranged; housing, income and debts open.
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let (anna, bram) = (staff("anna", "GM0392"), staff("bram", "GM0392"));
    let _: TaskView = app
        .call(&bram, "claim", &one(case, Condition::Debts))
        .await
        .unwrap();

    let reply: BulkReply = app
        .call(&anna, "claim_case", &json!({"case_id": case}))
        .await
        .unwrap();
    let outcome: Vec<(Condition, Option<ErrorCode>)> = reply
        .results
        .iter()
        .map(|r| (r.task.condition, r.error.as_ref().map(|e| e.code())))
        .collect();
    assert_eq!(
        outcome,
        [
            (Condition::Debts, Some(ErrorCode::ClaimedByOther)),
            (Condition::Housing, None),
            (Condition::Income, None)
        ],
        "done tasks are left alone; the colleague's task is named"
    );
    assert_eq!(
        reply.results[0].error.as_ref().unwrap().held_by(),
        Some("bram")
    );
    let e = app
        .call::<_, TaskView>(&anna, "claim", &one(case, Condition::Id))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TaskDone);
    let e = app
        .call::<_, BulkReply>(&rcn("rcn-1"), "claim_case", &json!({"case_id": case}))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        ErrorCode::Forbidden,
        "the RCN does not take municipal work"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn bulk_claim_and_reassign_report_per_task_and_never_override_an_unseen_claim() {
    let mut app = App::spawn().await;
    let a = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let b = app
        .open_case("n2", "GM0392", days_from_today(40), |_| {})
        .await;
    let (anna, bram, lead) = (
        staff("anna", "GM0392"),
        staff("bram", "GM0392"),
        staff("teamlead", "GM0392"),
    );

    let tasks = [
        task(a, Condition::Housing),
        task(a, Condition::Income),
        task(b, Condition::Housing),
        task(b, Condition::Id),
    ];
    let reply: BulkReply = app
        .call(&anna, "claim_many", &json!({"tasks": tasks}))
        .await
        .unwrap();
    let failed: Vec<_> = reply
        .results
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| (r.task, r.error.as_ref().unwrap().code()))
        .collect();
    assert_eq!(failed, [(task(b, Condition::Id), ErrorCode::TaskDone)]);
    // Anna gives one task back; then the team lead reassigns Anna's tasks to Bram.
    let _: TaskView = app
        .call(&anna, "unclaim", &one(b, Condition::Housing))
        .await
        .unwrap();
    let _: TaskView = app
        .call(&bram, "claim", &one(b, Condition::Housing))
        .await
        .unwrap();
    let moved = [
        task(a, Condition::Housing),
        task(a, Condition::Income),
        task(b, Condition::Housing),
    ];
    let reply: BulkReply =
        app.call(&lead, "reassign", &json!({"tasks": moved, "expected_holder": "anna", "to_user_id": "bram", "note": "Anna is ziek"})).await.unwrap();
    let errors: Vec<_> = reply
        .results
        .iter()
        .map(|r| {
            r.error
                .as_ref()
                .map(|e| (e.code(), e.held_by().map(str::to_owned)))
        })
        .collect();
    assert_eq!(
        errors,
        [
            None,
            None,
            Some((ErrorCode::HolderChanged, Some("bram".to_owned())))
        ]
    );
    let held: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT condition, claimed_by FROM casework.condition_tasks WHERE case_id = $1 AND condition IN ('housing', 'income') ORDER BY condition",
    )
    .bind(a)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        held,
        [
            ("housing".to_owned(), Some("bram".to_owned())),
            ("income".to_owned(), Some("bram".to_owned()))
        ]
    );
    let e = app
        .call::<_, BulkReply>(&lead, "claim_many", &json!({"tasks": []}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadRequest);
    app.stop_all().await;
}

#[tokio::test]
async fn handing_a_task_to_oneself_is_answered_by_who_holds_it() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let (anna, bram) = (staff("anna", "GM0392"), staff("bram", "GM0392"));
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Income))
        .await
        .unwrap();
    let to_self = |who: &str, condition| json!({"task": task(case, condition), "to_user_id": who});

    // Bram does not hold it: he is told who does, not that he already holds it.
    let e = app
        .call::<_, TaskView>(&bram, "handover", &to_self("bram", Condition::Income))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.held_by()),
        (ErrorCode::NotClaimedByYou, Some("anna"))
    );
    assert!(!e.detail.contains("already hold"), "{}", e.detail);
    assert!(e.detail.contains("anna"), "{}", e.detail);
    let e = app
        .call::<_, TaskView>(&bram, "handover", &to_self("bram", Condition::Housing))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.held_by()),
        (ErrorCode::NotClaimedByYou, None),
        "nobody holds housing: {}",
        e.detail
    );

    // Anna does hold it: she is asked to name a colleague.
    let e = app
        .call::<_, TaskView>(&anna, "handover", &to_self("anna", Condition::Income))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadRequest);
    assert!(e.detail.contains("already hold"), "{}", e.detail);
    assert_eq!(
        app.count("SELECT count(*) FROM casework.task_history WHERE change = 'handed_over'")
            .await,
        0,
        "nothing changed hands"
    );
    app.stop_all().await;
}

#[tokio::test]
async fn a_claim_sent_without_a_reply_subject_is_not_carried_out() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let anna = staff("anna", "GM0392");
    let body = serde_json::to_vec(&one(case, Condition::Income)).expect("serialises");
    let h = app.env.signed(
        &anna.to_header(),
        &app.subjects.casework_api("claim"),
        &body,
    );
    // Published, not requested: nobody could learn what became of it.
    app.nats
        .publish_with_headers(app.subjects.casework_api("claim"), h, body.into())
        .await
        .expect("published");
    app.nats.flush().await.expect("flushed");
    // A request that is answered comes after it, so the first has certainly been received.
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Housing))
        .await
        .expect("a claim with a reply subject works");
    // Requests are handled concurrently: give the first one ample time to have done its harm.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let held: Option<String> = sqlx::query_scalar(
        "SELECT claimed_by FROM casework.condition_tasks WHERE case_id = $1 AND condition = 'income'",
    )
    .bind(case)
    .fetch_one(&app.db)
    .await
    .expect("the task exists");
    assert_eq!(
        held, None,
        "the claim without a reply subject changed nothing"
    );
}
