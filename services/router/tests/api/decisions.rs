//! One decision per notice, recorded with its rule and reason, and announced on the ROUTING
//! subject that says where the notice goes.

use rcn_contracts::Gemeentecode;
use rcn_contracts::events::{RoutingOutcome, RoutingRule};
use rcn_runtime::headers;

use crate::helpers::{TestRouter, accepted, header, routed};

fn gm(code: &str) -> Gemeentecode {
    Gemeentecode::parse(code).expect("a valid gemeentecode")
}

#[tokio::test]
async fn a_notice_registered_in_a_municipality_of_the_region_is_routed_there() {
    let router = TestRouter::spawn().await;
    let notice = accepted("PI-HAARLEM:n1", |n| {
        n.person.brp_municipality = Some(gm("GM0392"))
    });
    router.publish(&notice, "PI-HAARLEM:n1").await;

    let decision = router.wait_for_decision("PI-HAARLEM:n1").await;
    assert_eq!(
        (
            decision.outcome.as_str(),
            decision.gemeentecode.as_deref(),
            decision.rule.as_str()
        ),
        ("routed", Some("GM0392"), "brp_registration")
    );
    assert!(
        decision.reason.contains("GM0392"),
        "the reason names the municipality: {}",
        decision.reason
    );
    assert_eq!(decision.episode_key, notice.episode_key);

    let events = router.wait_for_routing_events(1).await;
    let m = &events[0];
    assert_eq!(m.subject.as_str(), router.subjects.routed(&gm("GM0392")));
    let event = routed(m);
    assert_eq!(
        header(m, headers::MSG_ID),
        Some(event.event_id.to_string().as_str()),
        "published through the outbox"
    );
    assert_eq!(
        event.outcome,
        RoutingOutcome::Routed {
            gemeentecode: gm("GM0392")
        }
    );
    assert_eq!(event.rule, RoutingRule::BrpRegistration);
    assert_eq!(event.reason, decision.reason);
    assert_eq!(
        (
            event.notice_key.as_str(),
            event.person_key.as_str(),
            event.episode_key.as_str()
        ),
        (
            notice.notice_key.as_str(),
            notice.person_key.as_str(),
            notice.episode_key.as_str()
        )
    );
    assert_eq!(event.received_at, notice.received_at);
    assert_eq!(
        event.notice, notice.notice,
        "casework gets the notice it must show"
    );
    router.stop().await;
}

#[tokio::test]
async fn a_notice_registered_outside_the_region_is_routed_out_of_region() {
    let router = TestRouter::spawn().await;
    let notice = accepted("PI-HAARLEM:n1", |n| {
        n.person.brp_municipality = Some(gm("GM0363"))
    });
    router.publish(&notice, "PI-HAARLEM:n1").await;

    let decision = router.wait_for_decision("PI-HAARLEM:n1").await;
    assert_eq!(
        (
            decision.outcome.as_str(),
            decision.gemeentecode.as_deref(),
            decision.rule.as_str()
        ),
        ("out_of_region", Some("GM0363"), "brp_registration")
    );
    assert!(
        decision.reason.contains("outside the region"),
        "{}",
        decision.reason
    );
    let events = router.wait_for_routing_events(1).await;
    assert_eq!(
        events[0].subject.as_str(),
        router.subjects.out_of_region(&gm("GM0363"))
    );
    assert_eq!(
        routed(&events[0]).outcome,
        RoutingOutcome::OutOfRegion {
            gemeentecode: gm("GM0363")
        }
    );
    router.stop().await;
}

#[tokio::test]
async fn a_notice_without_registration_or_address_is_unroutable() {
    let router = TestRouter::spawn().await;
    let notice = accepted("PI-HAARLEM:n1", |n| {
        n.person.brp_municipality = None;
        n.person.address = None;
    });
    router.publish(&notice, "PI-HAARLEM:n1").await;

    let decision = router.wait_for_decision("PI-HAARLEM:n1").await;
    assert_eq!(
        (
            decision.outcome.as_str(),
            decision.gemeentecode.as_deref(),
            decision.rule.as_str()
        ),
        ("unroutable", None, "no_rule")
    );
    assert!(!decision.reason.is_empty());
    let events = router.wait_for_routing_events(1).await;
    assert_eq!(events[0].subject.as_str(), router.subjects.unroutable());
    assert_eq!(routed(&events[0]).outcome, RoutingOutcome::Unroutable);
    router.stop().await;
}

#[tokio::test]
async fn a_notice_without_registration_is_routed_by_the_postcode_of_its_last_address() {
    let router = TestRouter::spawn().await;
    // The example's last address is 2011 AB, Haarlem.
    let notice = accepted("PI-HAARLEM:n1", |n| n.person.brp_municipality = None);
    router.publish(&notice, "PI-HAARLEM:n1").await;

    let decision = router.wait_for_decision("PI-HAARLEM:n1").await;
    assert_eq!(
        (
            decision.outcome.as_str(),
            decision.gemeentecode.as_deref(),
            decision.rule.as_str()
        ),
        ("routed", Some("GM0392"), "pc4_table")
    );
    assert!(
        decision.reason.contains("2011"),
        "the reason names the PC4: {}",
        decision.reason
    );
    let events = router.wait_for_routing_events(1).await;
    assert_eq!(
        events[0].subject.as_str(),
        router.subjects.routed(&gm("GM0392"))
    );
    router.stop().await;
}

#[tokio::test]
async fn a_decision_records_why_without_personal_data() {
    let router = TestRouter::spawn().await;
    let by_brp = accepted("PI-HAARLEM:n1", |_| {});
    let by_pc4 = accepted("PI-HAARLEM:n2", |n| n.person.brp_municipality = None);
    router.publish(&by_brp, "PI-HAARLEM:n1").await;
    router.publish(&by_pc4, "PI-HAARLEM:n2").await;

    for key in ["PI-HAARLEM:n1", "PI-HAARLEM:n2"] {
        let decision = router.wait_for_decision(key).await;
        let recorded = format!("{} {}", decision.reason, decision.inputs);
        for personal in [
            "123456782",
            "Jansen",
            "Piet",
            "2011AB",
            "2011 AB",
            "1990-04-01",
        ] {
            assert!(
                !recorded.contains(personal),
                "{key}: {personal:?} in {recorded}"
            );
        }
    }
    let pc4 = router.wait_for_decision("PI-HAARLEM:n2").await;
    assert_eq!(
        pc4.inputs["house_number"], 12,
        "the inputs the rules used are kept: {}",
        pc4.inputs
    );
    router.stop().await;
}
