//! A running monitor for one test, and typed helpers to publish events as the other services
//! would and to read the figures.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use chrono::{DateTime, NaiveDate, Utc};
use rcn_contracts::Subjects;
use rcn_contracts::monitor_api::{Figures, Granularity};
use rcn_monitor::figures::{Period, Scope};
use rcn_monitor::read_models::Feed;
use rcn_runtime::headers;
use rcn_runtime::testing::{RunningService, TestEnv, eventually};
use serde::Serialize;
use sqlx::PgPool;

/// How long a test waits for something asynchronous to happen.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// One message as another service publishes it.
#[derive(Debug, Clone)]
pub struct Published {
    pub subject: String,
    pub msg_id: String,
    pub payload: Vec<u8>,
}

impl Published {
    pub fn json<T: Serialize>(subject: String, msg_id: impl Into<String>, payload: &T) -> Self {
        Self {
            subject,
            msg_id: msg_id.into(),
            payload: serde_json::to_vec(payload).expect("serialises"),
        }
    }
}

/// The monitor running in a task, on its own region and database.
pub struct TestMonitor {
    pub env: TestEnv,
    pub js: jetstream::Context,
    pub subjects: Subjects,
    /// A pool on the monitor's schema.
    pub pool: PgPool,
    pub settings: rcn_monitor::Settings,
    monitor: Option<RunningService>,
}

impl TestMonitor {
    pub async fn spawn(settings: rcn_monitor::Settings) -> Self {
        let env = TestEnv::new().await;
        let subjects = env.config.region.subjects();
        let js = env.ctx("publisher-stand-in").await.jetstream();
        for stream in [
            subjects.notices_stream(),
            subjects.routing_stream(),
            subjects.cases_stream(),
            subjects.procesregie_stream(),
            subjects.dead_letter_stream(),
        ] {
            rcn_runtime::nats::ensure_stream(&js, &stream)
                .await
                .expect("the stream can be created");
        }
        // As `rcn provision` does before the monitor starts: its durable consumers.
        env.provision(&[rcn_monitor::nats_resources(&env.config).expect("the monitor's needs")])
            .await;
        let pool = schema_pool(&env).await;
        let mut monitor = Self {
            env,
            js,
            subjects,
            pool,
            settings,
            monitor: None,
        };
        monitor.start().await;
        monitor
    }

    /// Starts the monitor (again).
    pub async fn start(&mut self) {
        let ctx = self.env.ctx("monitor").await;
        let settings = self.settings.clone();
        self.monitor = Some(RunningService::spawn("the monitor", |shutdown| {
            rcn_monitor::run(ctx, settings, shutdown)
        }));
    }

    /// Stops the monitor and checks it shuts down cleanly.
    pub async fn stop(&mut self) {
        if let Some(m) = self.monitor.take() {
            m.stop(PATIENCE).await;
        }
    }

    pub async fn publish(&self, messages: &[Published]) {
        for m in messages {
            let mut h = HeaderMap::new();
            h.insert(headers::MSG_ID, m.msg_id.as_str());
            self.js
                .publish_with_headers(m.subject.clone(), h, m.payload.clone().into())
                .await
                .expect("sent")
                .await
                .expect("stored by JetStream");
        }
    }

    /// Waits until every feed's consumer has acked everything its stream holds.
    pub async fn wait_until_settled(&self) {
        eventually(PATIENCE, "the monitor to read every stream", || async {
            for feed in Feed::ALL {
                let spec = feed.spec(&self.subjects, &self.env.config);
                let mut stream = self.js.get_stream(&spec.stream.name).await.ok()?;
                let last = stream.info().await.ok()?.state.last_sequence;
                let info = stream.consumer_info(feed.durable()).await.ok()?;
                let done = info.ack_floor.stream_sequence >= last
                    && info.num_ack_pending == 0
                    && info.num_pending == 0;
                if !done {
                    return None;
                }
            }
            Some(())
        })
        .await;
    }

    /// The figures as of `now`, for November and December 2026 by month.
    pub async fn figures(&self, now: DateTime<Utc>, scope: Scope) -> Figures {
        self.figures_for(now, scope, Granularity::Month).await
    }

    pub async fn figures_for(
        &self,
        now: DateTime<Utc>,
        scope: Scope,
        granularity: Granularity,
    ) -> Figures {
        let region = rcn_monitor::region_table(&self.env.config).expect("the region table");
        let period = Period {
            granularity,
            from: day("2026-11-01"),
            to: day("2026-12-31"),
        };
        rcn_monitor::figures::compute(&self.pool, &region, &self.settings, period, &scope, now)
            .await
            .expect("the figures can be computed")
    }
}

/// A pool whose connections see the monitor's schema (migrated, as the service migrates it).
pub async fn schema_pool(env: &TestEnv) -> PgPool {
    rcn_runtime::db::open(
        env.config.database_url().expect("set"),
        rcn_monitor::SCHEMA,
        2,
        &rcn_monitor::MIGRATIONS,
        PATIENCE,
    )
    .await
    .expect("the monitor's schema")
}

/// The whole region.
pub fn region() -> Scope {
    Scope {
        gemeentecode: None,
        regional: true,
    }
}

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("an RFC 3339 time")
}

pub fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// Polls until `check` gives `Some`.
pub async fn wait_for<T, F, Fut>(check: F, what: &str) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually(PATIENCE, what, check).await
}

/// A local address no one listens on now.
pub fn free_address() -> std::net::SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address")
}

/// `GET /metrics` on `addr`: the body.
pub async fn scrape(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the metrics address answers");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: monitor\r\n\r\n")
        .await
        .expect("sent");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
    out
}
