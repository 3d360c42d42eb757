//! A resent notice gets its original receipt and is published once; the same notice id with
//! other content is refused.

use futures::future::join;
use rcn_contracts::intake::ReceiptStatus;

use crate::helpers::{TestIntake, conflict, notice_with_id, receipt};

#[tokio::test]
async fn a_resend_gets_the_original_receipt_and_is_published_once() {
    let intake = TestIntake::spawn().await;
    let notice = notice_with_id("PIH-2026-000123");
    let first = receipt(intake.submit_notice(&notice).await);
    intake.wait_for_ledger("PI-HAARLEM:PIH-2026-000123").await;

    let again = receipt(intake.submit_notice(&notice).await);
    assert_eq!(again.status, ReceiptStatus::AlreadyReceived);
    assert_eq!(
        again.received_at, first.received_at,
        "the original receipt, not a new one"
    );
    assert_eq!(again.notice_id, first.notice_id);
    assert_eq!(intake.notices().await.len(), 1);
    intake.stop().await;
}

#[tokio::test]
async fn a_notice_sent_twice_at_once_is_accepted_once_and_both_get_the_same_receipt() {
    let intake = TestIntake::spawn().await;
    let notice = notice_with_id("PIH-2026-000123");
    // Neither finds the other in the ledger: JetStream's de-duplication must decide.
    let (a, b) = join(intake.submit_notice(&notice), intake.submit_notice(&notice)).await;
    let (a, b) = (receipt(a), receipt(b));
    let mut statuses = [a.status, b.status];
    statuses.sort_by_key(|s| *s == ReceiptStatus::AlreadyReceived);
    assert_eq!(
        statuses,
        [ReceiptStatus::Accepted, ReceiptStatus::AlreadyReceived]
    );
    assert_eq!(
        a.received_at, b.received_at,
        "the second sender is told when the first was received"
    );
    assert_eq!(intake.notices().await.len(), 1);
    intake.stop().await;
}

#[tokio::test]
async fn the_same_notice_id_with_a_different_body_is_refused_as_a_conflict_on_notice_id() {
    let intake = TestIntake::spawn().await;
    receipt(
        intake
            .submit_notice(&notice_with_id("PIH-2026-000123"))
            .await,
    );
    intake.wait_for_ledger("PI-HAARLEM:PIH-2026-000123").await;

    let mut changed = notice_with_id("PIH-2026-000123");
    changed["detention"]["expected_release_on"] = "2027-01-10".into();
    let problems = conflict(intake.submit_notice(&changed).await);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "notice_id");
    assert!(
        problems[0].message.contains("already accepted"),
        "{}",
        problems[0].message
    );
    assert_eq!(
        intake.notices().await.len(),
        1,
        "the changed notice is not published"
    );
    intake.stop().await;
}

#[tokio::test]
async fn the_same_notice_id_from_another_institution_is_another_notice() {
    let intake = TestIntake::spawn().await;
    receipt(
        intake
            .submit_notice(&notice_with_id("PIH-2026-000123"))
            .await,
    );
    intake.wait_for_ledger("PI-HAARLEM:PIH-2026-000123").await;
    let mut other = notice_with_id("PIH-2026-000123");
    other["sender"]["institution_code"] = "PI-ZAANSTAD".into();
    let receipt = receipt(intake.submit_notice(&other).await);
    assert_eq!(receipt.status, ReceiptStatus::Accepted);
    assert_eq!(intake.notices().await.len(), 2);
    intake.stop().await;
}
