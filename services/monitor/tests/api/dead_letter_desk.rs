//! The dead-letter desk: only RCN coordinators; a payload only with a reason and after the read is
//! logged; a replay goes to the original subject and leaves the queue, recorded with who and why.

use std::time::Duration;

use async_nats::HeaderMap;
use futures::StreamExt;
use rcn_contracts::Gemeentecode;
use rcn_contracts::dead_letters_api::{
    DeadLetterActReply, DeadLetterAction, DeadLetterListReply, DeadLetterShowReply,
};
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::identity::{Identity, Role};
use rcn_runtime::headers;

use crate::helpers::TestMonitor;

fn settings() -> rcn_monitor::Settings {
    rcn_monitor::Settings::default()
}

fn coordinator() -> Identity {
    Identity {
        user_id: "rcn-coordinator@zvh.nl".into(),
        role: Role::RcnCoordinator,
        gemeentecode: None,
    }
}

async fn ask<T: serde::de::DeserializeOwned>(
    monitor: &TestMonitor,
    subject: String,
    who: &Identity,
    body: &str,
) -> ApiReply<T> {
    let nats = monitor.env.ctx("gateway-stand-in").await.nats;
    for _ in 0..100 {
        let h = monitor
            .env
            .signed(&who.to_header(), &subject, body.as_bytes());
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            nats.request_with_headers(subject.clone(), h, body.to_owned().into()),
        )
        .await;
        if let Ok(Ok(reply)) = reply {
            return serde_json::from_slice(&reply.payload).expect("an envelope");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the desk does not answer on {subject}");
}

/// A dead letter as the kit writes one when the router gives up on a notice.
async fn dead_letter(monitor: &TestMonitor, payload: &str) {
    let mut h = HeaderMap::new();
    h.insert(headers::DLQ_SERVICE, "router");
    h.insert(
        headers::DLQ_SUBJECT,
        monitor.subjects.notice_accepted().as_str(),
    );
    h.insert(headers::DLQ_ERROR, "cannot decode message: expected value");
    h.insert(headers::DLQ_DELIVERED, "5");
    monitor
        .js
        .publish_with_headers(
            monitor.subjects.dead_letter("router"),
            h,
            payload.to_owned().into(),
        )
        .await
        .expect("published")
        .await
        .expect("stored");
}

#[tokio::test]
async fn a_coordinator_lists_inspects_with_a_reason_and_replays_a_dead_letter_and_it_is_recorded() {
    let mut monitor = TestMonitor::spawn(settings()).await;
    dead_letter(&monitor, r#"{"person":{"family_name":"Jansen"}}"#).await;
    let s = monitor.subjects.clone();
    let who = coordinator();

    let list: DeadLetterListReply = ask(&monitor, s.dead_letters_list(), &who, "")
        .await
        .into_result()
        .unwrap();
    assert_eq!(list.waiting.len(), 1);
    let letter = &list.waiting[0];
    assert_eq!(letter.service, "router");
    assert_eq!(letter.deliveries, "5");
    assert!(letter.error.starts_with("cannot decode"));
    // The list names no person.
    assert!(!serde_json::to_string(&list).unwrap().contains("Jansen"));
    let seq = letter.sequence;

    // Without a reason: refused, nothing logged.
    let refused = ask::<DeadLetterShowReply>(
        &monitor,
        s.dead_letters_show(),
        &who,
        &format!(r#"{{"sequence":{seq},"why":" "}}"#),
    )
    .await
    .into_result()
    .unwrap_err();
    assert_eq!(refused.status, 400);
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letter_log")
        .fetch_one(&monitor.pool)
        .await
        .unwrap();
    assert_eq!(logged, 0);

    let shown: DeadLetterShowReply = ask(
        &monitor,
        s.dead_letters_show(),
        &who,
        &format!(r#"{{"sequence":{seq},"why":"uitzoeken waarom de router weigert"}}"#),
    )
    .await
    .into_result()
    .unwrap();
    assert!(shown.payload.contains("Jansen"));
    let (user, role, action, why): (String, String, String, String) =
        sqlx::query_as("SELECT user_id, role, action, why FROM dead_letter_log")
            .fetch_one(&monitor.pool)
            .await
            .unwrap();
    assert_eq!(
        (user.as_str(), role.as_str(), action.as_str(), why.as_str()),
        (
            "rcn-coordinator@zvh.nl",
            "rcn_coordinator",
            "inspected",
            "uitzoeken waarom de router weigert"
        )
    );

    // The replay goes to the original subject.
    let nats = monitor.env.ctx("listener").await.nats;
    let mut original = nats.subscribe(s.notice_accepted()).await.unwrap();
    let replayed: DeadLetterActReply = ask(
        &monitor,
        s.dead_letters_replay(),
        &who,
        &format!(r#"{{"sequence":{seq},"why":"fout in de router is hersteld"}}"#),
    )
    .await
    .into_result()
    .unwrap();
    assert_eq!(replayed.settled.action, DeadLetterAction::Replayed);
    let m = tokio::time::timeout(Duration::from_secs(5), original.next())
        .await
        .expect("the replay arrives")
        .unwrap();
    assert!(String::from_utf8_lossy(&m.payload).contains("Jansen"));

    let list: DeadLetterListReply = ask(&monitor, s.dead_letters_list(), &who, "{}")
        .await
        .into_result()
        .unwrap();
    // (The monitor's own consumer may dead-letter the replayed test payload anew: another letter.)
    assert!(list.waiting.iter().all(|l| l.sequence != seq));
    assert_eq!(list.settled.len(), 1);
    assert_eq!(list.settled[0].by, "rcn-coordinator@zvh.nl");
    assert_eq!(list.settled[0].why, "fout in de router is hersteld");

    // Settled once: a second replay or a discard finds nothing.
    let again = ask::<DeadLetterActReply>(
        &monitor,
        s.dead_letters_discard(),
        &who,
        &format!(r#"{{"sequence":{seq},"why":"nog eens"}}"#),
    )
    .await
    .into_result()
    .unwrap_err();
    assert_eq!(again.status, 404);
    monitor.stop().await;
}

#[tokio::test]
async fn anyone_but_an_rcn_coordinator_is_refused_and_sees_nothing() {
    let mut monitor = TestMonitor::spawn(settings()).await;
    dead_letter(&monitor, r#"{"person":{"family_name":"Jansen"}}"#).await;
    let s = monitor.subjects.clone();
    let staff = Identity {
        user_id: "anna@haarlem.nl".into(),
        role: Role::MunicipalStaff,
        gemeentecode: Some(Gemeentecode::parse("GM0392").unwrap()),
    };
    let procesregisseur = Identity {
        user_id: "p@zvh.nl".into(),
        role: Role::Procesregisseur,
        gemeentecode: None,
    };
    for who in [&staff, &procesregisseur] {
        let p = ask::<DeadLetterListReply>(&monitor, s.dead_letters_list(), who, "")
            .await
            .into_result()
            .unwrap_err();
        assert_eq!(p.status, 403);
        for subject in [
            s.dead_letters_show(),
            s.dead_letters_replay(),
            s.dead_letters_discard(),
        ] {
            let p = ask::<serde_json::Value>(
                &monitor,
                subject,
                who,
                r#"{"sequence":1,"why":"kijken"}"#,
            )
            .await
            .into_result()
            .unwrap_err();
            assert_eq!(p.status, 403);
            assert!(!p.detail.contains("Jansen"));
        }
    }
    // Still there.
    let list: DeadLetterListReply = ask(&monitor, s.dead_letters_list(), &coordinator(), "")
        .await
        .into_result()
        .unwrap();
    assert_eq!(list.waiting.len(), 1);
    monitor.stop().await;
}
