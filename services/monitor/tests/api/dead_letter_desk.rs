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
use rcn_contracts::privacy_api::WhoSawReply;
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

pub(crate) async fn ask<T: serde::de::DeserializeOwned>(
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

#[tokio::test]
async fn inspecting_a_letter_with_a_bsn_is_found_by_the_privacy_officers_who_saw_and_nothing_else_is()
 {
    let mut monitor = TestMonitor::spawn(settings()).await;
    let s = monitor.subjects.clone();
    let key = monitor.env.config.pseudonym_key().unwrap().clone();
    let person = |bsn: &str| key.person_key(&rcn_contracts::Bsn::parse(bsn).unwrap());
    // P's notice (inside an accepted event, as the router dead-letters one), and a letter with no
    // valid BSN.
    dead_letter(
        &monitor,
        r#"{"notice_key":"PI-HAARLEM:1","notice":{"person":{"bsn":"123456782","family_name":"Jansen"}}}"#,
    )
    .await;
    dead_letter(
        &monitor,
        r#"{"person":{"bsn":"123456783","family_name":"Bakker"}}"#,
    )
    .await;
    let who = coordinator();
    let list: DeadLetterListReply = ask(&monitor, s.dead_letters_list(), &who, "")
        .await
        .into_result()
        .unwrap();
    let seqs: Vec<u64> = list.waiting.iter().map(|l| l.sequence).collect();
    assert_eq!(seqs.len(), 2);
    for (seq, why) in [
        (seqs[0], "uitzoeken voor P"),
        (seqs[1], "uitzoeken, geen BSN"),
    ] {
        let _: DeadLetterShowReply = ask(
            &monitor,
            s.dead_letters_show(),
            &who,
            &format!(r#"{{"sequence":{seq},"why":"{why}"}}"#),
        )
        .await
        .into_result()
        .unwrap();
    }
    let _: DeadLetterActReply = ask(
        &monitor,
        s.dead_letters_discard(),
        &who,
        &format!(r#"{{"sequence":{},"why":"dubbel"}}"#, seqs[0]),
    )
    .await
    .into_result()
    .unwrap();
    // The pseudonym, never the number, with each row of P's letter; nothing for the other.
    let rows: Vec<(String, Option<Vec<String>>)> =
        sqlx::query_as("SELECT action, person_keys FROM dead_letter_log ORDER BY id")
            .fetch_all(&monitor.pool)
            .await
            .unwrap();
    let p = person("123456782");
    assert_eq!(
        rows,
        [
            ("inspected".to_owned(), Some(vec![p.clone()])),
            ("inspected".to_owned(), None),
            ("discarded".to_owned(), Some(vec![p.clone()])),
        ]
    );

    let subject = s.monitor_api(rcn_contracts::privacy_api::WHO_SAW_VERB);
    let body = r#"{"bsn":"123456782"}"#;
    // Only the privacy officer; the refusal is not logged.
    let refused = ask::<WhoSawReply>(&monitor, subject.clone(), &who, body)
        .await
        .into_result()
        .unwrap_err();
    assert_eq!(refused.status, 403);
    let officer = Identity {
        user_id: "fg".into(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    };
    let answer: WhoSawReply = ask(&monitor, subject.clone(), &officer, body)
        .await
        .into_result()
        .unwrap();
    let seen: Vec<(&str, &str, Option<&str>)> = answer
        .entries
        .iter()
        .map(|e| (e.user_id.as_str(), e.what.as_str(), e.why.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "rcn-coordinator@zvh.nl",
                "dead_letter_inspected",
                Some("uitzoeken voor P")
            ),
            (
                "rcn-coordinator@zvh.nl",
                "dead_letter_discarded",
                Some("dubbel")
            ),
            ("fg", "privacy_accesses", None),
        ]
    );
    assert!(answer.entries.iter().all(|e| e.service == "monitor"));
    assert_eq!(answer.entries[0].role, Role::RcnCoordinator);
    // The question shows on the next ask; another person's answer is only their question.
    let again: WhoSawReply = ask(&monitor, subject.clone(), &officer, body)
        .await
        .into_result()
        .unwrap();
    assert_eq!(again.entries.len(), 4);
    let other: WhoSawReply = ask(&monitor, subject, &officer, r#"{"bsn":"111222333"}"#)
        .await
        .into_result()
        .unwrap();
    let whats: Vec<&str> = other.entries.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(whats, ["privacy_accesses"]);
    monitor.stop().await;
}
