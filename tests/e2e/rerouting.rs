use rcn_runtime::testing::eventually;
use rcn_tests::{PATIENCE, TestStack, release_notice_json};

/// The case's municipality and status, once the notice has reached it.
async fn case_state(stack: &TestStack, notice_key: &str) -> (String, String) {
    let case = stack.wait_for_case(notice_key).await;
    (case.gemeentecode, case.status)
}

#[tokio::test]
async fn a_later_notice_with_a_new_registration_moves_the_case_and_one_outside_the_region_closes_it()
 {
    let stack = TestStack::spawn().await;
    let mut first = release_notice_json();
    first["notice_id"] = "r1".into();
    first["kind"] = "detention_started".into();
    assert_eq!(stack.post_notice(&first).await.status(), 202);
    assert_eq!(
        case_state(&stack, "PI-HAARLEM:r1").await,
        ("GM0392".into(), "open".into())
    );

    // The person re-registered in Velsen: the case moves there.
    let mut moved = first.clone();
    moved["notice_id"] = "r2".into();
    moved["kind"] = "update".into();
    moved["sent_at"] = "2026-11-21T09:30:00Z".into();
    moved["person"]["brp_municipality"] = "GM0453".into();
    assert_eq!(stack.post_notice(&moved).await.status(), 202);
    assert_eq!(
        case_state(&stack, "PI-HAARLEM:r2").await,
        ("GM0453".into(), "open".into())
    );

    // Then in Amsterdam, outside the region: the case closes and says why.
    let mut away = first.clone();
    away["notice_id"] = "r3".into();
    away["kind"] = "update".into();
    away["sent_at"] = "2026-11-22T09:30:00Z".into();
    away["person"]["brp_municipality"] = "GM0363".into();
    assert_eq!(stack.post_notice(&away).await.status(), 202);
    let (outcome, code, _) = stack.wait_for_decision("PI-HAARLEM:r3").await;
    assert_eq!(
        (outcome.as_str(), code.as_deref()),
        ("out_of_region", Some("GM0363"))
    );
    let reason: String = eventually(PATIENCE, "the case to close", || async {
        sqlx::query_scalar("SELECT closed_reason FROM casework.cases WHERE status = 'closed'")
            .fetch_optional(&stack.db)
            .await
            .ok()
            .flatten()
    })
    .await;
    assert_eq!(reason, "moved_out_of_region");
    assert_eq!(stack.count("SELECT count(*) FROM casework.cases").await, 1);
    assert_eq!(
        stack
            .count("SELECT count(*) FROM casework.case_notices")
            .await,
        3
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_person_routed_out_of_the_region_and_back_in_gets_the_same_case_reopened() {
    let stack = TestStack::spawn().await;
    let mut first = release_notice_json();
    first["notice_id"] = "b1".into();
    first["kind"] = "detention_started".into();
    assert_eq!(stack.post_notice(&first).await.status(), 202);
    let case = stack.wait_for_case("PI-HAARLEM:b1").await;

    // Registered in Amsterdam, outside the region: the case closes.
    let mut away = first.clone();
    away["notice_id"] = "b2".into();
    away["kind"] = "update".into();
    away["sent_at"] = "2026-11-21T09:30:00Z".into();
    away["person"]["brp_municipality"] = "GM0363".into();
    assert_eq!(stack.post_notice(&away).await.status(), 202);
    assert_eq!(
        case_state(&stack, "PI-HAARLEM:b2").await,
        ("GM0392".into(), "closed".into())
    );

    // Then in Velsen, back in the region: the same case opens again there, with open work.
    let mut back = first.clone();
    back["notice_id"] = "b3".into();
    back["kind"] = "update".into();
    back["sent_at"] = "2026-11-22T09:30:00Z".into();
    back["person"]["brp_municipality"] = "GM0453".into();
    assert_eq!(stack.post_notice(&back).await.status(), 202);
    let reopened = stack.wait_for_case("PI-HAARLEM:b3").await;
    assert_eq!(reopened.case_id, case.case_id);
    assert_eq!(
        (reopened.gemeentecode.as_str(), reopened.status.as_str()),
        ("GM0453", "open")
    );
    assert_eq!(stack.count("SELECT count(*) FROM casework.cases").await, 1);
    assert!(
        stack
            .count(
                "SELECT count(*) FROM casework.condition_tasks
                 WHERE status IN ('unknown', 'needs_action', 'in_progress')"
            )
            .await
            > 0,
        "Velsen has open tasks to work"
    );
    stack.stop().await;
}
