//! Later notices about an episode reach its one case; a notice is applied once; what casework
//! cannot apply is dead-lettered without holding up the rest.

use rcn_contracts::events::{CaseUpdated, RoutingOutcome};
use rcn_contracts::notice::NoticeKind;
use rcn_runtime::headers;

use crate::helpers::{TestCasework, days_from_today, gm, header, routed_notice};

#[tokio::test]
async fn a_later_notice_for_the_same_episode_attaches_to_its_case() {
    let casework = TestCasework::spawn().await;
    let first = routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(30), |_| {});
    let moved = routed_notice("PI-HAARLEM:n2", "episode-1", days_from_today(40), |n| {
        n.kind = NoticeKind::ReleaseDateChanged
    });
    casework.publish(&first, "event-1").await;
    let case = casework.wait_for_case("PI-HAARLEM:n1").await;
    casework.publish(&moved, "event-2").await;

    assert_eq!(
        casework.wait_for_case("PI-HAARLEM:n2").await.case_id,
        case.case_id
    );
    assert_eq!(
        casework.count("SELECT count(*) FROM casework.cases").await,
        1,
        "no second case"
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.case_notices")
            .await,
        2
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.condition_tasks")
            .await,
        5,
        "no second set of tasks"
    );

    let events = casework.wait_for_case_events(2).await;
    let m = &events[1];
    assert_eq!(
        m.subject.as_str(),
        casework.subjects.case_updated(&gm("GM0392"))
    );
    let updated: CaseUpdated = serde_json::from_slice(&m.payload).unwrap();
    assert_eq!(
        header(m, headers::MSG_ID),
        Some(updated.event_id.to_string().as_str())
    );
    assert_eq!(updated.case_id, case.case_id);
    assert_eq!(updated.notice_key, "PI-HAARLEM:n2");
    assert_eq!(updated.notice_kind, NoticeKind::ReleaseDateChanged);
    casework.stop().await;
}

#[tokio::test]
async fn notices_about_different_episodes_open_a_case_each() {
    let casework = TestCasework::spawn().await;
    casework
        .publish(
            &routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(30), |_| {}),
            "event-1",
        )
        .await;
    casework
        .publish(
            &routed_notice("PI-HAARLEM:n2", "episode-2", days_from_today(30), |_| {}),
            "event-2",
        )
        .await;

    let (a, b) = (
        casework.wait_for_case("PI-HAARLEM:n1").await,
        casework.wait_for_case("PI-HAARLEM:n2").await,
    );
    assert_ne!(a.case_id, b.case_id);
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.condition_tasks")
            .await,
        10
    );
    casework.stop().await;
}

#[tokio::test]
async fn the_same_notice_delivered_twice_is_applied_once() {
    let casework = TestCasework::spawn().await;
    let notice = routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(30), |_| {});
    // Different message ids, so JetStream keeps both and casework itself must see through it.
    casework.publish(&notice, "event-1").await;
    casework.publish(&notice, "event-1-again").await;

    casework.wait_until_settled(2).await;
    assert_eq!(
        casework.count("SELECT count(*) FROM casework.cases").await,
        1
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.case_notices")
            .await,
        1
    );
    assert_eq!(
        casework
            .count("SELECT count(*) FROM casework.condition_tasks")
            .await,
        5
    );
    assert_eq!(
        casework.wait_for_case_events(1).await.len(),
        1,
        "one CaseOpened, no CaseUpdated"
    );
    casework.stop().await;
}

#[tokio::test]
async fn a_notice_not_routed_to_a_municipality_is_dead_lettered_and_the_next_still_opens_a_case() {
    let casework = TestCasework::spawn().await;
    let mut miswired = routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(30), |_| {});
    miswired.outcome = RoutingOutcome::OutOfRegion {
        gemeentecode: gm("GM0392"),
    };
    let good = routed_notice("PI-HAARLEM:n2", "episode-2", days_from_today(30), |_| {});
    casework.publish(&miswired, "event-1").await;
    casework.publish(&good, "event-2").await;

    casework.wait_for_case("PI-HAARLEM:n2").await;
    let letter = casework.wait_for_dead_letter().await;
    assert_eq!(
        letter.subject.as_str(),
        casework.subjects.dead_letter("casework")
    );
    assert_eq!(header(&letter, headers::DLQ_MSG_ID), Some("event-1"));
    assert!(
        header(&letter, headers::DLQ_ERROR)
            .unwrap()
            .contains("not routed"),
        "{:?}",
        letter.headers
    );
    casework.wait_until_settled(2).await;
    assert_eq!(
        casework.count("SELECT count(*) FROM casework.cases").await,
        1
    );
    casework.stop().await;
}
