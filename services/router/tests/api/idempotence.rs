//! A notice is routed once, however often it arrives.

use crate::helpers::{TestRouter, accepted};

#[tokio::test]
async fn the_same_notice_published_twice_yields_one_decision_and_one_routing_event() {
    let router = TestRouter::spawn().await;
    let notice = accepted("PI-HAARLEM:n1", |_| {});
    // Different message ids, so JetStream keeps both and the router itself must see through it.
    router.publish(&notice, "PI-HAARLEM:n1").await;
    router.publish(&notice, "PI-HAARLEM:n1-resent").await;

    router.wait_until_settled(2).await;
    assert_eq!(
        router.count("SELECT count(*) FROM router.decisions").await,
        1
    );
    assert_eq!(router.wait_for_routing_events(1).await.len(), 1);
    router.stop().await;
}

#[tokio::test]
async fn different_notices_about_one_person_get_a_decision_each() {
    let router = TestRouter::spawn().await;
    let first = accepted("PI-HAARLEM:n1", |_| {});
    let mut second = accepted("PI-HAARLEM:n2", |_| {});
    second.episode_key.clone_from(&first.episode_key);
    router.publish(&first, "PI-HAARLEM:n1").await;
    router.publish(&second, "PI-HAARLEM:n2").await;

    router.wait_until_settled(2).await;
    assert_eq!(
        router.count("SELECT count(*) FROM router.decisions").await,
        2
    );
    assert_eq!(router.wait_for_routing_events(2).await.len(), 2);
    router.stop().await;
}
