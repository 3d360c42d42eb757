//! Casework with its API, for the tests of claiming, the inbox, status changes, deadlines and
//! later notices: one or more instances on one test environment (so a test can restart casework
//! or run several at once), staff identities, and a typed client for the request-reply API.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::StreamMessage};
use chrono::NaiveDate;
use rcn_casework::Settings;
use rcn_contracts::casework_api::{ErrorCode, TaskRef, held_by};
use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::events::RoutingOutcome;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::{Condition, ReleaseNotice, Subjects};
use rcn_runtime::headers;
use rcn_runtime::testing::{RunningService, TestEnv, eventually, try_count};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{gm, routed_notice, stream_messages};

pub const PATIENCE: Duration = Duration::from_secs(20);

/// Casework instances sharing one region and database.
pub struct App {
    pub env: TestEnv,
    pub js: jetstream::Context,
    pub nats: async_nats::Client,
    pub subjects: Subjects,
    pub db: PgPool,
    /// Casework's own settings, the same for every instance.
    pub settings: Settings,
    instances: Vec<RunningService>,
    published: u64,
}

impl App {
    /// One instance whose scheduler, in effect, never runs (its first look is an hour away).
    pub async fn spawn() -> Self {
        Self::spawn_with(|c| c.scheduler_interval = Duration::from_secs(3600)).await
    }

    /// One instance with `edit` applied to casework's default settings.
    pub async fn spawn_with(edit: impl FnOnce(&mut Settings)) -> Self {
        let env = TestEnv::new().await;
        let mut settings = Settings::default();
        edit(&mut settings);
        let subjects = env.config.region.subjects();
        let ctx = env.ctx("router-and-gateway-stand-in").await;
        let js = ctx.jetstream();
        env.provision(&[rcn_casework::nats_resources(&env.config).expect("casework's needs")])
            .await;
        let db = env.db().await;
        let mut app = Self {
            env,
            js,
            nats: ctx.nats.clone(),
            subjects,
            db,
            settings,
            instances: Vec::new(),
            published: 0,
        };
        app.start_instance().await;
        app
    }

    /// Starts one more casework instance.
    pub async fn start_instance(&mut self) {
        let ctx = self.env.ctx("casework").await;
        let settings = self.settings.clone();
        let instance = RunningService::spawn("casework", |shutdown| {
            rcn_casework::run(ctx, settings, shutdown)
        });
        self.instances.push(instance);
    }

    /// Stops every instance and checks each stopped cleanly.
    pub async fn stop_all(&mut self) {
        // Cancel them all first, so they drain side by side rather than one after another.
        for instance in &self.instances {
            instance.cancel();
        }
        for instance in self.instances.drain(..) {
            instance.stop(PATIENCE).await;
        }
    }

    /// Publishes a routed notice (as the router would) and waits until casework applied it.
    pub async fn send_notice(&mut self, routed: &rcn_contracts::events::NoticeRouted) -> Uuid {
        let RoutingOutcome::Routed { gemeentecode } = &routed.outcome else {
            panic!("send routed notices")
        };
        let mut h = HeaderMap::new();
        self.published += 1;
        h.insert(
            headers::MSG_ID,
            format!("routed-{}", self.published).as_str(),
        );
        let payload = serde_json::to_vec(routed).expect("a notice serialises");
        let ack = self
            .js
            .publish_with_headers(self.subjects.routed(gemeentecode), h, payload.into())
            .await
            .expect("publish");
        ack.await.expect("the routed notice is stored");
        let db = self.db.clone();
        let key = routed.notice_key.clone();
        eventually(PATIENCE, &format!("notice {key} applied"), || {
            let (db, key) = (db.clone(), key.clone());
            async move {
                sqlx::query_scalar::<_, Uuid>(
                    "SELECT case_id FROM casework.case_notices WHERE notice_key = $1",
                )
                .bind(key)
                .fetch_optional(&db)
                .await
                .ok()
                .flatten()
            }
        })
        .await
    }

    /// Opens a case in `gemeente` releasing on `release`, the example notice after `edit`.
    pub async fn open_case(
        &mut self,
        key: &str,
        gemeente: &str,
        release: NaiveDate,
        edit: impl FnOnce(&mut ReleaseNotice),
    ) -> Uuid {
        let mut routed = routed_notice(
            &format!("PI-HAARLEM:{key}"),
            &format!("episode-{key}"),
            release,
            edit,
        );
        routed.outcome = RoutingOutcome::Routed {
            gemeentecode: gm(gemeente),
        };
        self.send_notice(&routed).await
    }

    /// Calls `verb` as `who`; retries while the API is still starting (no responders yet).
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        who: &Identity,
        verb: &str,
        req: &Req,
    ) -> Result<Resp, ApiProblem> {
        let body = serde_json::to_vec(req).expect("a request serialises");
        self.raw_call(verb, Some(&who.to_header()), body)
            .await
            .into_result()
    }

    /// Sends any body as `identity` (an `Rcn-Identity` value, signed as the gateway signs; `None`:
    /// no identity at all); the decoded reply.
    pub async fn raw_call<Resp: DeserializeOwned>(
        &self,
        verb: &str,
        identity: Option<&str>,
        body: Vec<u8>,
    ) -> ApiReply<Resp> {
        self.raw_call_signing(verb, identity.map(|i| (i, &self.env)), body)
            .await
    }

    /// Sends any body with exactly the headers `h` (forged or damaged signatures); the decoded
    /// reply.
    pub async fn raw_call_with<Resp: DeserializeOwned>(
        &self,
        verb: &str,
        h: HeaderMap,
        body: Vec<u8>,
    ) -> ApiReply<Resp> {
        self.send(verb, || Some(h.clone()), body).await
    }

    async fn raw_call_signing<Resp: DeserializeOwned>(
        &self,
        verb: &str,
        signing: Option<(&str, &TestEnv)>,
        body: Vec<u8>,
    ) -> ApiReply<Resp> {
        let subject = self.subjects.casework_api(verb);
        // Signed anew for every attempt: a signature is good for one request.
        let headers = || signing.map(|(identity, env)| env.signed(identity, &subject, &body));
        self.send(verb, headers, body.clone()).await
    }

    async fn send<Resp: DeserializeOwned>(
        &self,
        verb: &str,
        headers: impl Fn() -> Option<HeaderMap>,
        body: Vec<u8>,
    ) -> ApiReply<Resp> {
        let subject = self.subjects.casework_api(verb);
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let sent = match headers() {
                Some(h) => {
                    self.nats
                        .request_with_headers(subject.clone(), h, body.clone().into())
                        .await
                }
                None => {
                    self.nats
                        .request(subject.clone(), body.clone().into())
                        .await
                }
            };
            match sent {
                Ok(m) => {
                    return serde_json::from_slice(&m.payload)
                        .unwrap_or_else(|e| panic!("{verb} reply does not decode: {e}"));
                }
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!(error = %e, "casework API not answering yet");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{verb}: {e}"),
            }
        }
    }

    /// The events on CASES whose subject contains `part` (e.g. `task_overdue`).
    pub async fn events(&self, part: &str) -> Vec<StreamMessage> {
        stream_messages(&self.js, &self.subjects.cases_stream())
            .await
            .into_iter()
            .filter(|m| m.subject.contains(part))
            .collect()
    }

    /// Waits until exactly `n` events of `part` are on CASES and the outbox is empty.
    pub async fn wait_for_events(&self, part: &str, n: usize) -> Vec<StreamMessage> {
        eventually(PATIENCE, &format!("{n} {part} event(s)"), || async {
            let outbox = try_count(&self.db, "SELECT count(*) FROM casework.outbox").await?;
            let events = self.events(part).await;
            (outbox == 0 && events.len() >= n).then_some(events)
        })
        .await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        rcn_runtime::testing::count(&self.db, sql).await
    }
}

/// Casework's reading of a problem it answered with: its kind, and who holds the task.
pub trait CaseworkProblem {
    /// The kind; a problem that is none of casework's kinds, or whose status is not its
    /// kind's, fails the test.
    fn code(&self) -> ErrorCode;
    fn held_by(&self) -> Option<&str>;
}

impl CaseworkProblem for ApiProblem {
    fn code(&self) -> ErrorCode {
        let code =
            ErrorCode::of(self).unwrap_or_else(|| panic!("not a casework problem: {self:?}"));
        assert_eq!(self.status, code.status(), "{self:?}");
        code
    }

    fn held_by(&self) -> Option<&str> {
        held_by(self)
    }
}

/// A nazorgcoördinator of `gemeente`.
pub fn staff(user: &str, gemeente: &str) -> Identity {
    Identity {
        user_id: user.into(),
        role: Role::MunicipalStaff,
        gemeentecode: Some(gm(gemeente)),
    }
}

/// A coordinator of the RCN.
pub fn rcn(user: &str) -> Identity {
    Identity {
        user_id: user.into(),
        role: Role::RcnCoordinator,
        gemeentecode: None,
    }
}

pub fn task(case_id: Uuid, condition: Condition) -> TaskRef {
    TaskRef { case_id, condition }
}

/// The request body for single-task verbs.
pub fn one(case_id: Uuid, condition: Condition) -> serde_json::Value {
    serde_json::json!({"task": task(case_id, condition)})
}
