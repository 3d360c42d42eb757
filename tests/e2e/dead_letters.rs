use async_nats::HeaderMap;
use rcn_contracts::events::NoticeAccepted;
use rcn_runtime::headers;
use rcn_runtime::testing::eventually;
use rcn_tests::{PATIENCE, TestStack, release_notice_json};

#[tokio::test]
async fn a_poison_message_is_dead_lettered_with_its_error_and_the_rest_keeps_flowing() {
    let stack = TestStack::spawn().await;
    let subjects = stack.env.config.region.subjects();
    let js = async_nats::jetstream::new(stack.nats.clone());
    js.publish(subjects.notice_accepted(), "{not a notice".into())
        .await
        .unwrap()
        .await
        .unwrap();

    let letters = eventually(PATIENCE, "the router's dead letter", || async {
        let l = rcn::dlq::list(&js, &subjects, Some("router")).await.ok()?;
        (!l.is_empty()).then_some(l)
    })
    .await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].original_subject, subjects.notice_accepted());
    assert!(
        letters[0].error.starts_with("cannot decode message"),
        "{}",
        letters[0].error
    );
    assert_eq!(letters[0].payload, b"{not a notice");

    // The consumer did not stop at the poison message.
    assert_eq!(
        stack.post_notice(&release_notice_json()).await.status(),
        202
    );
    stack.wait_for_case("PI-HAARLEM:PIH-2026-000123").await;
    stack.stop().await;
}

#[tokio::test]
async fn a_replayed_dead_letter_is_handled_and_leaves_the_queue() {
    let stack = TestStack::spawn().await;
    let subjects = stack.env.config.region.subjects();
    let js = async_nats::jetstream::new(stack.nats.clone());
    // A letter the router gave up on because of a bug that has since been fixed.
    let accepted = NoticeAccepted {
        schema_version: 1,
        notice_key: "PI-HAARLEM:replayed".into(),
        received_at: chrono::Utc::now(),
        person_key: "p".into(),
        episode_key: "e-replayed".into(),
        notice: rcn_contracts::examples::release_notice(),
        forwarded_from: None,
    };
    let mut h = HeaderMap::new();
    h.insert(headers::DLQ_SERVICE, "router");
    h.insert(headers::DLQ_SUBJECT, subjects.notice_accepted().as_str());
    h.insert(headers::DLQ_ERROR, "database said no");
    rcn_runtime::nats::ensure_stream(&js, &subjects.dead_letter_stream())
        .await
        .unwrap();
    js.publish_with_headers(
        subjects.dead_letter("router"),
        h,
        serde_json::to_vec(&accepted).unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let letter = rcn::dlq::list(&js, &subjects, Some("router"))
        .await
        .unwrap()
        .remove(0);

    let replayed = rcn::dlq::replay(&js, &subjects, letter.sequence)
        .await
        .unwrap();
    assert_eq!(replayed.original_subject, subjects.notice_accepted());
    let (outcome, code, _) = stack.wait_for_decision("PI-HAARLEM:replayed").await;
    assert_eq!(
        (outcome.as_str(), code.as_deref()),
        ("routed", Some("GM0392"))
    );
    assert!(
        rcn::dlq::list(&js, &subjects, Some("router"))
            .await
            .unwrap()
            .is_empty()
    );

    let e = rcn::dlq::replay(&js, &subjects, letter.sequence)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no dead letter with sequence"), "{e}");
    stack.stop().await;
}
