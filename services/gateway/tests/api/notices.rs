//! `POST /v1/release-notices`: the gateway checks the envelope, asks intake over NATS, and turns
//! every answer (or the lack of one) into the right status and problem.

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use rcn_contracts::intake::{PartnerIdentity, Receipt, ReceiptStatus, SubmitReply};
use rcn_contracts::notice::Problem;

use crate::helpers::{INSTITUTION, TestGateway, content_type, example_notice_bytes, problem};

const MAX_BODY: usize = 64 * 1024;

fn rejected(path: &str, message: &str) -> SubmitReply {
    SubmitReply::Rejected {
        problems: vec![Problem::new(path, message)],
    }
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_refused_with_415() {
    let gateway = TestGateway::spawn().await;
    let body = problem(
        gateway
            .post_notice(example_notice_bytes(), Some("text/plain"))
            .await,
        415,
    )
    .await;
    assert_eq!(body["type"], "urn:rcn:problem:unsupported-media-type");
    problem(gateway.post_notice(example_notice_bytes(), None).await, 415).await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413_before_intake_is_asked() {
    let gateway = TestGateway::spawn().await;
    let intake = gateway.intake_replying(&rejected("", "unused")).await;
    let body = problem(
        gateway
            .post_notice(vec![b' '; MAX_BODY + 1], Some("application/json"))
            .await,
        413,
    )
    .await;
    assert_eq!(body["type"], "urn:rcn:problem:too-large");
    problem(
        gateway
            .post_notice(vec![b' '; 4 * MAX_BODY], Some("application/json"))
            .await,
        413,
    )
    .await;
    assert!(
        intake.bodies().is_empty(),
        "intake is not bothered with what is too large"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_body_of_exactly_64_kib_is_passed_on_to_intake() {
    let gateway = TestGateway::spawn().await;
    let intake = gateway.intake_replying(&rejected("", "not a notice")).await;
    let response = gateway
        .post_notice(vec![b' '; MAX_BODY], Some("application/json"))
        .await;
    assert_eq!(response.status(), 400, "intake's answer, not a 413");
    assert_eq!(
        intake.bodies(),
        [vec![b' '; MAX_BODY]],
        "the body reaches intake unchanged"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn without_intake_a_notice_gets_503_with_retry_after_at_once() {
    let gateway = TestGateway::spawn().await;
    let started = Instant::now();
    let response = gateway.post_example_notice().await;
    let took = started.elapsed();
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("30")
    );
    let body = problem(response, 503).await;
    assert_eq!(body["type"], "urn:rcn:problem:unavailable");
    // No responders is known at once; the 10 s wait is for an intake that is there but slow.
    assert!(took < Duration::from_secs(2), "took {took:?}");
    gateway.stop().await;
}

#[tokio::test]
async fn a_notice_intake_rejects_gets_400_naming_every_problem() {
    let gateway = TestGateway::spawn().await;
    let problems = vec![
        Problem::new(
            "person.bsn",
            "this is not a valid BSN (it fails the 11-proef)",
        ),
        Problem::new(
            "detention.expected_release_on",
            "lies before detention.started_on",
        ),
    ];
    let intake = gateway
        .intake_replying(&SubmitReply::Rejected { problems })
        .await;
    let body = problem(gateway.post_example_notice().await, 400).await;
    assert_eq!(body["type"], "urn:rcn:problem:invalid-request");
    assert_eq!(body["invalidParams"][0]["name"], "person.bsn");
    assert_eq!(
        body["invalidParams"][0]["reason"],
        "this is not a valid BSN (it fails the 11-proef)"
    );
    assert_eq!(
        body["invalidParams"][1]["name"],
        "detention.expected_release_on"
    );
    assert_eq!(
        intake.bodies(),
        [example_notice_bytes()],
        "the notice reaches intake unchanged"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_single_problem_is_also_spelled_out_in_the_detail() {
    let gateway = TestGateway::spawn().await;
    let _intake = gateway
        .intake_replying(&rejected(
            "person.bsn",
            "this is not a valid BSN (it fails the 11-proef)",
        ))
        .await;
    let body = problem(gateway.post_example_notice().await, 400).await;
    assert_eq!(
        body["detail"],
        "person.bsn: this is not a valid BSN (it fails the 11-proef)"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_notice_intake_accepts_gets_202_with_the_receipt() {
    let gateway = TestGateway::spawn().await;
    let receipt = Receipt {
        notice_id: "PIH-2026-000123".into(),
        received_at: Utc::now().trunc_subsecs(6),
        status: ReceiptStatus::Accepted,
    };
    let _intake = gateway
        .intake_replying(&SubmitReply::Accepted {
            receipt: receipt.clone(),
        })
        .await;
    let response = gateway.post_example_notice().await;
    assert_eq!(response.status(), 202);
    assert_eq!(content_type(&response), Some("application/json"));
    let got: Receipt = response.json().await.unwrap();
    assert_eq!(got, receipt);
    gateway.stop().await;
}

#[tokio::test]
async fn a_notice_id_used_before_for_another_notice_gets_409() {
    let gateway = TestGateway::spawn().await;
    let conflict = SubmitReply::Conflict {
        problems: vec![Problem::new(
            "notice_id",
            "a different notice was already accepted",
        )],
    };
    let _intake = gateway.intake_replying(&conflict).await;
    let body = problem(gateway.post_example_notice().await, 409).await;
    assert_eq!(body["invalidParams"][0]["name"], "notice_id");
    gateway.stop().await;
}

#[tokio::test]
async fn intake_saying_it_is_unavailable_gets_503_with_its_retry_after() {
    let gateway = TestGateway::spawn().await;
    let reply = SubmitReply::Unavailable {
        message: "the notice could not be stored right now".into(),
        retry_after_seconds: 7,
    };
    let _intake = gateway.intake_replying(&reply).await;
    let response = gateway.post_example_notice().await;
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("7")
    );
    problem(response, 503).await;
    gateway.stop().await;
}

#[tokio::test]
async fn an_unreadable_answer_from_intake_is_a_500_that_shows_nothing_internal() {
    let gateway = TestGateway::spawn().await;
    let _intake = gateway
        .intake_answering(b"{\"result\": \"maybe\"}".to_vec())
        .await;
    let body = problem(gateway.post_example_notice().await, 500).await;
    assert_eq!(
        body["detail"],
        "something went wrong on our side; it has been logged"
    );
    let text = body.to_string();
    assert!(
        !text.contains("maybe") && !text.contains("variant"),
        "an internal cause leaked: {text}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn intake_is_told_which_institution_is_asking() {
    let gateway = TestGateway::spawn().await;
    let intake = gateway.intake_replying(&rejected("", "unused")).await;
    gateway.post_example_notice().await;
    let received = intake.received();
    assert_eq!(received.len(), 1);
    let identity =
        PartnerIdentity::from_header(received[0].identity.as_deref().expect("an identity header"))
            .unwrap();
    assert_eq!(identity.institution_code, INSTITUTION);
    assert!(
        !identity.credential.contains(&gateway.token),
        "the token itself does not travel: {}",
        identity.credential
    );
    gateway.stop().await;
}

#[tokio::test]
async fn without_a_valid_token_a_notice_gets_401_and_intake_is_not_asked() {
    let gateway = TestGateway::spawn().await;
    let intake = gateway.intake_replying(&rejected("", "unused")).await;
    let missing = gateway
        .post_notice_with(None, example_notice_bytes(), Some("application/json"))
        .await;
    assert_eq!(
        missing
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer realm=\"rcn\"")
    );
    problem(missing, 401).await;
    let forged = format!("Bearer {}0", gateway.token);
    let wrong = gateway
        .post_notice_with(
            Some(&forged),
            example_notice_bytes(),
            Some("application/json"),
        )
        .await;
    let challenge = wrong
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(challenge.is_some_and(|c| c.contains("invalid_token")));
    let body = problem(wrong, 401).await;
    assert!(
        !body.to_string().contains(&gateway.token),
        "the token is not echoed back"
    );
    assert!(intake.bodies().is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn a_notice_in_another_institution_s_name_gets_403_and_intake_is_not_asked() {
    let gateway = TestGateway::spawn().await;
    let intake = gateway.intake_replying(&rejected("", "unused")).await;
    let mut notice = rcn_contracts::examples::release_notice_json();
    notice["sender"]["institution_code"] = "PI-ZAANSTAD".into();
    let response = gateway
        .post_notice(
            serde_json::to_vec(&notice).unwrap(),
            Some("application/json"),
        )
        .await;
    let body = problem(response, 403).await;
    assert!(
        !body.to_string().contains("ZAANSTAD"),
        "a rejection does not echo the submitted sender: {body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("another institution") && d.contains(INSTITUTION)),
        "{body}"
    );
    assert!(intake.bodies().is_empty());
    gateway.stop().await;
}
