//! The RCN's manual routing queue over NATS request-reply: what waits, a coordinator's decision
//! announced as `NoticeRouted` (rule `manual`), exactly once even when two decide at once, and
//! clear refusals.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::events::{RoutingOutcome, RoutingRule};
use rcn_contracts::routing_api::{ManualRoutingKind, QueueDecideReply, QueueListReply};

use crate::routing_support::{
    RoutingRouter, accepted, coordinator, decision, gm, routed, stream_messages, unroutable,
};

#[tokio::test]
async fn unroutable_notices_wait_in_the_queue_oldest_first_with_a_masked_bsn_only() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    let first = unroutable("PI-HAARLEM:q1");
    let mut second = unroutable("PI-HAARLEM:q2");
    second.received_at = first.received_at + chrono::Duration::seconds(1);
    // Published newest first: the queue still lists by when intake received them.
    router.route(&second).await;
    router.route(&first).await;
    router.route(&accepted("PI-HAARLEM:q3", |_| {})).await;

    let (bytes, reply) = router.list_raw(b"").await;
    let Ok(QueueListReply::Waiting { notices, more }) = reply else {
        panic!("{reply:?}")
    };
    let keys: Vec<&str> = notices.iter().map(|n| n.notice_key.as_str()).collect();
    assert_eq!(
        keys,
        ["PI-HAARLEM:q1", "PI-HAARLEM:q2"],
        "only the unroutable ones, oldest first"
    );
    assert!(!more);
    let waiting = &notices[0];
    assert_eq!(waiting.bsn_masked.as_deref(), Some("*****6782"));
    assert_eq!(waiting.institution_code.as_deref(), Some("PI-HAARLEM"));
    assert_eq!(waiting.received_at, first.received_at);
    assert!(
        waiting
            .reason
            .contains("neither a BRP registration nor an address"),
        "{}",
        waiting.reason
    );
    assert_eq!(waiting.inputs["no_fixed_abode"], false);
    let text = String::from_utf8(bytes).unwrap();
    for personal in ["123456782", "Jansen", "Piet", "1990-04-01"] {
        assert!(!text.contains(personal), "{personal} in the list reply");
    }

    let (_, limited) = router.list_raw(br#"{"limit": 1}"#).await;
    assert!(
        matches!(limited, Ok(QueueListReply::Waiting { ref notices, more: true }) if notices.len() == 1),
        "{limited:?}"
    );
    let (_, refused) = router.list_raw(br#"{"limit": 0}"#).await;
    assert!(
        matches!(refused, Err(ref p) if p.status == 400 && p.invalid_params[0].name == "limit"),
        "{refused:?}"
    );
    router.stop().await;
}

#[tokio::test]
async fn a_coordinator_s_decision_routes_the_notice_to_the_chosen_municipality_with_who_and_why() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    let notice = unroutable("PI-HAARLEM:q1");
    router.route(&notice).await;

    let reply = router
        .decide(&decision(
            "PI-HAARLEM:q1",
            ManualRoutingKind::Municipality,
            "GM0392",
            "coordinator-7",
        ))
        .await;
    let Ok(QueueDecideReply::Decided { decision: decided }) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(
        decided.outcome,
        RoutingOutcome::Routed {
            gemeentecode: gm("GM0392")
        }
    );
    assert_eq!(decided.decided_by, "coordinator-7");

    let subject = router.subjects.routed(&gm("GM0392"));
    let events = router.routing_events_for(&subject, "PI-HAARLEM:q1").await;
    assert_eq!(events.len(), 1);
    let event = routed(&events[0]);
    assert_eq!(event.rule, RoutingRule::Manual);
    assert_eq!(
        event.outcome,
        RoutingOutcome::Routed {
            gemeentecode: gm("GM0392")
        }
    );
    assert!(
        event
            .reason
            .starts_with("decided by hand by coordinator-7: Laatst bekend"),
        "{}",
        event.reason
    );
    assert_eq!(
        event.notice, notice.notice,
        "casework gets the whole notice"
    );
    assert_eq!(
        (event.person_key, event.episode_key),
        (notice.person_key, notice.episode_key)
    );
    assert_eq!(event.decided_at, decided.decided_at);

    assert!(
        router.waiting().await.is_empty(),
        "a decided notice no longer waits"
    );
    let kept: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT notice FROM router.decisions WHERE notice_key = 'PI-HAARLEM:q1'",
    )
    .fetch_one(&router.db)
    .await
    .unwrap();
    assert_eq!(
        kept, None,
        "the router drops its copy of the notice once it is decided"
    );
    let (by, why): (String, String) = sqlx::query_as(
        "SELECT decided_by, why FROM router.manual_decisions WHERE notice_key = 'PI-HAARLEM:q1'",
    )
    .fetch_one(&router.db)
    .await
    .unwrap();
    assert_eq!(
        (by.as_str(), why.starts_with("Laatst bekend")),
        ("coordinator-7", true)
    );
    router.stop().await;
}

#[tokio::test]
async fn two_coordinators_deciding_the_same_notice_at_once_yield_one_decision_and_one_event() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    for round in 0..5 {
        let key = format!("PI-HAARLEM:race{round}");
        router.route(&unroutable(&key)).await;
        let anna = decision(&key, ManualRoutingKind::Municipality, "GM0392", "anna");
        let bram = decision(&key, ManualRoutingKind::Municipality, "GM0473", "bram");
        let (a, b) = tokio::join!(router.decide(&anna), router.decide(&bram));

        let (winner, loser) = match (a, b) {
            (Ok(QueueDecideReply::Decided { decision: w }), l)
            | (l, Ok(QueueDecideReply::Decided { decision: w })) => (w, l),
            other => panic!("round {round}: nobody won: {other:?}"),
        };
        let Ok(QueueDecideReply::AlreadyDecided {
            decision: theirs,
            message,
        }) = loser
        else {
            panic!("round {round}: the loser was told {loser:?}")
        };
        assert_eq!(theirs, winner, "the loser is shown the winner's decision");
        assert!(
            message.contains(&format!("already decided by {}", winner.decided_by)),
            "{message}"
        );

        let RoutingOutcome::Routed { gemeentecode } = &winner.outcome else {
            panic!()
        };
        let events = router
            .routing_events_for(&router.subjects.routed(gemeentecode), &key)
            .await;
        assert_eq!(events.len(), 1, "round {round}: one NoticeRouted");
        // The outbox is empty now: everything the router will say about this notice is on ROUTING.
        let about: Vec<_> = stream_messages(&router.js, &router.subjects.routing_stream())
            .await
            .iter()
            .map(routed)
            .filter(|e| e.notice_key == key)
            .map(|e| e.rule)
            .collect();
        assert_eq!(
            about,
            [RoutingRule::NoRule, RoutingRule::Manual],
            "round {round}: queued once, decided once"
        );
    }
    let decided: i64 = sqlx::query_scalar("SELECT count(*) FROM router.manual_decisions")
        .fetch_one(&router.db)
        .await
        .unwrap();
    assert_eq!(decided, 5);
    router.stop().await;
}

#[tokio::test]
async fn decisions_that_cannot_apply_are_refused_in_words_and_change_nothing() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    router.route(&unroutable("PI-HAARLEM:q1")).await;
    router.route(&accepted("PI-HAARLEM:routed", |_| {})).await;
    let rejected_path = |reply: Result<QueueDecideReply, ApiProblem>| match reply {
        Err(p) if p.status == 400 => p
            .invalid_params
            .into_iter()
            .map(|p| (p.name, p.reason))
            .collect::<Vec<_>>(),
        other => panic!("not rejected: {other:?}"),
    };

    let unknown = router
        .decide(&decision(
            "PI-HAARLEM:nope",
            ManualRoutingKind::Municipality,
            "GM0392",
            "c",
        ))
        .await;
    assert!(
        matches!(unknown, Ok(QueueDecideReply::UnknownNotice { ref message }) if message.contains("PI-HAARLEM:nope")),
        "{unknown:?}"
    );

    let not_waiting = router
        .decide(&decision(
            "PI-HAARLEM:routed",
            ManualRoutingKind::Municipality,
            "GM0392",
            "c",
        ))
        .await;
    assert!(
        matches!(not_waiting, Ok(QueueDecideReply::NotWaiting { ref message }) if message.contains("brp_registration")),
        "{not_waiting:?}"
    );

    let outside = router
        .decide(&decision(
            "PI-HAARLEM:q1",
            ManualRoutingKind::Municipality,
            "GM0394",
            "c",
        ))
        .await;
    let problems = rejected_path(outside);
    assert_eq!(problems[0].0, "decision.gemeentecode");
    assert!(
        problems[0].1.contains(
            "GM0394 is not a municipality of Kennemerland; choose one of GM0392 (Haarlem)"
        ),
        "{problems:?}"
    );

    let inside = router
        .decide(&decision(
            "PI-HAARLEM:q1",
            ManualRoutingKind::OutOfRegion,
            "GM0392",
            "c",
        ))
        .await;
    assert_eq!(rejected_path(inside)[0].0, "decision.gemeentecode");

    let mut no_why = decision(
        "PI-HAARLEM:q1",
        ManualRoutingKind::Municipality,
        "GM0392",
        "c",
    );
    no_why.why = "  ".into();
    assert_eq!(rejected_path(router.decide(&no_why).await)[0].0, "why");

    let malformed = router
        .decide_raw(br#"{"notice_key": "PI-HAARLEM:q1", "decision": {"kind": "here"}}"#.to_vec())
        .await;
    assert_eq!(rejected_path(malformed)[0].0, "decision.kind");

    assert_eq!(router.waiting().await.len(), 1, "nothing was decided");
    router.stop().await;
}

#[tokio::test]
async fn only_rcn_coordinators_see_and_decide_the_queue_and_only_in_their_own_name() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    router.route(&unroutable("PI-HAARLEM:auth1")).await;
    let staff = serde_json::json!({"user_id": "medewerker-1", "role": "municipal_staff", "gemeentecode": "GM0392"}).to_string();
    let list = router.subjects.router_queue_list();
    let decide = router.subjects.router_queue_decide();

    // Without an identity: unauthenticated (401); a municipal colleague: forbidden (403).
    for (identity, status) in [("", 401), (staff.as_str(), 403)] {
        let reply: ApiReply<QueueListReply> = serde_json::from_slice(
            &router
                .request_as(identity, list.clone(), b"{}".to_vec())
                .await,
        )
        .unwrap();
        assert!(
            matches!(reply, ApiReply::Problem(ref p) if p.status == status),
            "{identity:?}: {reply:?}"
        );
        let body = serde_json::to_vec(&decision(
            "PI-HAARLEM:auth1",
            ManualRoutingKind::Municipality,
            "GM0392",
            "medewerker-1",
        ))
        .unwrap();
        let reply: ApiReply<QueueDecideReply> =
            serde_json::from_slice(&router.request_as(identity, decide.clone(), body).await)
                .unwrap();
        assert!(
            matches!(reply, ApiReply::Problem(ref p) if p.status == status),
            "{identity:?}: {reply:?}"
        );
    }
    // A coordinator cannot decide in a colleague's name.
    let body = serde_json::to_vec(&decision(
        "PI-HAARLEM:auth1",
        ManualRoutingKind::Municipality,
        "GM0392",
        "someone-else",
    ))
    .unwrap();
    let reply: ApiReply<QueueDecideReply> = serde_json::from_slice(
        &router
            .request_as(&coordinator("coordinator-7"), decide, body)
            .await,
    )
    .unwrap();
    assert!(
        matches!(reply, ApiReply::Problem(ref p) if p.status == 403),
        "{reply:?}"
    );
    assert_eq!(router.waiting().await.len(), 1, "nothing was decided");
    router.stop().await;
}

#[tokio::test]
async fn a_decision_naming_no_current_municipality_is_refused_without_echoing_it() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    router.route(&unroutable("PI-HAARLEM:cbs1")).await;
    let refused = |reply: Result<QueueDecideReply, ApiProblem>| match reply {
        Err(p) if p.status == 400 => p.invalid_params,
        other => panic!("not rejected: {other:?}"),
    };

    // Well-formed, but CBS never gave this code: before, it was recorded and routed nowhere.
    let unknown = refused(
        router
            .decide(&decision(
                "PI-HAARLEM:cbs1",
                ManualRoutingKind::OutOfRegion,
                "GM9999",
                "c",
            ))
            .await,
    );
    assert_eq!(unknown[0].name, "decision.gemeentecode");
    assert!(unknown[0].reason.contains("CBS list"), "{unknown:?}");
    assert!(!unknown[0].reason.contains("9999"), "{unknown:?}");

    // Weesp merged into Amsterdam: the coordinator is told to choose Amsterdam.
    let merged = refused(
        router
            .decide(&decision(
                "PI-HAARLEM:cbs1",
                ManualRoutingKind::OutOfRegion,
                "GM0457",
                "c",
            ))
            .await,
    );
    assert_eq!(merged[0].name, "decision.gemeentecode");
    assert!(
        merged[0]
            .reason
            .contains("merged into GM0363 (Amsterdam) on 2022-03-24; choose GM0363 (Amsterdam)"),
        "{merged:?}"
    );

    assert_eq!(router.waiting().await.len(), 1, "nothing was decided");
    router.stop().await;
}

#[tokio::test]
async fn a_merged_brp_registration_is_routed_to_the_successor_and_an_unknown_one_waits() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    let weesp = router
        .route(&accepted("PI-HAARLEM:weesp", |n| {
            n.person.brp_municipality = Some(gm("GM0457"));
        }))
        .await;
    assert_eq!(
        (weesp.outcome.as_str(), weesp.gemeentecode.as_deref()),
        ("out_of_region", Some("GM0363"))
    );
    assert_eq!(weesp.rule, "brp_registration");
    assert!(
        weesp
            .reason
            .contains("GM0457 (Weesp) merged into GM0363 (Amsterdam) on 2022-03-24"),
        "{}",
        weesp.reason
    );

    // A code CBS never gave (a notice accepted before intake checked the list) is no longer
    // routed out of region to nowhere: it waits for a coordinator.
    let unknown = router
        .route(&accepted("PI-HAARLEM:gm9999", |n| {
            n.person.brp_municipality = Some(gm("GM9999"));
        }))
        .await;
    assert_eq!(unknown.outcome, "unroutable");
    assert_eq!(unknown.gemeentecode, None);
    assert!(unknown.reason.contains("CBS list"), "{}", unknown.reason);
    router.stop().await;
}
