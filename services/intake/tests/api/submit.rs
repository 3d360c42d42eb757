//! Accepted notices: the receipt, and the one event on NOTICES that carries pseudonyms, not the BSN.

use rcn_contracts::events::NoticeAccepted;
use rcn_contracts::examples::release_notice;
use rcn_contracts::intake::ReceiptStatus;
use rcn_contracts::{NoticeKind, SCHEMA_VERSION};
use rcn_runtime::headers;

use crate::helpers::{EXAMPLE_BSN, TestIntake, header, notice_with_id, receipt};

fn decode(m: &async_nats::jetstream::message::StreamMessage) -> NoticeAccepted {
    serde_json::from_slice(&m.payload).expect("a NoticeAccepted")
}

#[tokio::test]
async fn a_valid_notice_is_accepted_and_published_once_under_its_notice_key() {
    let intake = TestIntake::spawn().await;
    let reply = intake
        .submit_notice(&rcn_contracts::examples::release_notice_json())
        .await;
    let receipt = receipt(reply);
    assert_eq!(receipt.status, ReceiptStatus::Accepted);
    assert_eq!(receipt.notice_id, "PIH-2026-000123");

    // Accepted means stored: the event is on the stream before the sender hears back.
    let notices = intake.notices().await;
    assert_eq!(notices.len(), 1);
    let m = &notices[0];
    assert_eq!(m.subject.as_str(), intake.subjects.notice_accepted());
    assert_eq!(
        header(m, headers::MSG_ID),
        Some("PI-HAARLEM:PIH-2026-000123")
    );
    assert!(
        header(m, headers::TRACE_ID).is_some_and(|t| !t.is_empty()),
        "a trace id travels with the notice"
    );
    let event = decode(m);
    assert_eq!(event.schema_version, SCHEMA_VERSION);
    assert_eq!(event.notice_key, "PI-HAARLEM:PIH-2026-000123");
    assert_eq!(
        event.received_at, receipt.received_at,
        "the receipt and the event tell the same time"
    );
    assert_eq!(event.notice, release_notice());
    for key in [&event.person_key, &event.episode_key] {
        assert!(key.len() >= 16, "a pseudonym, not an empty key: {key:?}");
        assert!(
            !key.contains(EXAMPLE_BSN),
            "the BSN is not part of a key: {key}"
        );
    }
    assert_ne!(event.person_key, event.episode_key);
    intake.stop().await;
}

#[tokio::test]
async fn every_notice_kind_is_accepted() {
    let intake = TestIntake::spawn().await;
    for kind in NoticeKind::ALL {
        let mut notice = notice_with_id(&format!("kind-{}", kind.as_str()));
        notice["kind"] = kind.as_str().into();
        let receipt = receipt(intake.submit_notice(&notice).await);
        assert_eq!(receipt.status, ReceiptStatus::Accepted, "{kind:?}");
    }
    let kinds: Vec<NoticeKind> = intake
        .notices()
        .await
        .iter()
        .map(|m| decode(m).notice.kind)
        .collect();
    assert_eq!(kinds, NoticeKind::ALL);
    intake.stop().await;
}

#[tokio::test]
async fn notices_about_the_same_detention_share_an_episode_and_a_new_detention_starts_another() {
    let intake = TestIntake::spawn().await;
    let first = notice_with_id("n1");
    let mut later = notice_with_id("n2");
    later["kind"] = "release_date_changed".into();
    later["detention"]["expected_release_on"] = "2027-01-10".into();
    let mut next_detention = notice_with_id("n3");
    next_detention["detention"]["started_on"] = "2026-10-01".into();
    let mut someone_else = notice_with_id("n4");
    someone_else["person"]["bsn"] = "111222333".into();
    for n in [&first, &later, &next_detention, &someone_else] {
        receipt(intake.submit_notice(n).await);
    }

    let events: Vec<NoticeAccepted> = intake.notices().await.iter().map(decode).collect();
    assert_eq!(events.len(), 4);
    let (first, later, next_detention, someone_else) =
        (&events[0], &events[1], &events[2], &events[3]);
    assert_eq!(
        first.episode_key, later.episode_key,
        "one detention, one episode"
    );
    assert_eq!(first.person_key, later.person_key);
    assert_ne!(
        first.episode_key, next_detention.episode_key,
        "a new detention is a new episode"
    );
    assert_eq!(
        first.person_key, next_detention.person_key,
        "of the same person"
    );
    assert_ne!(first.person_key, someone_else.person_key);
    assert_ne!(first.episode_key, someone_else.episode_key);
    intake.stop().await;
}
