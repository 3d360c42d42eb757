//! Gemeentecodes against the CBS list, end to end: a code CBS never gave is refused at the edge
//! naming the field; a merged municipality's code is accepted and routed to its successor.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_tests::{TestStack, release_notice_json};
use serde_json::Value;

#[tokio::test]
async fn a_gemeentecode_cbs_never_gave_is_refused_naming_the_field_and_leaves_nothing_behind() {
    let stack = TestStack::spawn().await;
    let mut notice = release_notice_json();
    notice["person"]["brp_municipality"] = "GM9999".into();
    let response = stack.post_notice(&notice).await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        problem["invalidParams"][0]["name"],
        "person.brp_municipality"
    );
    let reason = problem["invalidParams"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("CBS list"), "{reason}");
    assert!(
        !problem.to_string().contains("9999"),
        "the refused code is not echoed back: {problem}"
    );
    for table in ["intake.receipts", "router.decisions"] {
        assert_eq!(
            stack.count(&format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_merged_municipality_is_accepted_and_routed_to_its_successor() {
    let stack = TestStack::spawn().await;
    let mut notice = release_notice_json();
    notice["notice_id"] = "weesp".into();
    notice["person"]["brp_municipality"] = "GM0457".into(); // Weesp, in Amsterdam since 2022-03-24
    assert_eq!(stack.post_notice(&notice).await.status(), 202);
    let (outcome, code, rule) = stack.wait_for_decision("PI-HAARLEM:weesp").await;
    assert_eq!(
        (outcome.as_str(), code.as_deref(), rule.as_str()),
        ("out_of_region", Some("GM0363"), "brp_registration")
    );
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM router.decisions WHERE notice_key = 'PI-HAARLEM:weesp'",
    )
    .fetch_one(&stack.db)
    .await
    .unwrap();
    assert!(
        reason.contains("GM0457 (Weesp) merged into GM0363 (Amsterdam) on 2022-03-24"),
        "{reason}"
    );
    stack.stop().await;
}
