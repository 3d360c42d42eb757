//! Issue 3 at intake: an institution may only send its own notices (defence in depth behind the
//! gateway, and the only check for a partner on its own NATS account), a changed notice under a
//! used id is a conflict, and a sender can ask what became of a notice.

use async_nats::HeaderMap;
use rcn_contracts::intake::{
    NoticeState, PartnerIdentity, StatusReply, StatusRequest, SubmitReply,
};
use rcn_runtime::headers;
use rcn_runtime::signed_identity::IdentitySigner;

use crate::helpers::{TestIntake, notice_with_id, receipt};

/// The `Rcn-Identity` value the gateway sends for institution `code`.
fn identity(code: &str) -> String {
    PartnerIdentity {
        institution_code: code.into(),
        credential: "token:test".into(),
    }
    .to_header()
}

/// Submits `notice` on `subject` as `who` (an `Rcn-Identity` value, signed as the gateway signs).
async fn submit_as(
    intake: &TestIntake,
    subject: String,
    who: Option<&str>,
    notice: &serde_json::Value,
) -> SubmitReply {
    let body = serde_json::to_vec(notice).expect("test set-up");
    let h = who.map(|who| intake.env.signed(who, &subject, &body));
    submit_with(intake, subject, h, body).await
}

/// Submits `body` on `subject` with exactly the headers `h`.
async fn submit_with(
    intake: &TestIntake,
    subject: String,
    h: Option<HeaderMap>,
    body: Vec<u8>,
) -> SubmitReply {
    let reply = match h {
        Some(h) => {
            intake
                .nats
                .request_with_headers(subject, h, body.into())
                .await
        }
        None => intake.nats.request(subject, body.into()).await,
    };
    serde_json::from_slice(&reply.expect("intake answers").payload).expect("a SubmitReply")
}

async fn status(intake: &TestIntake, who: Option<&str>, notice_id: &str) -> StatusReply {
    let body = serde_json::to_vec(&StatusRequest {
        notice_id: notice_id.into(),
    })
    .expect("test set-up");
    let subject = intake.subjects.intake_status();
    let reply = match who.map(|who| intake.env.signed(who, &subject, &body)) {
        Some(h) => {
            intake
                .nats
                .request_with_headers(subject, h, body.into())
                .await
        }
        None => intake.nats.request(subject, body.into()).await,
    };
    serde_json::from_slice(&reply.expect("intake answers").payload).expect("a StatusReply")
}

#[tokio::test]
async fn a_notice_in_another_institutions_name_is_forbidden_and_not_kept() {
    let intake = TestIntake::spawn().await;
    let notice = notice_with_id("PIH-F1");
    let reply = submit_as(
        &intake,
        intake.subjects.intake_submit(),
        Some(&identity("PI-ZAANSTAD")),
        &notice,
    )
    .await;
    let SubmitReply::Forbidden { message } = reply else {
        panic!("expected forbidden, got {reply:?}")
    };
    assert!(
        message.contains("PI-ZAANSTAD") && message.contains("sender.institution_code"),
        "{message}"
    );

    let reply = submit_as(
        &intake,
        intake.subjects.intake_submit(),
        Some("{\"user_id\":\"x\"}"),
        &notice,
    )
    .await;
    assert!(matches!(reply, SubmitReply::Forbidden { .. }), "{reply:?}");
    assert!(intake.notices().await.is_empty());

    // The right institution, but not signed by the gateway for this request: refused, not kept.
    let subject = intake.subjects.intake_submit();
    let body = serde_json::to_vec(&notice).expect("test set-up");
    let haarlem = identity("PI-HAARLEM");
    let mut unsigned = HeaderMap::new();
    unsigned.insert(headers::IDENTITY, haarlem.as_str());
    let forgeries = [
        ("unsigned", unsigned),
        (
            "signed with another key",
            IdentitySigner::generate().sign(&haarlem, &subject, &body),
        ),
        (
            "signed for another body",
            intake.env.signed(&haarlem, &subject, b"{}"),
        ),
        (
            "signed for the status subject",
            intake
                .env
                .signed(&haarlem, &intake.subjects.intake_status(), &body),
        ),
    ];
    for (what, h) in forgeries {
        let reply = submit_with(&intake, subject.clone(), Some(h), body.clone()).await;
        let SubmitReply::Forbidden { message } = reply else {
            panic!("{what}: expected forbidden, got {reply:?}")
        };
        assert!(message.contains("nothing was kept"), "{what}: {message}");
    }
    assert!(intake.notices().await.is_empty());

    let reply = submit_as(
        &intake,
        intake.subjects.intake_submit(),
        Some(&identity("PI-HAARLEM")),
        &notice,
    )
    .await;
    receipt(reply);
    intake.stop().await;
}

#[tokio::test]
async fn a_partner_on_nats_is_known_by_its_submit_subject() {
    let intake = TestIntake::spawn().await;
    let notice = notice_with_id("PIH-N1");
    // A header cannot make a partner someone else: the subject decides.
    let reply = submit_as(
        &intake,
        intake.subjects.intake_submit_for("PI-ZAANSTAD"),
        Some(&identity("PI-HAARLEM")),
        &notice,
    )
    .await;
    assert!(matches!(reply, SubmitReply::Forbidden { .. }), "{reply:?}");
    assert!(intake.notices().await.is_empty());
    let reply = submit_as(
        &intake,
        intake.subjects.intake_submit_for("PI-HAARLEM"),
        None,
        &notice,
    )
    .await;
    receipt(reply);
    assert_eq!(intake.notices().await.len(), 1);
    intake.stop().await;
}

#[tokio::test]
async fn a_changed_notice_under_a_used_id_is_a_conflict_on_notice_id() {
    let intake = TestIntake::spawn().await;
    receipt(intake.submit_notice(&notice_with_id("PIH-C1")).await);
    intake.wait_for_ledger("PI-HAARLEM:PIH-C1").await;
    let mut changed = notice_with_id("PIH-C1");
    changed["remarks"] = "Iets anders.".into();
    let reply = intake.submit_notice(&changed).await;
    let SubmitReply::Conflict { problems } = reply else {
        panic!("expected a conflict, got {reply:?}")
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "notice_id");
    assert!(
        problems[0].message.contains("already accepted"),
        "{}",
        problems[0].message
    );
    assert_eq!(intake.notices().await.len(), 1);
    intake.stop().await;
}

#[tokio::test]
async fn a_sender_can_ask_about_its_own_notices_only() {
    let intake = TestIntake::spawn().await;
    let accepted = receipt(intake.submit_notice(&notice_with_id("PIH-S1")).await);
    intake.wait_for_ledger("PI-HAARLEM:PIH-S1").await;

    let reply = status(&intake, Some(&identity("PI-HAARLEM")), "PIH-S1").await;
    let StatusReply::Found { status: found } = reply else {
        panic!("expected the status, got {reply:?}")
    };
    assert_eq!(
        (found.status, found.received_at),
        (NoticeState::Accepted, accepted.received_at)
    );
    assert_eq!(found.gemeentecode, None);

    assert_eq!(
        status_of(&intake, "PI-ZAANSTAD", "PIH-S1").await,
        StatusReply::NotFound
    );
    assert_eq!(
        status_of(&intake, "PI-HAARLEM", "PIH-NONE").await,
        StatusReply::NotFound
    );
    assert!(
        matches!(
            status(&intake, None, "PIH-S1").await,
            StatusReply::Refused { .. }
        ),
        "no identity, no answer"
    );
    intake.stop().await;
}

async fn status_of(intake: &TestIntake, code: &str, notice_id: &str) -> StatusReply {
    status(intake, Some(&identity(code)), notice_id).await
}

#[tokio::test]
async fn routing_decisions_become_the_notices_status_and_the_latest_wins() {
    use chrono::{Duration, Utc};
    use rcn_contracts::events::{NoticeRouted, RoutingOutcome, RoutingRule};
    use rcn_contracts::{Gemeentecode, SCHEMA_VERSION};

    let intake = TestIntake::spawn().await;
    receipt(intake.submit_notice(&notice_with_id("PIH-R1")).await);
    intake.wait_for_ledger("PI-HAARLEM:PIH-R1").await;
    let notice = rcn_contracts::examples::release_notice();
    let decided = Utc::now();
    let event = |outcome: RoutingOutcome, rule: RoutingRule, decided_at| NoticeRouted {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        notice_key: "PI-HAARLEM:PIH-R1".into(),
        person_key: "p".into(),
        episode_key: "e".into(),
        outcome,
        rule,
        reason: "test".into(),
        ambiguous: false,
        decided_at,
        received_at: decided,
        notice: notice.clone(),
    };
    let haarlem = Gemeentecode::parse("GM0392").unwrap();
    let publish = |subject: String, e: NoticeRouted| {
        let js = intake.js.clone();
        async move {
            js.publish(subject, serde_json::to_vec(&e).unwrap().into())
                .await
                .unwrap()
                .await
                .unwrap()
        }
    };
    publish(
        intake.subjects.unroutable(),
        event(RoutingOutcome::Unroutable, RoutingRule::NoRule, decided),
    )
    .await;
    // Something else on routing.> that is not a decision is skipped, not dead-lettered.
    intake
        .js
        .publish(
            format!("rcn.{}.routing.note", intake.subjects.region()),
            "{}".into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let waiting = wait_for_state(&intake, NoticeState::AwaitingManualRouting).await;
    assert_eq!(waiting.gemeentecode, None);

    let manual = event(
        RoutingOutcome::Routed {
            gemeentecode: haarlem.clone(),
        },
        RoutingRule::Manual,
        decided + Duration::seconds(5),
    );
    publish(intake.subjects.routed(&haarlem), manual).await;
    let routed = wait_for_state(&intake, NoticeState::Routed).await;
    assert_eq!(routed.gemeentecode, Some(haarlem.clone()));

    // An older decision arriving late changes nothing.
    publish(
        intake.subjects.unroutable(),
        event(
            RoutingOutcome::Unroutable,
            RoutingRule::NoRule,
            decided - Duration::seconds(5),
        ),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let StatusReply::Found { status } = status_of(&intake, "PI-HAARLEM", "PIH-R1").await else {
        panic!()
    };
    assert_eq!(status.status, NoticeState::Routed);
    let dead: i64 = {
        let js = intake.js.clone();
        match js
            .get_stream(&intake.subjects.dead_letter_stream().name)
            .await
        {
            Ok(mut s) => s.info().await.unwrap().state.messages as i64,
            Err(_) => 0,
        }
    };
    assert_eq!(dead, 0, "nothing was dead-lettered");
    intake.stop().await;
}

async fn wait_for_state(
    intake: &TestIntake,
    want: NoticeState,
) -> rcn_contracts::intake::NoticeStatus {
    rcn_runtime::testing::eventually(crate::helpers::PATIENCE, want.as_str(), || async {
        match status_of(intake, "PI-HAARLEM", "PIH-R1").await {
            StatusReply::Found { status } if status.status == want => Some(status),
            _ => None,
        }
    })
    .await
}

#[tokio::test]
async fn a_partner_on_nats_asks_about_its_notices_on_its_own_status_subject() {
    let intake = TestIntake::spawn().await;
    let reply = submit_as(
        &intake,
        intake.subjects.intake_submit_for("PI-HAARLEM"),
        None,
        &notice_with_id("PIH-S1"),
    )
    .await;
    receipt(reply);
    intake.wait_for_ledger("PI-HAARLEM:PIH-S1").await;
    let ask = |code: &str| {
        let subject = intake.subjects.intake_status_for(code);
        let nats = intake.nats.clone();
        async move {
            let body = serde_json::to_vec(&StatusRequest {
                notice_id: "PIH-S1".into(),
            })
            .expect("test set-up");
            let reply = nats
                .request(subject, body.into())
                .await
                .expect("intake answers");
            serde_json::from_slice::<StatusReply>(&reply.payload).expect("a StatusReply")
        }
    };
    let mine = ask("PI-HAARLEM").await;
    assert!(
        matches!(&mine, StatusReply::Found { status } if status.notice_id == "PIH-S1" && status.status == NoticeState::Accepted),
        "{mine:?}"
    );
    // Another institution's subject sees nothing of it, not even that it exists.
    assert_eq!(ask("PI-ZAANSTAD").await, StatusReply::NotFound);
    intake.stop().await;
}
