//! Out of region: a notice for a municipality served by another rcn region on the same NATS
//! system is forwarded to that region's `intake.forwarded`, and stays visible here until it is
//! acknowledged.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::envelope::ApiReply;
use rcn_contracts::forwarding::{ForwardAcknowledged, NoticeForwarded};
use rcn_contracts::routing_api::{
    ForwardedAckReply, ForwardedAckRequest, ForwardedListReply, ManualRoutingKind, QueueDecideReply,
};
use rcn_contracts::{Gemeentecode, Region};
use rcn_runtime::testing::eventually;

use crate::routing_support::{
    PATIENCE, RoutingRouter, accepted, another_region, decision, gm, region_file_with_neighbour_in,
    stream_messages, unroutable,
};

/// A router whose region file says Haarlemmermeer is served by `target`.
async fn router_next_to(target: &Region) -> RoutingRouter {
    let file = region_file_with_neighbour_in(target);
    RoutingRouter::spawn_with(move |c| c.region_file = Some(file)).await
}

/// What arrived on the target region's FORWARDED stream.
async fn forwarded_to(
    router: &RoutingRouter,
    target: &Region,
    n: usize,
) -> Vec<(String, NoticeForwarded)> {
    eventually(PATIENCE, &format!("{n} forward(s) to {target}"), || async {
        let m = stream_messages(&router.js, &target.subjects().forwarded_stream()).await;
        (m.len() >= n).then(|| {
            m.iter()
                .map(|m| {
                    (
                        m.subject.to_string(),
                        serde_json::from_slice(&m.payload).expect("a NoticeForwarded"),
                    )
                })
                .collect()
        })
    })
    .await
}

async fn forward_row(router: &RoutingRouter, key: &str) -> Option<(String, String, bool)> {
    sqlx::query_as(
        "SELECT target_region, gemeentecode, acknowledged_at IS NOT NULL FROM router.forwards WHERE notice_key = $1",
    )
    .bind(key)
    .fetch_optional(&router.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_notice_for_a_neighbour_served_by_another_region_is_forwarded_there_and_kept_visible() {
    let target = another_region();
    let router = router_next_to(&target).await;
    let notice = accepted("PI-HAARLEM:f1", |n| {
        n.person.brp_municipality = Some(gm("GM0394"))
    });
    let decision = router.route(&notice).await;
    assert_eq!(
        (decision.outcome.as_str(), decision.gemeentecode.as_deref()),
        ("out_of_region", Some("GM0394"))
    );
    assert!(
        decision
            .reason
            .contains(&format!("served by region {target}")),
        "{}",
        decision.reason
    );

    let forwards = forwarded_to(&router, &target, 1).await;
    let (subject, forward) = &forwards[0];
    assert_eq!(subject, &format!("rcn.{target}.intake.forwarded"));
    assert_eq!(forward.from_region, router.subjects.region().as_str());
    assert_eq!(forward.gemeentecode, gm("GM0394"));
    assert_eq!(
        forward.accepted, notice,
        "the other region gets the notice as it was accepted here"
    );
    assert_eq!(forward.reason, decision.reason);
    assert_eq!(
        forward_row(&router, "PI-HAARLEM:f1").await,
        Some((target.to_string(), "GM0394".to_owned(), false)),
        "visible as forwarded, not yet acknowledged"
    );
    router.stop().await;
}

#[tokio::test]
async fn a_coordinator_s_out_of_region_decision_is_forwarded_too() {
    let target = another_region();
    let router = router_next_to(&target).await;
    router.route(&unroutable("PI-HAARLEM:f1")).await;
    let reply = router
        .decide(&decision(
            "PI-HAARLEM:f1",
            ManualRoutingKind::OutOfRegion,
            "GM0394",
            "coordinator-7",
        ))
        .await;
    let Ok(QueueDecideReply::Decided { decision }) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(decision.forwarded_to.as_deref(), Some(target.as_str()));

    let forwards = forwarded_to(&router, &target, 1).await;
    assert_eq!(forwards[0].1.accepted.notice_key, "PI-HAARLEM:f1");
    assert_eq!(
        forwards[0].1.rule,
        rcn_contracts::events::RoutingRule::Manual
    );
    let events = router
        .routing_events_for(
            &router.subjects.out_of_region(&gm("GM0394")),
            "PI-HAARLEM:f1",
        )
        .await;
    assert_eq!(events.len(), 1);
    assert!(forward_row(&router, "PI-HAARLEM:f1").await.is_some());
    router.stop().await;
}

#[tokio::test]
async fn a_notice_for_a_municipality_without_a_known_region_is_not_forwarded() {
    let target = another_region();
    let router = router_next_to(&target).await;
    let code = Gemeentecode::parse("GM0363").unwrap();
    let decision = router
        .route(&accepted("PI-HAARLEM:f1", |n| {
            n.person.brp_municipality = Some(code)
        }))
        .await;
    assert!(
        decision.reason.contains("an RCN coordinator forwards it"),
        "{}",
        decision.reason
    );
    router.wait_until_outbox_empty().await;
    assert_eq!(forward_row(&router, "PI-HAARLEM:f1").await, None);
    assert!(
        stream_messages(&router.js, &target.subjects().forwarded_stream())
            .await
            .is_empty()
    );
    router.stop().await;
}

#[tokio::test]
async fn a_forward_stays_listed_until_the_region_it_went_to_acknowledges_it_once() {
    let target = another_region();
    let router = router_next_to(&target).await;
    let notice = accepted("PI-HAARLEM:f1", |n| {
        n.person.brp_municipality = Some(gm("GM0394"))
    });
    router.route(&notice).await;
    let waiting = forwards_listed(&router).await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (
            waiting[0].target_region.as_str(),
            waiting[0].gemeentecode.as_str()
        ),
        (target.as_str(), "GM0394")
    );

    let wrong = acknowledge(&router, another_region().to_string()).await;
    assert!(
        matches!(wrong, ForwardedAckReply::UnknownForward { .. }),
        "only the target acknowledges: {wrong:?}"
    );
    let ForwardedAckReply::Acknowledged { acknowledged_at } =
        acknowledge(&router, target.to_string()).await
    else {
        panic!()
    };
    let again = acknowledge(&router, target.to_string()).await;
    assert_eq!(
        again,
        ForwardedAckReply::AlreadyAcknowledged { acknowledged_at }
    );
    assert!(
        forwards_listed(&router).await.is_empty(),
        "an acknowledged forward is no longer listed"
    );
    assert_eq!(
        forward_row(&router, "PI-HAARLEM:f1").await,
        Some((target.to_string(), "GM0394".to_owned(), true))
    );
    // The first acknowledgement, and only it, is announced on ROUTING for the monitor.
    let acks: Vec<ForwardAcknowledged> =
        eventually(PATIENCE, "the acknowledgement event", || async {
            let m = stream_messages(&router.js, &router.subjects.routing_stream()).await;
            let acks: Vec<ForwardAcknowledged> = m
                .iter()
                .filter(|m| m.subject.as_str() == router.subjects.forward_acknowledged())
                .map(|m| serde_json::from_slice(&m.payload).expect("a ForwardAcknowledged"))
                .collect();
            (!acks.is_empty()).then_some(acks)
        })
        .await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(
        (acks[0].notice_key.as_str(), acks[0].target_region.as_str()),
        ("PI-HAARLEM:f1", target.as_str())
    );
    assert_eq!(acks[0].acknowledged_at, acknowledged_at);
    router.stop().await;
}

async fn forwards_listed(
    router: &RoutingRouter,
) -> Vec<rcn_contracts::routing_api::ForwardedNotice> {
    let bytes = router
        .request(router.subjects.router_forwarded_list(), Vec::new())
        .await;
    match serde_json::from_slice(&bytes).unwrap() {
        ApiReply::Ok(ForwardedListReply::Forwarded { forwards }) => forwards,
        other => panic!("{other:?}"),
    }
}

/// An acknowledgement as the receiving region's intake sends it: a service, without a person's
/// identity header.
async fn acknowledge(router: &RoutingRouter, region: String) -> ForwardedAckReply {
    let request = ForwardedAckRequest {
        notice_key: "PI-HAARLEM:f1".into(),
        region,
    };
    let bytes = router
        .request_as(
            "",
            router.subjects.router_forwarded_ack(),
            serde_json::to_vec(&request).unwrap(),
        )
        .await;
    match serde_json::from_slice(&bytes).unwrap() {
        ApiReply::Ok(reply) => reply,
        ApiReply::Problem(p) => panic!("the acknowledgement was refused: {p:?}"),
    }
}
