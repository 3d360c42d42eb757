//! The demo feed of `rcn run --demo` against a stack that is still starting.

use std::time::Duration;

use rcn::feed::run_demo;
use rcn_runtime::testing::{RunningService, TestEnv};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn the_demo_feed_waits_for_intake_and_counts_no_failure_while_it_starts() {
    let env = TestEnv::new().await;
    let stop = CancellationToken::new();
    let feed = tokio::spawn({
        let config = env.config.clone();
        let stop = stop.clone();
        async move { run_demo(&config, 20.0, stop).await }
    });

    // Intake comes up well after the feed began: the feed's first notices find no responder.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    env.provision(&[rcn_intake::nats_resources(&env.config).unwrap()])
        .await;
    let ctx = env.ctx("rcn-intake").await;
    let intake = RunningService::spawn("intake", |shutdown| rcn_intake::run(ctx, shutdown));
    tokio::time::sleep(Duration::from_secs(2)).await;

    stop.cancel();
    let tally = tokio::time::timeout(Duration::from_secs(10), feed)
        .await
        .expect("the feed stops in time")
        .expect("no panic")
        .expect("the feed ends without error");
    intake.stop(Duration::from_secs(10)).await;

    assert!(
        tally.accepted > 0,
        "intake accepted the feed's notices once it listened: {tally:?}"
    );
    assert_eq!(
        tally.failed, 0,
        "nothing failed while the stack started: {tally:?}"
    );
}
