//! Issue 3 at the gateway: API tokens per institution, the caller's identity passed to intake,
//! 403 / 409 mapped from intake's answers, the status of a notice, and the OpenAPI document.
//! Intake is played by a stand-in that records what it was sent, headers included.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use rcn_contracts::intake::{
    NoticeState, NoticeStatus, PartnerIdentity, Receipt, ReceiptStatus, StatusReply, SubmitReply,
};
use rcn_contracts::notice::Problem;
use serde_json::Value;

use crate::helpers::{TestGateway, example_notice_bytes, problem};

/// A stand-in for intake on `subject`, answering `reply`; returns what it received.
async fn stand_in(
    gateway: &TestGateway,
    subject: String,
    reply: Vec<u8>,
) -> Arc<Mutex<Vec<(Option<String>, Vec<u8>)>>> {
    let nats = gateway.env.ctx("stand-in").await.nats;
    let mut requests = nats.subscribe(subject.clone()).await.expect("test set-up");
    nats.flush().await.expect("test set-up");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let env = gateway.env.clone();
    tokio::spawn(async move {
        while let Some(m) = requests.next().await {
            let identity = env.identity_of(&m);
            record
                .lock()
                .expect("test set-up")
                .push((identity, m.payload.to_vec()));
            if let Some(inbox) = m.reply {
                nats.publish(inbox, reply.clone().into())
                    .await
                    .expect("test set-up");
                nats.flush().await.expect("test set-up");
            }
        }
    });
    seen
}

async fn token(gateway: &TestGateway, code: &str) -> rcn_gateway::tokens::IssuedToken {
    let pool = rcn_gateway::tokens::open(gateway.env.config.database_url().expect("test set-up"))
        .await
        .expect("test set-up");
    rcn_gateway::tokens::issue(
        &pool,
        code,
        Some("test"),
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .expect("test set-up")
}

async fn post(gateway: &TestGateway, token: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut request = gateway
        .client
        .post(gateway.url("/v1/release-notices"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.expect("test set-up")
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_with_a_challenge_and_intake_is_not_asked() {
    let gateway = TestGateway::spawn().await;
    let seen = stand_in(&gateway, gateway.subjects.intake_submit(), b"{}".to_vec()).await;
    let response = post(&gateway, None, example_notice_bytes()).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"rcn\""
    );
    let body = problem(response, 401).await;
    assert_eq!(body["type"], "urn:rcn:problem:unauthorized");

    let issued = token(&gateway, "PI-HAARLEM").await;
    let pool = rcn_gateway::tokens::open(gateway.env.config.database_url().unwrap())
        .await
        .unwrap();
    rcn_gateway::tokens::revoke(
        &pool,
        issued.token_id,
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .unwrap();
    for bad in [issued.token.as_str(), "rcn_x_y", ""] {
        let response = post(&gateway, Some(bad), example_notice_bytes()).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"rcn\", error=\"invalid_token\"",
            "{bad:?}"
        );
        problem(response, 401).await;
    }
    // Authentication comes first: a caller without a token learns nothing about the body.
    let response = gateway
        .client
        .post(gateway.url("/v1/release-notices"))
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    problem(response, 401).await;
    assert!(seen.lock().unwrap().is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn intake_is_told_who_sends_and_a_notice_in_another_name_is_refused_first() {
    let gateway = TestGateway::spawn().await;
    let receipt = Receipt {
        notice_id: "PIH-2026-000123".into(),
        received_at: chrono::Utc::now(),
        status: ReceiptStatus::Accepted,
    };
    let seen = stand_in(
        &gateway,
        gateway.subjects.intake_submit(),
        serde_json::to_vec(&SubmitReply::Accepted { receipt }).unwrap(),
    )
    .await;
    let haarlem = token(&gateway, "PI-HAARLEM").await;
    assert_eq!(
        post(&gateway, Some(&haarlem.token), example_notice_bytes())
            .await
            .status(),
        202
    );
    let (identity, body) = seen.lock().unwrap()[0].clone();
    let identity = PartnerIdentity::from_header(&identity.expect("an identity header")).unwrap();
    assert_eq!(identity.institution_code, "PI-HAARLEM");
    assert_eq!(identity.credential, format!("token:{}", haarlem.token_id));
    assert_eq!(
        body,
        example_notice_bytes(),
        "the body reaches intake unchanged"
    );

    let zaanstad = token(&gateway, "PI-ZAANSTAD").await;
    let body = problem(
        post(&gateway, Some(&zaanstad.token), example_notice_bytes()).await,
        403,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("PI-ZAANSTAD"),
        "{body}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "intake was not asked");
    let pool = rcn_gateway::tokens::open(gateway.env.config.database_url().unwrap())
        .await
        .unwrap();
    let used = rcn_gateway::tokens::list(&pool).await.unwrap();
    assert!(
        used.iter()
            .find(|t| t.token_id == haarlem.token_id)
            .unwrap()
            .last_used_at
            .is_some()
    );
    gateway.stop().await;
}

#[tokio::test]
async fn intakes_conflict_is_409_and_its_forbidden_is_403() {
    let gateway = TestGateway::spawn().await;
    let haarlem = token(&gateway, "PI-HAARLEM").await;
    let conflict = SubmitReply::Conflict {
        problems: vec![Problem::new(
            "notice_id",
            "a different notice was already accepted under this notice_id",
        )],
    };
    let _intake = gateway.intake_replying(&conflict).await;
    let body = problem(
        post(&gateway, Some(&haarlem.token), example_notice_bytes()).await,
        409,
    )
    .await;
    assert_eq!(body["type"], "urn:rcn:problem:conflict");
    assert_eq!(body["invalidParams"][0]["name"], "notice_id");
    drop(_intake);

    let gateway2 = TestGateway::spawn().await;
    let haarlem = token(&gateway2, "PI-HAARLEM").await;
    let _intake = gateway2
        .intake_replying(&SubmitReply::Forbidden {
            message: "not yours".into(),
        })
        .await;
    let body = problem(
        post(&gateway2, Some(&haarlem.token), example_notice_bytes()).await,
        403,
    )
    .await;
    assert_eq!(body["detail"], "not yours");
    gateway.stop().await;
    gateway2.stop().await;
}

#[tokio::test]
async fn the_status_of_a_notice_comes_from_intake_for_the_callers_institution() {
    let gateway = TestGateway::spawn().await;
    let haarlem = token(&gateway, "PI-HAARLEM").await;
    let status = NoticeStatus {
        notice_id: "PIH-1".into(),
        kind: rcn_contracts::NoticeKind::ReleasePlanned,
        received_at: chrono::Utc::now(),
        status: NoticeState::Routed,
        gemeentecode: Some(rcn_contracts::Gemeentecode::parse("GM0392").unwrap()),
        decided_at: Some(chrono::Utc::now()),
    };
    let seen = stand_in(
        &gateway,
        gateway.subjects.intake_status(),
        serde_json::to_vec(&StatusReply::Found {
            status: status.clone(),
        })
        .unwrap(),
    )
    .await;
    let response = gateway
        .client
        .get(gateway.url("/v1/release-notices/PIH-1"))
        .bearer_auth(&haarlem.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let got: NoticeStatus = response.json().await.unwrap();
    assert_eq!(got, status);
    let (identity, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(
        PartnerIdentity::from_header(&identity.unwrap())
            .unwrap()
            .institution_code,
        "PI-HAARLEM"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        serde_json::json!({"notice_id": "PIH-1"})
    );

    let bad = gateway
        .client
        .get(gateway.url("/v1/release-notices/a%20b"))
        .bearer_auth(&haarlem.token)
        .send()
        .await
        .unwrap();
    let body = problem(bad, 400).await;
    assert_eq!(body["invalidParams"][0]["name"], "notice_id");
    assert_eq!(seen.lock().unwrap().len(), 1);
    gateway.stop().await;

    let gateway = TestGateway::spawn().await;
    let haarlem = token(&gateway, "PI-HAARLEM").await;
    let _seen = stand_in(
        &gateway,
        gateway.subjects.intake_status(),
        serde_json::to_vec(&StatusReply::NotFound).unwrap(),
    )
    .await;
    let response = gateway
        .client
        .get(gateway.url("/v1/release-notices/PIH-2"))
        .bearer_auth(&haarlem.token)
        .send()
        .await
        .unwrap();
    problem(response, 404).await;
    gateway.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_token() {
    let gateway = TestGateway::spawn().await;
    let response = gateway.get("/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.text().await.unwrap(),
        rcn_gateway::openapi::pretty()
    );
    gateway.stop().await;
}

#[tokio::test]
async fn tokens_are_issued_listed_rotated_and_revoked() {
    let gateway = TestGateway::spawn().await;
    let pool = rcn_gateway::tokens::open(gateway.env.config.database_url().unwrap())
        .await
        .unwrap();
    assert!(
        rcn_gateway::tokens::issue(
            &pool,
            "PI HAARLEM",
            None,
            rcn_gateway::tokens::Actor::CommandLine,
            None
        )
        .await
        .is_err(),
        "not a valid institution code"
    );
    let first = rcn_gateway::tokens::issue(
        &pool,
        "PI-HAARLEM",
        Some("casemanagement"),
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .unwrap();
    assert!(first.token.starts_with("rcn_") && first.token.len() > 90);
    let second = rcn_gateway::tokens::rotate(
        &pool,
        first.token_id,
        std::time::Duration::from_secs(60),
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .unwrap();
    assert_ne!(first.token, second.token);
    let now = chrono::Utc::now();
    let listed = rcn_gateway::tokens::list(&pool).await.unwrap();
    let find = |id| listed.iter().find(|t| t.token_id == id).unwrap().clone();
    assert_eq!(
        find(first.token_id).state(now),
        rcn_gateway::tokens::TokenState::Expiring
    );
    assert_eq!(find(first.token_id).replaced_by, Some(second.token_id));
    assert_eq!(
        find(second.token_id).name.as_deref(),
        Some("casemanagement")
    );
    assert_eq!(
        post(&gateway, Some(&first.token), b"{}".to_vec())
            .await
            .status(),
        503,
        "authenticated; no intake"
    );
    rcn_gateway::tokens::revoke(
        &pool,
        first.token_id,
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        post(&gateway, Some(&first.token), b"{}".to_vec())
            .await
            .status(),
        401,
        "revoked before its grace ended"
    );
    assert!(matches!(
        rcn_gateway::tokens::revoke(
            &pool,
            first.token_id,
            rcn_gateway::tokens::Actor::CommandLine,
            None
        )
        .await,
        Err(rcn_gateway::tokens::TokenError::AlreadyRevoked(_))
    ));
    assert!(matches!(
        rcn_gateway::tokens::revoke(
            &pool,
            uuid::Uuid::new_v4(),
            rcn_gateway::tokens::Actor::CommandLine,
            None
        )
        .await,
        Err(rcn_gateway::tokens::TokenError::NotFound(_))
    ));
    gateway.stop().await;
}

#[tokio::test]
async fn every_token_change_is_in_the_token_log_newest_first_with_who_and_why() {
    use rcn_contracts::identity::Role;
    use rcn_gateway::tokens::{self, Actor};
    let gateway = TestGateway::spawn().await;
    let pool = tokens::open(gateway.env.config.database_url().unwrap())
        .await
        .unwrap();
    let rita = Actor::Portal {
        user_id: "rita",
        role: Role::RcnCoordinator,
    };
    let first = tokens::issue(&pool, "PI-HAARLEM", None, Actor::CommandLine, None)
        .await
        .unwrap();
    let second = tokens::rotate(
        &pool,
        first.token_id,
        std::time::Duration::from_secs(3600),
        rita,
        Some("  Jaarlijkse vernieuwing  "),
    )
    .await
    .unwrap();
    tokens::revoke(&pool, second.token_id, rita, Some("Sleutel gelekt"))
        .await
        .unwrap();
    // Refused changes leave no entry: an overlong reason, a token revoked twice.
    let long = "x".repeat(tokens::MAX_WHY + 1);
    assert!(matches!(
        tokens::revoke(&pool, first.token_id, rita, Some(&long)).await,
        Err(tokens::TokenError::InvalidWhy)
    ));
    assert!(matches!(
        tokens::revoke(&pool, second.token_id, rita, None).await,
        Err(tokens::TokenError::AlreadyRevoked(_))
    ));

    // The test gateway's own token (issued on start) is in the log too: leave it out.
    let log: Vec<_> = tokens::log(&pool, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| [first.token_id, second.token_id].contains(&e.token_id))
        .collect();
    let seen: Vec<_> = log
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.token_id,
                e.via.as_str(),
                e.user_id.as_deref(),
                e.why.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "revoked",
                second.token_id,
                "portal",
                Some("rita"),
                Some("Sleutel gelekt")
            ),
            (
                "rotated",
                first.token_id,
                "portal",
                Some("rita"),
                Some("Jaarlijkse vernieuwing")
            ),
            ("issued", first.token_id, "command_line", None, None),
        ]
    );
    assert_eq!(log[1].successor_id, Some(second.token_id));
    assert_eq!(log[1].grace_secs, Some(3600));
    assert_eq!(log[0].role.as_deref(), Some("rcn_coordinator"));
    assert!(log.iter().all(|e| e.institution_code == "PI-HAARLEM"));
    // Nobody rewrites it.
    let rewrite = sqlx::query("UPDATE gateway.api_token_log SET why = 'anders'")
        .execute(&pool)
        .await;
    assert!(rewrite.is_err(), "the token log is append-only");
    let removed = sqlx::query("DELETE FROM gateway.api_token_log")
        .execute(&pool)
        .await;
    assert!(removed.is_err(), "the token log is append-only");
    gateway.stop().await;
}
