//! The consumer loop's happy path, its retries and its shutdown.

use std::time::Duration;

use crate::helpers::{Recorder, Setup, transient};

#[tokio::test]
async fn the_consumer_handles_each_message_once_and_acks_it() {
    let setup = Setup::new().await;
    let all: Vec<u32> = (1..=20).collect();
    for n in &all {
        setup.publish_ping(*n).await;
    }
    let handler = Recorder::succeeding();
    let spec = setup.spec();
    let durable = spec.durable.clone();
    let running = setup.start(spec, handler.clone());

    handler.wait_committed(&all).await;
    let info = setup.wait_consumer_settled(&durable).await;
    assert_eq!(info.ack_floor.stream_sequence, 20, "every message is acked");
    assert_eq!(
        info.num_redelivered, 0,
        "no message needed a second delivery"
    );
    let mut committed = handler.committed();
    committed.sort_unstable();
    assert_eq!(committed, all, "each message is handled exactly once");
    assert!(handler.calls().iter().all(|c| c.delivered == 1));
    assert!(setup.dead_letters().await.is_empty());
    running.stop().await;
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_the_back_off_and_then_succeeds() {
    let setup = Setup::new().await;
    let back_off = Duration::from_millis(300);
    let handler = Recorder::new(|n, delivered| {
        (n == 1 && delivered == 1).then(|| transient("the database is down"))
    });
    let mut spec = setup.spec();
    spec.backoff = vec![back_off];
    let durable = spec.durable.clone();
    let running = setup.start(spec, handler.clone());
    setup.publish_ping(1).await;

    handler.wait_committed(&[1]).await;
    let calls = handler.calls_for(1);
    assert_eq!(
        calls.iter().map(|c| c.delivered).collect::<Vec<_>>(),
        [1, 2],
        "failed once, then delivered again"
    );
    let waited = calls[1].at - calls[0].at;
    assert!(
        waited >= back_off - Duration::from_millis(50),
        "redelivered after {waited:?}, before the back-off of {back_off:?}"
    );
    assert_eq!(handler.committed(), [1]);
    setup.wait_consumer_settled(&durable).await;
    assert!(
        setup.dead_letters().await.is_empty(),
        "a message that succeeded on retry is not dead-lettered"
    );
    running.stop().await;
}

#[tokio::test]
async fn cancelling_the_token_makes_the_consumer_return_promptly() {
    let setup = Setup::new().await;
    let handler = Recorder::succeeding();
    let running = setup.start(setup.spec(), handler.clone());
    // Running for real: it has handled a message and is now waiting on a 30 s pull.
    setup.publish_ping(1).await;
    handler.wait_committed(&[1]).await;

    let took = running.stop().await;
    assert!(
        took < Duration::from_secs(3),
        "the consumer took {took:?} to stop"
    );
}

#[tokio::test]
async fn shutdown_finishes_and_acks_the_batch_in_hand_before_returning() {
    let setup = Setup::new().await;
    let pause = Duration::from_millis(800);
    let handler = Recorder::slow(pause);
    let spec = setup.spec();
    let durable = spec.durable.clone();
    let running = setup.start(spec, handler.clone());
    setup.publish_ping(1).await;
    rcn_runtime::testing::eventually(crate::helpers::PATIENCE, "the handler to start", || async {
        (!handler.calls().is_empty()).then_some(())
    })
    .await;

    let took = running.stop().await;
    assert!(
        took >= pause / 2,
        "returned after {took:?}, before the batch in hand could finish"
    );
    assert_eq!(handler.committed(), [1], "the batch in hand was finished");
    let info = setup.wait_consumer_settled(&durable).await;
    assert_eq!(
        info.ack_floor.stream_sequence, 1,
        "and acked, so it is not delivered again"
    );
}
