//! The end-to-end harness: the whole stack (intake, router, casework, procesregie, gateway) in
//! this process, on the real NATS and PostgreSQL, in a random region with a fresh database, plus
//! typed helpers to submit notices as a partner and to look at what came of them.

use std::net::SocketAddr;
use std::time::Duration;

use rcn::stack::{Prepared, Service, Stack};
use rcn_contracts::intake::SubmitReply;
use rcn_runtime::CancellationToken;
use rcn_runtime::testing::{RunningService, TestEnv, eventually};
use sqlx::PgPool;

pub use rcn_contracts::examples::{release_notice, release_notice_json};

/// How long a test waits for the stack to finish something asynchronous.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A running stack for one test.
pub struct TestStack {
    pub env: TestEnv,
    pub http: SocketAddr,
    pub client: reqwest::Client,
    pub db: PgPool,
    pub nats: async_nats::Client,
    /// An API token of PI-HAARLEM (the example notice's sender), sent by [`TestStack::post_notice`].
    pub token: String,
    stack: RunningService,
}

/// Every registered service with its default settings, the gateway on a free port of 127.0.0.1.
pub fn every_service_on_a_free_port() -> Prepared {
    let env = |var: &str| (var == "RCN_HTTP_ADDR").then(|| "127.0.0.1:0".to_owned());
    Stack::prepare(&Service::all(), &env).expect("the default settings are valid")
}

/// A case as casework stored it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub case_id: uuid::Uuid,
    pub gemeentecode: String,
    pub spoed: bool,
    pub status: String,
}

/// The roles the tests' stacks run as (`rcn_t_intake`, …): shared by every test database of the
/// cluster, each owning its schema in every one of them.
pub const TEST_ROLE_PREFIX: &str = "rcn_t";

/// The password of a test role (servers with password authentication need one).
pub fn test_role_password(role: &str) -> Option<String> {
    Some(format!("{role}-test-only"))
}

impl TestStack {
    /// Publishes a dead letter the router gave up on: an accepted notice about the person with
    /// `bsn`; returns its sequence in the DLQ stream.
    pub async fn router_dead_letter(&self, notice_key: &str, bsn: &str) -> u64 {
        let subjects = self.env.config.region.subjects();
        let js = async_nats::jetstream::new(self.nats.clone());
        let mut notice = rcn_contracts::examples::release_notice();
        notice.person.bsn = rcn_contracts::Bsn::parse(bsn).expect("a valid test BSN");
        let accepted = rcn_contracts::events::NoticeAccepted {
            schema_version: 1,
            notice_key: notice_key.into(),
            received_at: chrono::Utc::now(),
            person_key: "not-the-desk's-concern".into(),
            episode_key: format!("e-{notice_key}"),
            notice,
            forwarded_from: None,
        };
        let mut h = async_nats::HeaderMap::new();
        h.insert(rcn_runtime::headers::DLQ_SERVICE, "router");
        h.insert(
            rcn_runtime::headers::DLQ_SUBJECT,
            subjects.notice_accepted().as_str(),
        );
        h.insert(rcn_runtime::headers::DLQ_ERROR, "database said no");
        js.publish_with_headers(
            subjects.dead_letter("router"),
            h,
            serde_json::to_vec(&accepted)
                .expect("an event serialises")
                .into(),
        )
        .await
        .expect("the dead letter is published")
        .await
        .expect("the DLQ stream stores it")
        .sequence
    }

    /// Starts every service and waits until the gateway answers.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts every service with the configuration changed by `tweak` first (a region file, …).
    pub async fn spawn_with(tweak: impl FnOnce(&mut rcn_runtime::Config)) -> Self {
        Self::spawn_prepared(tweak, every_service_on_a_free_port()).await
    }

    /// Starts every service with these service settings (e.g. the gateway's
    /// `RCN_GATEWAY_SESSION_IDLE_SECS`) besides the free port.
    pub async fn spawn_with_settings(settings: &[(&str, &str)]) -> Self {
        let env = |var: &str| {
            settings
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| (*v).to_owned())
                .or_else(|| (var == "RCN_HTTP_ADDR").then(|| "127.0.0.1:0".to_owned()))
        };
        let prepared = Stack::prepare(&Service::all(), &env).expect("the settings are valid");
        Self::spawn_prepared(|_| {}, prepared).await
    }

    async fn spawn_prepared(
        tweak: impl FnOnce(&mut rcn_runtime::Config),
        prepared: Prepared,
    ) -> Self {
        let mut env = TestEnv::new().await;
        // Every service on its own PostgreSQL role, as compose runs them (`rcn db-roles`).
        rcn::db_roles::use_own_roles(&mut env.config, TEST_ROLE_PREFIX, &test_role_password)
            .await
            .expect("the per-service roles are provisioned");
        tweak(&mut env.config);
        let shutdown = CancellationToken::new();
        // As `rcn run` does on a development server: the same code as `rcn provision`.
        rcn::nats_provision::provision(&env.config, &Service::all())
            .await
            .expect("the streams and consumers are provisioned");
        let stack = Stack::start(&env.config, prepared, shutdown.clone())
            .await
            .expect("the stack starts");
        let http = stack.http_addr.expect("the gateway runs");
        let client = reqwest::Client::new();
        let db = env.db().await;
        let nats = env.ctx("rcn-test-partner").await.nats;
        let token = String::new();
        let mut this = Self {
            env,
            http,
            client,
            db,
            nats,
            token,
            stack: RunningService::spawn_stopped_by("the stack", shutdown, stack.wait()),
        };
        let url = this.url("/readyz");
        eventually(PATIENCE, "the gateway to be ready", || {
            let (client, url) = (this.client.clone(), url.clone());
            async move {
                client
                    .get(url)
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status().is_success())
            }
        })
        .await;
        // Intake registers its endpoint after its migrations; a partner's first notice needs it.
        let subject = this.env.config.region.subjects().intake_submit();
        eventually(PATIENCE, "intake to answer", || {
            let (nats, subject) = (this.nats.clone(), subject.clone());
            async move { nats.request(subject, "{}".into()).await.ok() }
        })
        .await;
        // After the gateway is ready: its schema is migrated, so nothing races to create it.
        this.token = this.issue_token("PI-HAARLEM").await.token;
        this
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// Submits a notice as JSON over the partner API, as PI-HAARLEM.
    pub async fn post_notice(&self, notice: &serde_json::Value) -> reqwest::Response {
        self.post_notice_with(&self.token, notice).await
    }

    /// Submits a notice as JSON over the partner API with the API token `token`.
    pub async fn post_notice_with(
        &self,
        token: &str,
        notice: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/v1/release-notices"))
            .bearer_auth(token)
            .json(notice)
            .send()
            .await
            .expect("the gateway answers")
    }

    /// Issues an API token for `institution_code` (as `rcn tokens issue` does).
    pub async fn issue_token(&self, institution_code: &str) -> rcn_gateway::tokens::IssuedToken {
        let pool = rcn_gateway::tokens::open(self.env.config.database_url().expect("set"))
            .await
            .expect("the gateway's schema");
        let issued = rcn_gateway::tokens::issue(
            &pool,
            institution_code,
            None,
            rcn_gateway::tokens::Actor::CommandLine,
            None,
        )
        .await
        .expect("a token");
        pool.close().await;
        issued
    }

    /// Submits a notice over NATS request-reply, as a partner with its own NATS account would.
    pub async fn submit_over_nats(&self, body: &[u8]) -> SubmitReply {
        let subject = self.env.config.region.subjects().intake_submit();
        let reply = self
            .nats
            .request(subject, body.to_vec().into())
            .await
            .expect("intake answers");
        serde_json::from_slice(&reply.payload).expect("a SubmitReply")
    }

    /// Counts rows; `sql` is a `SELECT count(*) …` over the services' schemas.
    pub async fn count(&self, sql: &str) -> i64 {
        rcn_runtime::testing::count(&self.db, sql).await
    }

    /// Waits until casework has applied the notice, and returns its case.
    pub async fn wait_for_case(&self, notice_key: &str) -> CaseRow {
        eventually(PATIENCE, &format!("a case for {notice_key}"), || async {
            sqlx::query_as::<_, CaseRow>(
                "SELECT c.case_id, c.gemeentecode, c.spoed, c.status FROM casework.cases c
                 JOIN casework.case_notices n ON n.case_id = c.case_id WHERE n.notice_key = $1",
            )
            .bind(notice_key)
            .fetch_optional(&self.db)
            .await
            .ok()
            .flatten()
        })
        .await
    }

    /// Waits until the router has decided about the notice; returns (outcome, gemeentecode, rule).
    pub async fn wait_for_decision(&self, notice_key: &str) -> (String, Option<String>, String) {
        eventually(PATIENCE, &format!("a routing decision for {notice_key}"), || async {
            sqlx::query_as("SELECT outcome, gemeentecode, rule FROM router.decisions WHERE notice_key = $1")
                .bind(notice_key)
                .fetch_optional(&self.db)
                .await
                .ok()
                .flatten()
        })
        .await
    }

    /// Stops the stack and waits for it to drain.
    pub async fn stop(self) {
        self.stack.stop(PATIENCE).await;
    }
}
pub mod crash;
pub mod oidc_provider;
/// The one browser harness (headless Chromium, axe-core, screenshots) of both browser suites.
pub mod staff_browser;
/// The one browser harness under the sign-in suite's name (`tests/oidc`).
pub use staff_browser as browser;
