//! `rcn provision` (the code `rcn run` and the tests use too): idempotent, and a setting changed
//! on the server is put back in place without losing what the stream holds.

use std::time::Duration;

use async_nats::jetstream;
use rcn::nats_provision::provision;
use rcn::stack::Service;
use rcn_runtime::provision::Change;
use rcn_runtime::testing::TestEnv;

/// What the report says about this region's streams and consumers (other regions' FORWARDED
/// streams are shared with other tests on the same server).
fn own(report: &[(String, Change)], prefix: &str) -> Vec<(String, Change)> {
    report
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .cloned()
        .collect()
}

#[tokio::test]
async fn provisioning_twice_changes_nothing_and_a_changed_setting_is_put_back_in_place() {
    let env = TestEnv::new().await;
    let subjects = env.config.region.subjects();
    let prefix = subjects
        .notices_stream()
        .name
        .trim_end_matches("NOTICES")
        .to_owned();

    let first = provision(&env.config, &Service::all())
        .await
        .expect("provisioned");
    let streams = own(&first.streams, &prefix);
    let consumers = own(&first.consumers, &prefix);
    assert_eq!(
        streams.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "CASES",
            "DLQ",
            "FORWARDED",
            "NOTICES",
            "PROCESREGIE",
            "ROUTING"
        ]
        .map(|s| format!("{prefix}{s}"))
        .to_vec(),
    );
    assert!(
        streams.iter().all(|(_, c)| *c == Change::Created),
        "{streams:?}"
    );
    let durables: Vec<_> = consumers
        .iter()
        .map(|(n, _)| n.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    for durable in [
        "intake-ledger",
        "intake-outcomes",
        "intake-forwarded",
        "router",
        "casework",
        "casework-out-of-region",
        "procesregie-cases",
        "monitor-notices",
        "monitor-routing",
        "monitor-cases",
        "monitor-dead-letters",
    ] {
        assert!(
            durables.iter().any(|d| d == durable),
            "{durable}: {durables:?}"
        );
    }
    assert!(
        consumers.iter().all(|(_, c)| *c == Change::Created),
        "{consumers:?}"
    );

    let again = provision(&env.config, &Service::all())
        .await
        .expect("provisioned again");
    assert!(
        again
            .streams
            .iter()
            .chain(&again.consumers)
            .all(|(_, c)| *c == Change::Unchanged),
        "{again:?}"
    );

    // Someone changed NOTICES' retention and the router's ack wait by hand; a notice is stored.
    let js = jetstream::new(env.ctx("rcn-provision").await.nats);
    let notices = subjects.notices_stream();
    let mut config = rcn_runtime::nats::stream_config(&notices);
    config.max_age = Duration::from_secs(48 * 3600);
    js.update_stream(config).await.expect("changed by hand");
    js.publish(subjects.notice_accepted(), "{}".into())
        .await
        .expect("sent")
        .await
        .expect("stored");
    let stream = js.get_stream(&notices.name).await.expect("NOTICES");
    let mut router = stream.consumer_info("router").await.expect("router").config;
    router.ack_wait = Duration::from_secs(5);
    stream
        .create_consumer(router)
        .await
        .expect("changed by hand");

    let repaired = provision(&env.config, &Service::all())
        .await
        .expect("provisioned once more");
    let changed: Vec<_> = repaired
        .streams
        .iter()
        .chain(&repaired.consumers)
        .filter(|(_, c)| *c != Change::Unchanged)
        .cloned()
        .collect();
    assert_eq!(
        changed,
        [
            (notices.name.clone(), Change::Updated),
            (format!("{}/router", notices.name), Change::Updated),
        ]
    );
    let mut stream = js.get_stream(&notices.name).await.expect("NOTICES");
    let info = stream.info().await.expect("info");
    assert_eq!(info.config.max_age, notices.max_age);
    assert_eq!(info.state.messages, 1, "the stored notice is kept");
    let router = stream.consumer_info("router").await.expect("router");
    assert_eq!(router.config.ack_wait, Duration::from_secs(30));
}
