use rcn_contracts::intake::{ReceiptStatus, SubmitReply};
use rcn_tests::{TestStack, release_notice_json};
use serde_json::Value;

#[tokio::test]
async fn a_partner_notice_yields_one_case_with_five_open_conditions_in_the_right_municipality() {
    let stack = TestStack::spawn().await;
    let mut notice = release_notice_json();
    notice["person"]["brp_municipality"] = "GM0453".into(); // Velsen
    let response = stack.post_notice(&notice).await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["api-version"], "1.0.0");
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(receipt["notice_id"], "PIH-2026-000123");
    assert_eq!(receipt["status"], "accepted");

    let case = stack.wait_for_case("PI-HAARLEM:PIH-2026-000123").await;
    assert_eq!(case.gemeentecode, "GM0453");
    assert_eq!(case.status, "open");
    let tasks: Vec<(String, String)> =
        sqlx::query_as("SELECT condition, status FROM casework.condition_tasks WHERE case_id = $1 ORDER BY condition")
            .bind(case.case_id)
            .fetch_all(&stack.db)
            .await
            .unwrap();
    let expected = [
        ("care", "arranged"),
        ("debts", "in_progress"),
        ("housing", "needs_action"),
        ("id", "arranged"),
        ("income", "unknown"),
    ];
    assert_eq!(tasks, expected.map(|(c, s)| (c.to_string(), s.to_string())));
    assert_eq!(stack.count("SELECT count(*) FROM casework.cases").await, 1);
    let (outcome, code, rule) = stack.wait_for_decision("PI-HAARLEM:PIH-2026-000123").await;
    assert_eq!(
        (outcome.as_str(), code.as_deref(), rule.as_str()),
        ("routed", Some("GM0453"), "brp_registration")
    );
    stack.stop().await;
}

#[tokio::test]
async fn the_same_notice_sent_twice_yields_one_case() {
    let stack = TestStack::spawn().await;
    let notice = release_notice_json();
    let first: Value = stack.post_notice(&notice).await.json().await.unwrap();
    let case = stack.wait_for_case("PI-HAARLEM:PIH-2026-000123").await;

    let second = stack.post_notice(&notice).await;
    assert_eq!(second.status(), 202);
    let second: Value = second.json().await.unwrap();
    assert_eq!(second["status"], "already_received");
    assert_eq!(
        second["received_at"], first["received_at"],
        "a resend gets its original receipt"
    );

    // Over NATS too, as a partner would resend after a lost reply.
    let reply = stack
        .submit_over_nats(&serde_json::to_vec(&notice).unwrap())
        .await;
    assert!(
        matches!(reply, SubmitReply::Accepted { receipt } if receipt.status == ReceiptStatus::AlreadyReceived)
    );

    // Give the pipeline time to (wrongly) process a duplicate before counting.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(stack.count("SELECT count(*) FROM casework.cases").await, 1);
    assert_eq!(
        stack
            .count("SELECT count(*) FROM casework.condition_tasks")
            .await,
        5
    );
    assert_eq!(
        stack.count("SELECT count(*) FROM router.decisions").await,
        1
    );
    assert_eq!(
        stack
            .wait_for_case("PI-HAARLEM:PIH-2026-000123")
            .await
            .case_id,
        case.case_id
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_malformed_notice_gets_an_error_naming_the_field_and_leaves_nothing_behind() {
    let stack = TestStack::spawn().await;
    let mut notice = release_notice_json();
    notice["person"]["bsn"] = "111222334".into();
    let response = stack.post_notice(&notice).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 400);
    assert_eq!(problem["invalidParams"][0]["name"], "person.bsn");
    assert_eq!(
        problem["invalidParams"][0]["reason"],
        "this is not a valid BSN (it fails the 11-proef)"
    );
    assert!(
        !problem.to_string().contains("111222334"),
        "the refused BSN is not echoed back"
    );

    let mut late = release_notice_json();
    late["detention"]["expected_release_on"] = "2026-01-01".into();
    let problem: Value = stack.post_notice(&late).await.json().await.unwrap();
    assert_eq!(
        problem["invalidParams"][0]["name"],
        "detention.expected_release_on"
    );

    let js = stack.env.ctx("probe").await.jetstream();
    let subjects = stack.env.config.region.subjects();
    assert_eq!(
        stack.env.stream_len(&js, &subjects.notices_stream()).await,
        0
    );
    assert_eq!(
        stack.env.stream_len(&js, &subjects.routing_stream()).await,
        0
    );
    for table in [
        "intake.receipts",
        "router.decisions",
        "casework.cases",
        "casework.case_notices",
    ] {
        assert_eq!(
            stack.count(&format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    stack.stop().await;
}

#[tokio::test]
async fn notices_outside_the_region_or_without_an_address_get_a_decision_but_no_case() {
    let stack = TestStack::spawn().await;
    let mut elsewhere = release_notice_json();
    elsewhere["notice_id"] = "elsewhere".into();
    elsewhere["person"]["brp_municipality"] = "GM0363".into(); // Amsterdam
    let mut nowhere = release_notice_json();
    nowhere["notice_id"] = "nowhere".into();
    nowhere["person"]["bsn"] = "111222333".into();
    nowhere["person"]
        .as_object_mut()
        .unwrap()
        .remove("brp_municipality");
    nowhere["person"].as_object_mut().unwrap().remove("address");
    nowhere["person"]["no_fixed_abode"] = true.into();
    assert_eq!(stack.post_notice(&elsewhere).await.status(), 202);
    assert_eq!(stack.post_notice(&nowhere).await.status(), 202);

    let (outcome, code, _) = stack.wait_for_decision("PI-HAARLEM:elsewhere").await;
    assert_eq!(
        (outcome.as_str(), code.as_deref()),
        ("out_of_region", Some("GM0363"))
    );
    let (outcome, code, rule) = stack.wait_for_decision("PI-HAARLEM:nowhere").await;
    assert_eq!(
        (outcome.as_str(), code, rule.as_str()),
        ("unroutable", None, "no_rule")
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(stack.count("SELECT count(*) FROM casework.cases").await, 0);
    stack.stop().await;
}

#[tokio::test]
async fn later_notices_about_the_same_detention_reach_the_same_case() {
    let stack = TestStack::spawn().await;
    let mut started = release_notice_json();
    started["notice_id"] = "n1".into();
    started["kind"] = "detention_started".into();
    started["person"]
        .as_object_mut()
        .unwrap()
        .remove("brp_municipality"); // routed by PC4 2011
    let mut moved = started.clone();
    moved["notice_id"] = "n2".into();
    moved["kind"] = "release_date_changed".into();
    moved["detention"]["expected_release_on"] = "2027-01-10".into();

    let reply = stack
        .submit_over_nats(&serde_json::to_vec(&started).unwrap())
        .await;
    assert!(matches!(reply, SubmitReply::Accepted { .. }), "{reply:?}");
    let first = stack.wait_for_case("PI-HAARLEM:n1").await;
    assert_eq!(first.gemeentecode, "GM0392");
    assert_eq!(stack.post_notice(&moved).await.status(), 202);
    let second = stack.wait_for_case("PI-HAARLEM:n2").await;
    assert_eq!(first.case_id, second.case_id);
    assert_eq!(stack.count("SELECT count(*) FROM casework.cases").await, 1);
    assert_eq!(
        stack
            .count("SELECT count(*) FROM casework.case_notices")
            .await,
        2
    );
    stack.stop().await;
}
