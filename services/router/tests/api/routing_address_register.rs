//! Rule 2: the address register, answering, not knowing, slow, failing, down and skipped by the
//! circuit breaker. Whatever it does, every notice gets a decision that says what happened.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use crate::routing_support::{
    Register, RegisterStandIn, RoutingRouter, accepted, by_address, register_that_is_down,
};

#[tokio::test]
async fn the_register_s_answer_decides_before_the_pc4_table_and_is_recorded() {
    let register = RegisterStandIn::start(Register::Answers("0453")).await;
    let router = RoutingRouter::spawn_with_register(&register.url, |_| {}).await;
    // PC4 2011 is Haarlem, but the register places the house in Velsen.
    let mut notice = by_address("PI-HAARLEM:r1", "2011AB");
    notice.notice.person.address.as_mut().unwrap().house_letter = Some("A".into());

    let decision = router.route(&notice).await;
    assert_eq!(
        (
            decision.outcome.as_str(),
            decision.gemeentecode.as_deref(),
            decision.rule.as_str()
        ),
        ("routed", Some("GM0453"), "address_lookup")
    );
    assert!(
        decision
            .reason
            .contains("address register places the last address in GM0453"),
        "{}",
        decision.reason
    );
    assert_eq!(
        decision.inputs["address_register"],
        serde_json::json!({"result": "found", "gemeentecode": "GM0453", "attempts": 1})
    );
    let queries = register.queries();
    assert_eq!(queries.len(), 1);
    let sent: Vec<(&str, &str)> = {
        let mut v: Vec<_> = queries[0]
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        sent,
        [
            ("huisletter", "A"),
            ("huisnummer", "12"),
            ("postcode", "2011AB")
        ],
        "only the address is sent"
    );
    router.stop().await;
}

#[tokio::test]
async fn a_notice_with_a_brp_registration_is_routed_without_asking_the_register() {
    let register = RegisterStandIn::start(Register::Answers("0453")).await;
    let router = RoutingRouter::spawn_with_register(&register.url, |_| {}).await;
    let decision = router.route(&accepted("PI-HAARLEM:r1", |_| {})).await;
    assert_eq!(decision.rule, "brp_registration");
    assert_eq!(decision.inputs["address_register"], serde_json::Value::Null);
    assert_eq!(register.hits(), 0);
    router.stop().await;
}

#[tokio::test]
async fn an_address_the_register_does_not_know_is_left_to_the_pc4_table_which_says_so() {
    let register = RegisterStandIn::start(Register::DoesNotKnow).await;
    let router = RoutingRouter::spawn_with_register(&register.url, |_| {}).await;
    let decision = router.route(&by_address("PI-HAARLEM:r1", "2011AB")).await;
    assert_eq!(
        (decision.gemeentecode.as_deref(), decision.rule.as_str()),
        (Some("GM0392"), "pc4_table")
    );
    assert!(
        decision
            .reason
            .starts_with("the address register does not know the last address; PC4 2011"),
        "{}",
        decision.reason
    );
    assert_eq!(decision.inputs["address_register"]["result"], "not_found");
    router.stop().await;
}

#[tokio::test]
async fn a_slow_register_is_given_up_on_after_its_timeout_and_retries_and_the_pc4_table_decides() {
    let register = RegisterStandIn::start(Register::Slow(Duration::from_secs(3))).await;
    let router = RoutingRouter::spawn_with_register(&register.url, |_| {}).await;
    let started = tokio::time::Instant::now();
    let decision = router.route(&by_address("PI-HAARLEM:r1", "2011AB")).await;
    assert_eq!(
        (decision.gemeentecode.as_deref(), decision.rule.as_str()),
        (Some("GM0392"), "pc4_table")
    );
    assert!(
        decision.reason.starts_with(
            "the address register could not be asked (no answer within 300 ms; 3 attempts); "
        ),
        "{}",
        decision.reason
    );
    assert_eq!(decision.inputs["address_register"]["result"], "unavailable");
    assert_eq!(register.hits(), 3, "one request and two retries");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the router did not wait for the slow answer"
    );
    router.stop().await;
}

#[tokio::test]
async fn a_failing_register_is_retried_and_then_the_pc4_table_decides_and_says_so() {
    let register = RegisterStandIn::start(Register::Fails).await;
    let router = RoutingRouter::spawn_with_register(&register.url, |_| {}).await;
    let decision = router.route(&by_address("PI-HAARLEM:r1", "2011AB")).await;
    assert_eq!(
        (decision.gemeentecode.as_deref(), decision.rule.as_str()),
        (Some("GM0392"), "pc4_table")
    );
    assert!(
        decision.reason.starts_with(
            "the address register could not be asked (it answered HTTP 500; 3 attempts); "
        ),
        "{}",
        decision.reason
    );
    assert_eq!(decision.inputs["address_register"]["attempts"], 3);
    assert_eq!(register.hits(), 3);
    router.stop().await;
}

#[tokio::test]
async fn a_register_that_is_down_falls_back_to_the_pc4_table_and_says_so() {
    let router = RoutingRouter::spawn_with_register(&register_that_is_down().await, |_| {}).await;
    let decision = router.route(&by_address("PI-HAARLEM:r1", "2011AB")).await;
    assert_eq!(
        (decision.gemeentecode.as_deref(), decision.rule.as_str()),
        (Some("GM0392"), "pc4_table")
    );
    assert!(
        decision.reason.starts_with(
            "the address register could not be asked (it cannot be reached; 3 attempts); "
        ),
        "{}",
        decision.reason
    );
    for secret in ["2011AB", "123456782", "Jansen"] {
        assert!(
            !decision.reason.contains(secret),
            "{secret} in {}",
            decision.reason
        );
    }
    router.stop().await;
}

#[tokio::test]
async fn after_repeated_failures_the_register_is_skipped_until_its_cool_down_has_passed() {
    let register = RegisterStandIn::start(Register::Fails).await;
    let router = RoutingRouter::spawn_with_register(&register.url, |c| {
        c.retries = 0;
        c.breaker_failures = 2;
        c.breaker_cooldown = Duration::from_secs(1);
    })
    .await;

    for (i, key) in ["PI-HAARLEM:r1", "PI-HAARLEM:r2"].into_iter().enumerate() {
        let decision = router.route(&by_address(key, "2011AB")).await;
        assert!(
            decision.reason.contains("it answered HTTP 500; 1 attempt"),
            "{}",
            decision.reason
        );
        assert_eq!(register.hits(), i + 1);
    }
    // Two failed look-ups in a row: the breaker is open and the register is not asked.
    let skipped = router.route(&by_address("PI-HAARLEM:r3", "2011AB")).await;
    assert_eq!(register.hits(), 2, "the open breaker kept the request home");
    assert_eq!(
        (skipped.gemeentecode.as_deref(), skipped.rule.as_str()),
        (Some("GM0392"), "pc4_table")
    );
    assert!(
        skipped
            .reason
            .contains("could not be asked (skipped: it failed repeatedly"),
        "{}",
        skipped.reason
    );
    assert_eq!(skipped.inputs["address_register"]["attempts"], 0);

    // After the cool-down one look-up probes the register again; it works, so it decides.
    register.set(Register::Answers("0453"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let probed = router.route(&by_address("PI-HAARLEM:r4", "2011AB")).await;
    assert_eq!(register.hits(), 3);
    assert_eq!(
        (probed.gemeentecode.as_deref(), probed.rule.as_str()),
        (Some("GM0453"), "address_lookup")
    );
    let closed = router.route(&by_address("PI-HAARLEM:r5", "2011AB")).await;
    assert_eq!(
        (register.hits(), closed.rule.as_str()),
        (4, "address_lookup"),
        "the breaker closed again"
    );
    router.stop().await;
}

#[tokio::test]
async fn without_a_configured_register_the_decision_says_the_address_was_not_looked_up() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    let decision = router.route(&by_address("PI-HAARLEM:r1", "2011AB")).await;
    assert_eq!(
        (decision.gemeentecode.as_deref(), decision.rule.as_str()),
        (Some("GM0392"), "pc4_table")
    );
    assert!(
        decision.reason.starts_with(
            "no address register is configured, so the address was not looked up; PC4 2011"
        ),
        "{}",
        decision.reason
    );
    assert_eq!(
        decision.inputs["address_register"]["result"],
        "not_configured"
    );
    router.stop().await;
}
