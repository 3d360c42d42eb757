//! Casework running for one test, and typed helpers to feed it routed notices and read the cases
//! it keeps.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::StreamMessage};
use chrono::{Days, NaiveDate, SubsecRound, Utc};
use rcn_contracts::events::{NoticeRouted, RoutingOutcome, RoutingRule};
use rcn_contracts::{Gemeentecode, ReleaseNotice, SCHEMA_VERSION, Subjects};
use rcn_runtime::headers;
use rcn_runtime::testing::{RunningService, TestEnv, eventually, settled};
use sqlx::PgPool;
use uuid::Uuid;

pub use rcn_runtime::testing::{header, stream_messages};

/// How long a test waits for something asynchronous to happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The durable consumer casework reads ROUTING with.
const DURABLE: &str = "casework";

/// Casework running in a task.
pub struct TestCasework {
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub db: PgPool,
    casework: RunningService,
    _env: TestEnv,
}

/// A case as casework stored it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub case_id: Uuid,
    pub episode_key: String,
    pub gemeentecode: String,
    pub expected_release_on: Option<NaiveDate>,
    pub spoed: bool,
    pub status: String,
}

/// A condition task of a case.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    pub condition: String,
    pub status: String,
    pub note: Option<String>,
    pub due_on: Option<NaiveDate>,
}

impl TestCasework {
    pub async fn spawn() -> Self {
        let env = TestEnv::new().await;
        let subjects = env.config.region.subjects();
        let js = env.ctx("router-stand-in").await.jetstream();
        // As `rcn provision` does before casework starts (ROUTING included, which the test
        // publishes to in the router's place).
        env.provision(&[rcn_casework::nats_resources(&env.config).expect("casework's needs")])
            .await;
        let ctx = env.ctx("casework").await;
        let casework = RunningService::spawn("casework", |shutdown| {
            rcn_casework::run(ctx, rcn_casework::Settings::default(), shutdown)
        });
        let db = env.db().await;
        Self {
            js,
            subjects,
            db,
            casework,
            _env: env,
        }
    }

    /// Publishes a routed notice on the subject of its municipality, as the router would.
    pub async fn publish(&self, routed: &NoticeRouted, msg_id: &str) {
        let gemeente = match &routed.outcome {
            RoutingOutcome::Routed { gemeentecode }
            | RoutingOutcome::OutOfRegion { gemeentecode } => gemeentecode,
            RoutingOutcome::Unroutable => panic!("casework reads routed.<gemeentecode> only"),
        };
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, msg_id);
        let payload = serde_json::to_vec(routed).expect("serialises");
        let ack = self
            .js
            .publish_with_headers(self.subjects.routed(gemeente), h, payload.into())
            .await
            .expect("sent")
            .await
            .expect("stored by JetStream");
        assert!(!ack.duplicate, "{msg_id} was stored");
    }

    /// Waits until the notice is applied, and returns its case.
    pub async fn wait_for_case(&self, notice_key: &str) -> CaseRow {
        eventually(PATIENCE, &format!("a case for {notice_key}"), || async {
            sqlx::query_as::<_, CaseRow>(
                "SELECT c.case_id, c.episode_key, c.gemeentecode, c.expected_release_on, c.spoed, c.status
                 FROM casework.cases c JOIN casework.case_notices n ON n.case_id = c.case_id WHERE n.notice_key = $1",
            )
            .bind(notice_key)
            .fetch_optional(&self.db)
            .await
            .ok()
            .flatten()
        })
        .await
    }

    /// The condition tasks of a case, by condition name.
    pub async fn tasks(&self, case_id: Uuid) -> Vec<TaskRow> {
        sqlx::query_as("SELECT condition, status, note, due_on FROM casework.condition_tasks WHERE case_id = $1 ORDER BY condition")
            .bind(case_id)
            .fetch_all(&self.db)
            .await
            .expect("the tasks can be read")
    }

    /// Waits until the CASES stream holds `n` events, and returns them.
    pub async fn wait_for_case_events(&self, n: usize) -> Vec<StreamMessage> {
        eventually(PATIENCE, &format!("{n} event(s) on CASES"), || async {
            let m = stream_messages(&self.js, &self.subjects.cases_stream()).await;
            (m.len() >= n).then_some(m)
        })
        .await
    }

    /// Waits until casework has settled the first `n` routed notices (acked or dead-lettered) and
    /// its outbox is empty: all it will ever do about them is done.
    pub async fn wait_until_settled(&self, n: u64) {
        eventually(
            PATIENCE,
            &format!("casework to finish {n} notice(s)"),
            || async {
                let stream = self.subjects.routing_stream().name;
                settled(&self.js, &stream, DURABLE, n, &self.db, "casework.outbox").await
            },
        )
        .await;
    }

    /// Waits for the first message on casework's dead-letter subject.
    pub async fn wait_for_dead_letter(&self) -> StreamMessage {
        eventually(PATIENCE, "a dead letter", || async {
            stream_messages(&self.js, &self.subjects.dead_letter_stream())
                .await
                .into_iter()
                .next()
        })
        .await
    }

    /// The configuration casework runs with (its retention rules among it).
    pub fn config(&self) -> &rcn_runtime::Config {
        &self._env.config
    }

    /// The URL of this test's database.
    pub fn database_url(&self) -> &str {
        self._env.config.database_url().expect("a database")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        rcn_runtime::testing::count(&self.db, sql).await
    }

    /// Stops casework and checks it shuts down cleanly.
    pub async fn stop(self) {
        self.casework.stop(PATIENCE).await;
    }
}

pub fn gm(code: &str) -> Gemeentecode {
    Gemeentecode::parse(code).expect("a valid gemeentecode")
}

/// Today in the Netherlands, the day casework reckons spoed from.
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive()
}

pub fn days_from_today(days: u64) -> NaiveDate {
    today().checked_add_days(Days::new(days)).expect("a date")
}

/// A notice routed to `gemeente` for `episode_key`, releasing on `release`: the example notice
/// after `edit`.
pub fn routed_notice(
    notice_key: &str,
    episode_key: &str,
    release: NaiveDate,
    edit: impl FnOnce(&mut ReleaseNotice),
) -> NoticeRouted {
    let mut notice = rcn_contracts::examples::release_notice();
    notice.notice_id = notice_key
        .rsplit(':')
        .next()
        .unwrap_or(notice_key)
        .to_owned();
    notice.detention.expected_release_on = Some(release);
    edit(&mut notice);
    let now = Utc::now().trunc_subsecs(6);
    NoticeRouted {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        notice_key: notice_key.to_owned(),
        person_key: format!("person-of-{episode_key}"),
        episode_key: episode_key.to_owned(),
        outcome: RoutingOutcome::Routed {
            gemeentecode: gm("GM0392"),
        },
        rule: RoutingRule::BrpRegistration,
        reason: "BRP registration Haarlem (GM0392) is in the region".into(),
        ambiguous: false,
        decided_at: now,
        received_at: now,
        notice,
    }
}
