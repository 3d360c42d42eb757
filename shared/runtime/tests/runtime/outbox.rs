//! The transactional outbox: what a committed transaction enqueued reaches JetStream once, with
//! its event id as `Nats-Msg-Id`; what was rolled back never does; the relay wakes on commit.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::StreamMessage};
use rcn_contracts::{Gemeentecode, Subjects};
use rcn_runtime::testing::{TestEnv, eventually};
use rcn_runtime::{CancellationToken, headers, outbox};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::helpers::{PATIENCE, Ping, header, stream_messages};
use rcn_runtime::trace_context::TraceContext;

/// The trace context the test events are enqueued under.
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A service's outbox in its own schema, the stream its events go to, and a running relay.
struct Outbox {
    pool: PgPool,
    js: jetstream::Context,
    subjects: Subjects,
    shutdown: CancellationToken,
    relay: Option<JoinHandle<()>>,
    _env: TestEnv,
}

impl Outbox {
    async fn start() -> Self {
        let env = TestEnv::new().await;
        let url = env
            .config
            .database_url()
            .expect("set by TestEnv")
            .to_owned();
        let pool = rcn_runtime::db::open(
            &url,
            "t_outbox",
            2,
            &sqlx::migrate::Migrator::DEFAULT,
            Duration::from_secs(5),
        )
        .await
        .expect("the outbox schema is set up");
        let subjects = env.config.region.subjects();
        let js = env.ctx("outbox-test").await.jetstream();
        rcn_runtime::nats::ensure_stream(&js, &subjects.cases_stream())
            .await
            .expect("the stream can be created");
        let shutdown = CancellationToken::new();
        let relay = tokio::spawn(outbox::relay(pool.clone(), js.clone(), shutdown.clone()));
        Self {
            pool,
            js,
            subjects,
            shutdown,
            relay: Some(relay),
            _env: env,
        }
    }

    /// Where the test events go: a subject of the CASES stream.
    fn subject(&self) -> String {
        self.subjects
            .case_opened(&Gemeentecode::parse("GM0392").expect("a valid gemeentecode"))
    }

    /// Enqueues one event per ping in one transaction, and commits (or rolls back).
    async fn enqueue(&self, events: &[(Uuid, Ping)], commit: bool) {
        let mut tx = self.pool.begin().await.expect("a transaction");
        let trace = TraceContext::from_values(Some(TRACEPARENT), Some("rcn=1"))
            .expect("a valid traceparent");
        for (event_id, ping) in events {
            let event = outbox::Event {
                event_id: *event_id,
                subject: self.subject(),
                payload: ping,
                trace: Some(&trace),
            };
            outbox::enqueue(&mut tx, event).await.expect("enqueued");
        }
        if commit {
            tx.commit().await.expect("committed");
        } else {
            tx.rollback().await.expect("rolled back");
        }
    }

    async fn published(&self) -> Vec<StreamMessage> {
        stream_messages(&self.js, &self.subjects.cases_stream()).await
    }

    /// Waits until the stream holds `n` events, and returns them.
    async fn wait_published(&self, n: usize) -> Vec<StreamMessage> {
        eventually(PATIENCE, &format!("{n} published event(s)"), || async {
            let m = self.published().await;
            (m.len() >= n).then_some(m)
        })
        .await
    }

    async fn pending(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await
            .expect("the query runs")
    }

    /// Waits until the relay has deleted everything it published.
    async fn wait_empty(&self) {
        eventually(PATIENCE, "the outbox to be empty", || async {
            (self.pending().await == 0).then_some(())
        })
        .await;
    }

    /// Cancels the relay and returns how long it took to return.
    async fn stop(mut self) -> Duration {
        let started = Instant::now();
        self.shutdown.cancel();
        let relay = self.relay.take().expect("running");
        tokio::time::timeout(PATIENCE, relay)
            .await
            .expect("the relay stops")
            .expect("no panic");
        started.elapsed()
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn event(n: u32) -> (Uuid, Ping) {
    (Uuid::now_v7(), Ping { n })
}

fn msg_id(m: &StreamMessage) -> Option<&str> {
    header(m, headers::MSG_ID)
}

#[tokio::test]
async fn events_of_a_committed_transaction_are_published_with_their_event_id_and_removed() {
    let outbox = Outbox::start().await;
    let events = [event(1), event(2), event(3)];
    outbox.enqueue(&events, true).await;

    let published = outbox.wait_published(3).await;
    outbox.wait_empty().await;
    assert_eq!(published.len(), 3);
    for (m, (id, ping)) in published.iter().zip(&events) {
        assert_eq!(
            msg_id(m),
            Some(id.to_string().as_str()),
            "published in order, keyed by event id"
        );
        assert_eq!(m.subject.as_str(), outbox.subject());
        assert_eq!(m.payload, serde_json::to_vec(ping).expect("serialises"));
        assert_eq!(
            header(m, headers::TRACEPARENT),
            Some(TRACEPARENT),
            "the trace context travels with the event"
        );
        assert_eq!(header(m, headers::TRACESTATE), Some("rcn=1"));
        assert_eq!(
            header(m, headers::TRACE_ID),
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            "the log field is the trace id"
        );
    }
    let took = outbox.stop().await;
    assert!(
        took < Duration::from_secs(3),
        "the relay took {took:?} to stop"
    );
}

#[tokio::test]
async fn events_of_a_rolled_back_transaction_are_never_published() {
    let outbox = Outbox::start().await;
    let (lost, kept) = (event(1), event(2));
    outbox.enqueue(std::slice::from_ref(&lost), false).await;
    // A later committed event: once it is out, the relay has looked past the rolled-back one.
    outbox.enqueue(std::slice::from_ref(&kept), true).await;

    outbox.wait_published(1).await;
    outbox.wait_empty().await;
    let ids: Vec<_> = outbox
        .published()
        .await
        .iter()
        .map(|m| msg_id(m).unwrap().to_owned())
        .collect();
    assert_eq!(ids, [kept.0.to_string()]);
    outbox.stop().await;
}

#[tokio::test]
async fn the_relay_wakes_on_commit_well_before_its_sweep() {
    let outbox = Outbox::start().await;
    // Warm up: once this event is out and deleted, the relay listens and waits for its sweep.
    outbox.enqueue(&[event(0)], true).await;
    outbox.wait_published(1).await;
    outbox.wait_empty().await;

    // The 2 s sweep restarted just now; only the commit's notification can bring this out in 1 s.
    let committed = Instant::now();
    outbox.enqueue(&[event(1)], true).await;
    outbox.wait_published(2).await;
    let latency = committed.elapsed();
    assert!(
        latency < Duration::from_secs(1),
        "published {latency:?} after the commit: the relay did not wake on it"
    );
    outbox.stop().await;
}

#[tokio::test]
async fn publishing_the_same_event_id_twice_yields_one_stream_message() {
    let outbox = Outbox::start().await;
    let once = event(1);
    outbox.enqueue(std::slice::from_ref(&once), true).await;
    outbox.wait_published(1).await;
    outbox.wait_empty().await;

    // As after a crash between the PubAck and the delete: the same event goes out again.
    outbox.enqueue(std::slice::from_ref(&once), true).await;
    outbox.wait_empty().await;
    let published = outbox.published().await;
    assert_eq!(
        published.len(),
        1,
        "JetStream dropped the second copy by its Nats-Msg-Id"
    );
    assert_eq!(msg_id(&published[0]), Some(once.0.to_string().as_str()));
    outbox.stop().await;
}

#[tokio::test]
async fn an_event_that_cannot_be_stored_does_not_hold_back_the_others() {
    let outbox = Outbox::start().await;
    // No stream takes this subject: JetStream answers "no responders" for it, every time.
    let mut tx = outbox.pool.begin().await.expect("a transaction");
    let (stuck_id, stuck) = event(1);
    outbox::enqueue(
        &mut tx,
        outbox::Event {
            event_id: stuck_id,
            subject: format!("rcn.{}.nowhere", outbox.subjects.region()),
            payload: &stuck,
            trace: None,
        },
    )
    .await
    .expect("enqueued");
    tx.commit().await.expect("committed");
    let (good_id, good) = event(2);
    outbox.enqueue(&[(good_id, good)], true).await;

    let published = outbox.wait_published(1).await;
    assert_eq!(msg_id(&published[0]), Some(good_id.to_string().as_str()));
    // The good one is also removed from the outbox (published once, not again every round).
    eventually(PATIENCE, "only the unstorable event to remain", || async {
        (outbox.pending().await == 1).then_some(())
    })
    .await;
    outbox.stop().await;
}

#[tokio::test]
async fn a_full_batch_of_events_that_cannot_be_stored_does_not_hold_back_the_next() {
    let outbox = Outbox::start().await;
    // More unstorable events than the relay reads in one round, all older than the good one.
    let stuck_count = 600;
    let mut tx = outbox.pool.begin().await.expect("a transaction");
    for n in 0..stuck_count {
        let (id, ping) = event(n);
        outbox::enqueue(
            &mut tx,
            outbox::Event {
                event_id: id,
                subject: format!("rcn.{}.nowhere", outbox.subjects.region()),
                payload: &ping,
                trace: None,
            },
        )
        .await
        .expect("enqueued");
    }
    tx.commit().await.expect("committed");
    let (good_id, good) = event(stuck_count);
    outbox.enqueue(&[(good_id, good)], true).await;

    let published = outbox.wait_published(1).await;
    assert_eq!(msg_id(&published[0]), Some(good_id.to_string().as_str()));
    // The stuck ones stay, waiting to be tried again later; none of them was lost.
    eventually(PATIENCE, "only the unstorable events to remain", || async {
        (outbox.pending().await == i64::from(stuck_count)).then_some(())
    })
    .await;
    let parked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE attempts > 0 AND retry_at > now()")
            .fetch_one(&outbox.pool)
            .await
            .expect("the query runs");
    assert!(
        parked > 0,
        "refused events wait before they are tried again"
    );
    outbox.stop().await;
}

#[tokio::test]
async fn the_relay_reports_the_backlog_and_the_age_of_the_oldest_event_waiting() {
    rcn_runtime::metrics::handle();
    let env = TestEnv::new().await;
    let url = env
        .config
        .database_url()
        .expect("set by TestEnv")
        .to_owned();
    // A schema of its own, so the gauges of this test are no other test's.
    let pool = rcn_runtime::db::open(
        &url,
        "t_outbox_metrics",
        2,
        &sqlx::migrate::Migrator::DEFAULT,
        Duration::from_secs(5),
    )
    .await
    .expect("the outbox schema is set up");
    let js = env.ctx("outbox-metrics-test").await.jetstream();
    let mut tx = pool.begin().await.expect("a transaction");
    let (id, ping) = event(1);
    outbox::enqueue(
        &mut tx,
        outbox::Event {
            event_id: id,
            // No stream takes it: it stays, and ages.
            subject: format!("rcn.{}.nowhere", env.config.region),
            payload: &ping,
            trace: None,
        },
    )
    .await
    .expect("enqueued");
    tx.commit().await.expect("committed");
    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(outbox::relay(pool.clone(), js, shutdown.clone()));
    let metrics = eventually(PATIENCE, "the outbox gauges", || async {
        let text = rcn_runtime::metrics::render();
        let oldest = text
            .lines()
            .find_map(|l| l.strip_prefix("rcn_outbox_oldest_seconds{schema=\"t_outbox_metrics\"} "))
            .and_then(|v| v.parse::<f64>().ok())?;
        (oldest >= 1.0).then_some(text)
    })
    .await;
    assert!(
        metrics.contains("rcn_outbox_backlog{schema=\"t_outbox_metrics\"} 1\n"),
        "{metrics}"
    );
    shutdown.cancel();
    relay.await.expect("the relay stops");
}
