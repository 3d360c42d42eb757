//! The router's API on the endpoint kit, seen from outside: discovery and statistics through the
//! NATS service API (`$SRV.INFO|STATS`), problems in the envelope naming the JSON path, requests
//! without a reply subject refused and not carried out, and who may acknowledge a forward.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use futures::StreamExt;
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::routing_api::{ForwardedAckReply, ForwardedAckRequest, ManualRoutingKind};
use rcn_runtime::testing::eventually;
use serde_json::Value;

use crate::routing_support::{PATIENCE, RoutingRouter, coordinator, decision, unroutable};

/// This test's router as `$SRV.<verb>.rcn-router` describes it. Every running test has a router
/// and each answers; ours is the one whose endpoints are on this test's region's subjects.
async fn service_api(router: &RoutingRouter, verb: &str) -> Value {
    let ours = router.subjects.router_queue_list();
    eventually(PATIENCE, &format!("our router in $SRV.{verb}"), || {
        let ours = ours.clone();
        async move {
            let inbox = router.nats.new_inbox();
            let mut answers = router.nats.subscribe(inbox.clone()).await.ok()?;
            router
                .nats
                .publish_with_reply(format!("$SRV.{verb}.rcn-router"), inbox, "".into())
                .await
                .ok()?;
            let collect = async {
                while let Some(m) = answers.next().await {
                    let v: Value = serde_json::from_slice(&m.payload).ok()?;
                    let endpoints = v["endpoints"].as_array()?;
                    if endpoints.iter().any(|e| e["subject"] == ours.as_str()) {
                        return Some(v);
                    }
                }
                None
            };
            tokio::time::timeout(Duration::from_millis(500), collect)
                .await
                .ok()
                .flatten()
        }
    })
    .await
}

/// One endpoint's entry in an INFO or STATS answer.
fn endpoint<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no endpoint {name} in {answer}"))
}

fn errors(stats: &Value, name: &str) -> u64 {
    endpoint(stats, name)["num_errors"].as_u64().unwrap()
}

#[tokio::test]
async fn the_service_api_lists_the_router_with_its_eight_endpoints() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    let info = service_api(&router, "INFO").await;
    assert_eq!(info["name"], "rcn-router");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    let s = &router.subjects;
    for (name, subject) in [
        ("queue-list", s.router_queue_list()),
        ("queue-decide", s.router_queue_decide()),
        ("forwarded-list", s.router_forwarded_list()),
        ("forwarded-ack", s.router_forwarded_ack()),
        ("retention_log", s.router_api("retention_log")),
        ("decisions", s.router_decisions()),
        ("privacy-export", s.router_privacy_export()),
        ("privacy-accesses", s.router_api("privacy_accesses")),
    ] {
        assert_eq!(endpoint(&info, name)["subject"], subject.as_str(), "{info}");
    }
    assert_eq!(info["endpoints"].as_array().unwrap().len(), 8, "{info}");
    router.stop().await;
}

#[tokio::test]
async fn a_bad_request_gets_a_problem_naming_the_json_path_and_counts_as_an_error() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    router.route(&unroutable("PI-HAARLEM:p1")).await;
    let before = errors(&service_api(&router, "STATS").await, "queue-decide");

    let valid = serde_json::to_vec(&decision(
        "PI-HAARLEM:p1",
        ManualRoutingKind::Municipality,
        "GM0392",
        "c",
    ))
    .unwrap();
    let trailing = [&valid[..], b"xyz"].concat();
    let problem = router.decide_raw(trailing).await.unwrap_err();
    assert_eq!(problem.kind, "urn:rcn:problem:invalid-request");
    assert_eq!(
        (problem.status, problem.title.as_str()),
        (400, "Invalid request")
    );
    assert_eq!(problem.invalid_params.len(), 1, "{problem:?}");
    assert_eq!(problem.invalid_params[0].name, "", "the body as a whole");
    assert!(
        problem.invalid_params[0]
            .reason
            .contains("goes on after the end"),
        "{problem:?}"
    );

    let bad_field = br#"{"notice_key": "PI-HAARLEM:p1", "decision": {"kind": "municipality", "gemeentecode": "0392"}, "decided_by": "c", "why": "w"}"#;
    let problem = router.decide_raw(bad_field.to_vec()).await.unwrap_err();
    assert_eq!(problem.invalid_params[0].name, "decision.gemeentecode");
    assert!(!problem.detail.contains("\"0392\""), "{problem:?}");

    // The protocol's error headers travel with the problem, for `nats req` and other clients.
    let h = router.signed(
        &coordinator("c"),
        &router.subjects.router_queue_decide(),
        b"{}",
    );
    let raw = router
        .nats
        .request_with_headers(router.subjects.router_queue_decide(), h, "{}".into())
        .await
        .unwrap();
    let code = raw
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Service-Error-Code"));
    assert_eq!(code.map(|v| v.as_str()), Some("400"));
    let reply = serde_json::from_slice::<ApiReply<Value>>(&raw.payload).unwrap();
    assert!(
        matches!(reply, ApiReply::Problem(ref p) if p.invalid_params[0].reason == "the field `notice_key` is required"),
        "{reply:?}"
    );

    let stats = service_api(&router, "STATS").await;
    assert_eq!(errors(&stats, "queue-decide"), before + 3, "{stats}");
    assert_eq!(
        endpoint(&stats, "queue-decide")["last_error"],
        "400:Invalid request",
        "{stats}"
    );
    assert_eq!(router.waiting().await.len(), 1, "nothing was decided");
    router.stop().await;
}

#[tokio::test]
async fn a_request_without_a_reply_subject_is_refused_and_changes_nothing() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    router.route(&unroutable("PI-HAARLEM:nr1")).await;
    // The API answers, so the published request below reaches it.
    assert_eq!(router.waiting().await.len(), 1);
    let before = errors(&service_api(&router, "STATS").await, "queue-decide");

    let body = serde_json::to_vec(&decision(
        "PI-HAARLEM:nr1",
        ManualRoutingKind::Municipality,
        "GM0392",
        "coordinator-7",
    ))
    .unwrap();
    let h = router.signed(
        &coordinator("coordinator-7"),
        &router.subjects.router_queue_decide(),
        &body,
    );
    router
        .nats
        .publish_with_headers(router.subjects.router_queue_decide(), h, body.into())
        .await
        .unwrap();
    router.nats.flush().await.unwrap();

    // Counted as an error: proof it arrived and was refused, not lost on the way.
    eventually(PATIENCE, "the refusal counted", || async {
        let stats = service_api(&router, "STATS").await;
        (errors(&stats, "queue-decide") == before + 1).then_some(())
    })
    .await;
    assert_eq!(router.waiting().await.len(), 1, "the notice still waits");
    let decided: i64 = sqlx::query_scalar("SELECT count(*) FROM router.manual_decisions")
        .fetch_one(&router.db)
        .await
        .unwrap();
    assert_eq!(decided, 0);
    router.stop().await;
}

#[tokio::test]
async fn a_forward_is_acknowledged_by_a_service_not_by_a_person() {
    let router = RoutingRouter::spawn_with(|_| {}).await;
    let request = ForwardedAckRequest {
        notice_key: "PI-HAARLEM:f9".into(),
        region: "elsewhere".into(),
    };
    let body = serde_json::to_vec(&request).unwrap();
    let subject = router.subjects.router_forwarded_ack();

    let as_person = router
        .request_as(&coordinator("coordinator-7"), subject.clone(), body.clone())
        .await;
    let reply: ApiReply<ForwardedAckReply> = serde_json::from_slice(&as_person).unwrap();
    assert!(
        matches!(reply, ApiReply::Problem(ref p) if p.status == 403),
        "{reply:?}"
    );

    let as_intake = router.request_as("", subject, body).await;
    let reply: ApiReply<ForwardedAckReply> = serde_json::from_slice(&as_intake).unwrap();
    assert!(
        matches!(
            reply,
            ApiReply::Ok(ForwardedAckReply::UnknownForward { .. })
        ),
        "{reply:?}"
    );
    router.stop().await;
}
