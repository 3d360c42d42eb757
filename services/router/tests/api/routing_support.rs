//! Support for the routing tests: a router started with its own configuration (an address
//! register, a region file), a local stand-in for the address register, and typed helpers for
//! the manual-queue API. Builds on `helpers` for notices and streams.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, message::StreamMessage};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rcn_contracts::Subjects;
use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::events::NoticeAccepted;
use rcn_contracts::routing_api::{
    ManualRouting, ManualRoutingKind, QueueDecideReply, QueueDecideRequest, QueueListReply,
    WaitingNotice,
};
use rcn_contracts::{Gemeentecode, Region};
use rcn_router::settings::{AddressRegisterSettings, Settings};
use rcn_runtime::testing::{RunningService, TestEnv, eventually, try_count};
use rcn_runtime::{Config, headers};
use sqlx::PgPool;
use tokio::task::JoinHandle;

pub use crate::helpers::{DecisionRow, PATIENCE, accepted, routed, stream_messages};

/// The router running in a task, configured by the test, and a coordinator's NATS connection.
pub struct RoutingRouter {
    pub nats: async_nats::Client,
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub db: PgPool,
    router: RunningService,
    env: TestEnv,
}

impl RoutingRouter {
    /// Starts a router on a fresh region and database after `configure` adjusted its config.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_configured(configure, Settings::default()).await
    }

    /// Starts a router with `settings` of its own, after `configure` adjusted the shared config.
    pub async fn spawn_configured(configure: impl FnOnce(&mut Config), settings: Settings) -> Self {
        let mut env = TestEnv::new().await;
        configure(&mut env.config);
        let subjects = env.config.region.subjects();
        let client = env.ctx("coordinator-stand-in").await;
        let js = client.jetstream();
        env.provision(&[rcn_router::nats_resources(&env.config).expect("the router's needs")])
            .await;
        let ctx = env.ctx("router").await;
        let router = RunningService::spawn("the router", |shutdown| {
            rcn_router::run(ctx, settings, shutdown)
        });
        let db = env.db().await;
        Self {
            nats: client.nats.clone(),
            js,
            subjects,
            db,
            router,
            env,
        }
    }

    /// Starts a router that asks `register_url`, with short timeouts so tests stay quick.
    pub async fn spawn_with_register(
        register_url: &str,
        configure: impl FnOnce(&mut AddressRegisterSettings),
    ) -> Self {
        let mut register = AddressRegisterSettings::at(register_url);
        register.timeout = Duration::from_millis(300);
        register.retries = 2;
        configure(&mut register);
        let settings = Settings {
            address_register: Some(register),
        };
        Self::spawn_configured(|_| {}, settings).await
    }

    /// Publishes an accepted notice as intake would, and waits for the router's decision.
    pub async fn route(&self, notice: &NoticeAccepted) -> DecisionRow {
        self.publish(notice).await;
        self.wait_for_decision(&notice.notice_key).await
    }

    pub async fn publish(&self, notice: &NoticeAccepted) {
        let mut h = async_nats::HeaderMap::new();
        h.insert(headers::MSG_ID, notice.notice_key.as_str());
        let payload = serde_json::to_vec(notice).unwrap();
        let ack = self
            .js
            .publish_with_headers(self.subjects.notice_accepted(), h, payload.into())
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(!ack.duplicate, "{} was stored", notice.notice_key);
    }

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

    /// The notices waiting in the manual queue, asked over NATS as the gateway would.
    pub async fn waiting(&self) -> Vec<WaitingNotice> {
        match self.list_raw(b"").await.1 {
            Ok(QueueListReply::Waiting { notices, .. }) => notices,
            other => panic!("the queue did not list: {other:?}"),
        }
    }

    /// The list reply, with its bytes as they travelled.
    pub async fn list_raw(
        &self,
        body: &'static [u8],
    ) -> (Vec<u8>, Result<QueueListReply, ApiProblem>) {
        let bytes = self
            .request(self.subjects.router_queue_list(), body.to_vec())
            .await;
        let reply = serde_json::from_slice::<ApiReply<QueueListReply>>(&bytes)
            .expect("a QueueListReply in the envelope");
        (bytes, reply.into_result())
    }

    pub async fn decide(
        &self,
        request: &QueueDecideRequest,
    ) -> Result<QueueDecideReply, ApiProblem> {
        self.decide_raw(serde_json::to_vec(request).unwrap()).await
    }

    /// Decides as the coordinator the request names in `decided_by` (as the gateway would).
    pub async fn decide_raw(&self, body: Vec<u8>) -> Result<QueueDecideReply, ApiProblem> {
        let who = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["decided_by"].as_str().map(str::to_owned))
            .unwrap_or_else(|| COORDINATOR.to_owned());
        let bytes = self
            .request_as(
                &coordinator(&who),
                self.subjects.router_queue_decide(),
                body,
            )
            .await;
        serde_json::from_slice::<ApiReply<QueueDecideReply>>(&bytes)
            .expect("a QueueDecideReply in the envelope")
            .into_result()
    }

    /// The person pseudonym of `bsn` with this test's region key, as intake puts it on a notice.
    pub fn person_key(&self, bsn: &str) -> String {
        self.env
            .config
            .pseudonym_key()
            .expect("the test config has a key")
            .person_key(&rcn_contracts::Bsn::parse(bsn).unwrap())
    }

    /// Headers carrying `identity` to `subject` with `body`, signed as the gateway signs.
    pub fn signed(&self, identity: &str, subject: &str, body: &[u8]) -> async_nats::HeaderMap {
        self.env.signed(identity, subject, body)
    }

    /// A request from an RCN coordinator.
    pub async fn request(&self, subject: String, body: Vec<u8>) -> Vec<u8> {
        self.request_as(&coordinator(COORDINATOR), subject, body)
            .await
    }

    /// A request with the identity header `identity` (a JSON `Identity`; empty: no header),
    /// retried while the router's service is still starting (no responders yet).
    pub async fn request_as(&self, identity: &str, subject: String, body: Vec<u8>) -> Vec<u8> {
        eventually(PATIENCE, &format!("an answer on {subject}"), || {
            let (subject, body) = (subject.clone(), body.clone());
            async move {
                let h = if identity.is_empty() {
                    async_nats::HeaderMap::new()
                } else {
                    self.signed(identity, &subject, &body)
                };
                self.nats
                    .request_with_headers(subject, h, body.into())
                    .await
                    .ok()
                    .map(|m| m.payload.to_vec())
            }
        })
        .await
    }

    /// Waits until the ROUTING stream holds an event on `subject` for `notice_key`, then a moment
    /// longer, and returns every such event (so a second one would be seen).
    pub async fn routing_events_for(&self, subject: &str, notice_key: &str) -> Vec<StreamMessage> {
        let matching = || async {
            stream_messages(&self.js, &self.subjects.routing_stream())
                .await
                .into_iter()
                .filter(|m| m.subject.as_str() == subject && routed(m).notice_key == notice_key)
                .collect::<Vec<_>>()
        };
        eventually(PATIENCE, &format!("an event on {subject}"), || async {
            Some(matching().await).filter(|m| !m.is_empty())
        })
        .await;
        self.wait_until_outbox_empty().await;
        matching().await
    }

    pub async fn wait_until_outbox_empty(&self) {
        eventually(PATIENCE, "the router's outbox to empty", || async {
            let n = try_count(&self.db, "SELECT count(*) FROM router.outbox").await?;
            (n == 0).then_some(())
        })
        .await;
    }

    pub async fn stop(self) {
        self.router.stop(PATIENCE).await;
    }
}

pub fn gm(code: &str) -> Gemeentecode {
    Gemeentecode::parse(code).unwrap()
}

/// A notice with no BRP registration and the last address `postcode` 12: rule 2 or 3 decides.
pub fn by_address(notice_key: &str, postcode: &str) -> NoticeAccepted {
    accepted(notice_key, |n| {
        n.person.brp_municipality = None;
        let address = n
            .person
            .address
            .as_mut()
            .expect("the example has an address");
        address.postcode = rcn_contracts::Postcode::parse(postcode).unwrap();
        address.house_number = 12;
    })
}

/// A notice no rule can route: no registration, no address.
pub fn unroutable(notice_key: &str) -> NoticeAccepted {
    accepted(notice_key, |n| {
        n.person.brp_municipality = None;
        n.person.address = None;
    })
}

pub fn decision(
    notice_key: &str,
    kind: ManualRoutingKind,
    code: &str,
    by: &str,
) -> QueueDecideRequest {
    QueueDecideRequest {
        notice_key: notice_key.to_owned(),
        decision: ManualRouting {
            kind,
            gemeentecode: gm(code),
        },
        decided_by: by.to_owned(),
        why: "Laatst bekend in de daklozenopvang van deze gemeente.".to_owned(),
    }
}

/// A random region segment, for a second rcn region on the same NATS system.
pub fn another_region() -> Region {
    let id = uuid::Uuid::new_v4().simple().to_string();
    Region::parse(&format!("t{}", &id[..12])).unwrap()
}

/// Kennemerland's region file with Haarlemmermeer served by `neighbour_region`, written to a
/// temporary file for `RCN_REGION_FILE`.
pub fn region_file_with_neighbour_in(neighbour_region: &Region) -> std::path::PathBuf {
    let toml = include_str!("../../../../shared/contracts/regions/kennemerland.toml");
    let edited = toml.replace(
        "region = \"amsterdam-amstelland\"",
        &format!("region = \"{neighbour_region}\""),
    );
    assert_ne!(
        edited, toml,
        "the region file names Haarlemmermeer's region"
    );
    let path = std::env::temp_dir().join(format!("rcn-region-{neighbour_region}.toml"));
    std::fs::write(&path, edited).unwrap();
    path
}

/// How the address-register stand-in answers.
#[derive(Debug, Clone, Copy)]
pub enum Register {
    /// 200 with the address in this BAG gemeenteIdentificatie (`"0392"`).
    Answers(&'static str),
    /// 200 with no addresses: it does not know the address.
    DoesNotKnow,
    /// Answers after this long (beyond the router's timeout).
    Slow(Duration),
    /// 500.
    Fails,
}

/// A local HTTP stand-in for the address register, counting the requests it receives.
pub struct RegisterStandIn {
    pub url: String,
    state: Arc<StandInState>,
    task: JoinHandle<()>,
}

struct StandInState {
    behaviour: Mutex<Register>,
    hits: AtomicUsize,
    queries: Mutex<Vec<HashMap<String, String>>>,
}

impl RegisterStandIn {
    pub async fn start(behaviour: Register) -> Self {
        let state = Arc::new(StandInState {
            behaviour: Mutex::new(behaviour),
            hits: AtomicUsize::new(0),
            queries: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/bag/v2/adressen", axum::routing::get(adressen))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/bag/v2", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, state, task }
    }

    pub fn set(&self, behaviour: Register) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// The query parameters of every request received.
    pub fn queries(&self) -> Vec<HashMap<String, String>> {
        self.state.queries.lock().unwrap().clone()
    }
}

impl Drop for RegisterStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn adressen(
    State(state): State<Arc<StandInState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    state.queries.lock().unwrap().push(query);
    let behaviour = *state.behaviour.lock().unwrap();
    let found = |code: &str| {
        axum::Json(serde_json::json!({"_embedded": {"adressen": [
            {"gemeenteIdentificatie": code, "postcode": "2011AB", "huisnummer": 12, "woonplaatsNaam": "Haarlem"}
        ]}}))
        .into_response()
    };
    match behaviour {
        Register::Answers(code) => found(code),
        Register::DoesNotKnow => {
            axum::Json(serde_json::json!({"_embedded": {"adressen": []}})).into_response()
        }
        Register::Slow(delay) => {
            tokio::time::sleep(delay).await;
            found("0392")
        }
        Register::Fails => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
    }
}

/// A URL where nothing listens: the register is down.
pub async fn register_that_is_down() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/bag/v2")
}

/// The user id of the RCN coordinator the tests act as by default.
pub const COORDINATOR: &str = "coordinator-test";

/// The `Rcn-Identity` header value of an RCN coordinator.
pub fn coordinator(user_id: &str) -> String {
    serde_json::json!({"user_id": user_id, "role": "rcn_coordinator"}).to_string()
}
