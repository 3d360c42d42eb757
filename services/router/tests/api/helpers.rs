//! A running router for one test, and typed helpers to feed it accepted notices and read what it
//! decided.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::StreamMessage};
use chrono::{SubsecRound, Utc};
use rcn_contracts::events::{NoticeAccepted, NoticeRouted};
use rcn_contracts::{ReleaseNotice, SCHEMA_VERSION, Subjects};
use rcn_runtime::headers;
use rcn_runtime::testing::{RunningService, TestEnv, eventually, settled};
use sqlx::PgPool;

pub use rcn_runtime::testing::{header, stream_messages};

/// How long a test waits for something asynchronous to happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The durable consumer the router reads NOTICES with.
const DURABLE: &str = "router";

/// The router running in a task.
pub struct TestRouter {
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub db: PgPool,
    router: RunningService,
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
        // As `rcn provision` does before the router starts (NOTICES included, which the test
        // publishes to in intake's place).
        env.provision(&[rcn_router::nats_resources(&env.config).expect("the router's needs")])
            .await;
        let ctx = env.ctx("router").await;
        let router = RunningService::spawn("the router", |shutdown| {
            rcn_router::run(ctx, rcn_router::Settings::default(), shutdown)
        });
        let db = env.db().await;
        Self {
            js,
            subjects,
            db,
            router,
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
                let stream = self.subjects.notices_stream().name;
                settled(&self.js, &stream, DURABLE, n, &self.db, "router.outbox").await
            },
        )
        .await;
    }

    pub async fn count(&self, sql: &str) -> i64 {
        rcn_runtime::testing::count(&self.db, sql).await
    }

    /// Stops the router and checks it shuts down cleanly.
    pub async fn stop(self) {
        self.router.stop(PATIENCE).await;
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
