//! A running router for one test, and typed helpers to feed it accepted notices and read what it
//! decided.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::StreamMessage};
use chrono::{SubsecRound, Utc};
use rcn_contracts::events::{NoticeAccepted, NoticeRouted};
use rcn_contracts::{ReleaseNotice, SCHEMA_VERSION, StreamDef, Subjects};
use rcn_runtime::testing::{TestEnv, eventually};
use rcn_runtime::{CancellationToken, headers};
use sqlx::PgPool;
use tokio::task::JoinHandle;

/// How long a test waits for something asynchronous to happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The durable consumer the router reads NOTICES with.
const DURABLE: &str = "router";

/// The router running in a task.
pub struct TestRouter {
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub db: PgPool,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    _env: TestEnv,
}

/// A decision as the router recorded it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub outcome: String,
    pub gemeentecode: Option<String>,
    pub rule: String,
    pub reason: String,
    pub episode_key: String,
    pub inputs: serde_json::Value,
}

impl TestRouter {
    pub async fn spawn() -> Self {
        let env = TestEnv::new().await;
        let subjects = env.config.region.subjects();
        let js = env.ctx("intake-stand-in").await.jetstream();
        // Intake owns NOTICES; here the test publishes in its place.
        rcn_runtime::nats::ensure_stream(&js, &subjects.notices_stream())
            .await
            .expect("the stream can be created");
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(rcn_router::run(env.ctx("router").await, shutdown.clone()));
        let db = env.db().await;
        Self {
            js,
            subjects,
            db,
            shutdown,
            handle: Some(handle),
            _env: env,
        }
    }

    /// Publishes an accepted notice as intake would, under `msg_id`.
    pub async fn publish(&self, accepted: &NoticeAccepted, msg_id: &str) {
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, msg_id);
        let payload = serde_json::to_vec(accepted).expect("serialises");
        let ack = self
            .js
            .publish_with_headers(self.subjects.notice_accepted(), h, payload.into())
            .await
            .expect("sent")
            .await
            .expect("stored by JetStream");
        assert!(!ack.duplicate, "{msg_id} was stored");
    }

    /// Waits for the decision about `notice_key`.
    pub async fn wait_for_decision(&self, notice_key: &str) -> DecisionRow {
        eventually(PATIENCE, &format!("a decision about {notice_key}"), || async {
            sqlx::query_as::<_, DecisionRow>(
                "SELECT outcome, gemeentecode, rule, reason, episode_key, inputs FROM router.decisions WHERE notice_key = $1",
            )
            .bind(notice_key)
            .fetch_optional(&self.db)
            .await
            .ok()
            .flatten()
        })
        .await
    }

    /// Waits until the ROUTING stream holds `n` events, and returns them.
    pub async fn wait_for_routing_events(&self, n: usize) -> Vec<StreamMessage> {
        eventually(PATIENCE, &format!("{n} event(s) on ROUTING"), || async {
            let m = stream_messages(&self.js, &self.subjects.routing_stream()).await;
            (m.len() >= n).then_some(m)
        })
        .await
    }

    /// Waits until the router has acked the first `n` notices and its outbox is empty: all it
    /// will ever do about them is done.
    pub async fn wait_until_settled(&self, n: u64) {
        eventually(
            PATIENCE,
            &format!("the router to finish {n} notice(s)"),
            || async {
                let stream = self
                    .js
                    .get_stream(&self.subjects.notices_stream().name)
                    .await
                    .ok()?;
                let info = stream.consumer_info(DURABLE).await.ok()?;
                let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM router.outbox")
                    .fetch_one(&self.db)
                    .await
                    .ok()?;
                (info.ack_floor.stream_sequence >= n && info.num_ack_pending == 0 && outbox == 0)
                    .then_some(())
            },
        )
        .await;
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db)
            .await
            .expect("the query runs")
    }

    /// Stops the router and checks it shuts down cleanly.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let handle = self.handle.take().expect("running");
        let result = tokio::time::timeout(PATIENCE, handle)
            .await
            .expect("the router stops in time");
        result.expect("no panic").expect("the router stops cleanly");
    }
}

impl Drop for TestRouter {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// An accepted notice with its own keys, built from the example notice after `edit`.
pub fn accepted(notice_key: &str, edit: impl FnOnce(&mut ReleaseNotice)) -> NoticeAccepted {
    let mut notice = rcn_contracts::examples::release_notice();
    notice.notice_id = notice_key
        .rsplit(':')
        .next()
        .unwrap_or(notice_key)
        .to_owned();
    edit(&mut notice);
    NoticeAccepted {
        schema_version: SCHEMA_VERSION,
        notice_key: notice_key.to_owned(),
        received_at: Utc::now().trunc_subsecs(6),
        person_key: format!("person-of-{notice_key}"),
        episode_key: format!("episode-of-{notice_key}"),
        notice,
        forwarded_from: None,
    }
}

/// Decodes a ROUTING event.
pub fn routed(m: &StreamMessage) -> NoticeRouted {
    serde_json::from_slice(&m.payload).expect("a NoticeRouted")
}

/// Every message a stream holds, in order.
pub async fn stream_messages(js: &jetstream::Context, def: &StreamDef) -> Vec<StreamMessage> {
    let Ok(mut stream) = js.get_stream(&def.name).await else {
        return Vec::new();
    };
    let state = stream.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    if state.messages > 0 {
        for seq in state.first_sequence..=state.last_sequence {
            out.push(stream.get_raw_message(seq).await.expect("a stored message"));
        }
    }
    out
}

/// The value of a header of a stored message.
pub fn header<'a>(m: &'a StreamMessage, name: &str) -> Option<&'a str> {
    m.headers.get(name).map(|v| v.as_str())
}
