//! A gateway serving on a free port for one test, with an API token of the example notice's
//! institution, a stand-in for intake, and typed helpers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use rcn_contracts::Subjects;
use rcn_contracts::intake::SubmitReply;
use rcn_runtime::testing::{RunningService, TestEnv, eventually};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How long a test waits for something asynchronous to happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The institution the test's API token belongs to: the example notice's sender.
pub const INSTITUTION: &str = "PI-HAARLEM";

/// What the test sends the intake stand-in to know it listens; never recorded.
const PROBE: &[u8] = b"stand-in probe";

/// The gateway running in a task.
pub struct TestGateway {
    pub addr: SocketAddr,
    /// A valid API token of [`INSTITUTION`].
    pub token: String,
    pub client: reqwest::Client,
    pub subjects: Subjects,
    pub env: TestEnv,
    gateway: RunningService,
}

impl TestGateway {
    /// Starts the gateway on 127.0.0.1:0, waits until it answers, and issues an API token.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`Self::spawn`], with the test environment's configuration changed by `tweak` first
    /// (e.g. another NATS server).
    pub async fn spawn_with(tweak: impl FnOnce(&mut rcn_runtime::Config)) -> Self {
        Self::spawn_configured(tweak, rcn_gateway::Settings::default()).await
    }

    /// Like [`Self::spawn`], with the gateway's own `settings` (the listen address is ignored).
    pub async fn spawn_with_settings(settings: rcn_gateway::Settings) -> Self {
        Self::spawn_configured(|_| {}, settings).await
    }

    async fn spawn_configured(
        tweak: impl FnOnce(&mut rcn_runtime::Config),
        settings: rcn_gateway::Settings,
    ) -> Self {
        let mut env = TestEnv::new().await;
        tweak(&mut env.config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("bound");
        let ctx = env.ctx("gateway").await;
        let gateway = RunningService::spawn("the gateway", |shutdown| {
            rcn_gateway::serve_with(ctx, settings, listener, shutdown)
        });
        let client = reqwest::Client::new();
        eventually(PATIENCE, "the gateway to answer", || {
            let request = client.get(format!("http://{addr}/healthz"));
            async move {
                request
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status().is_success())
            }
        })
        .await;
        let url = env.config.database_url().expect("set by TestEnv");
        let tokens = rcn_gateway::tokens::open(url)
            .await
            .expect("the token store opens");
        let issued = rcn_gateway::tokens::issue(
            &tokens,
            INSTITUTION,
            Some("gateway tests"),
            rcn_gateway::tokens::Actor::CommandLine,
            None,
        )
        .await
        .expect("a token");
        Self {
            addr,
            token: issued.token,
            client,
            subjects: env.config.region.subjects(),
            env,
            gateway,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the gateway answers")
    }

    /// POSTs `body` to the release-notice endpoint with the test's token and the given content
    /// type (none if `None`).
    pub async fn post_notice(
        &self,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> reqwest::Response {
        self.post_notice_with(Some(&format!("Bearer {}", self.token)), body, content_type)
            .await
    }

    /// POSTs `body` with the given `Authorization` header (none if `None`).
    pub async fn post_notice_with(
        &self,
        authorization: Option<&str>,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url("/v1/release-notices")).body(body);
        if let Some(auth) = authorization {
            request = request.header("authorization", auth);
        }
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        request.send().await.expect("the gateway answers")
    }

    /// POSTs the example notice as JSON with the test's token.
    pub async fn post_example_notice(&self) -> reqwest::Response {
        self.post_notice(example_notice_bytes(), Some("application/json"))
            .await
    }

    /// Plays intake on its NATS subject: every request is answered with `reply` (raw bytes).
    pub async fn intake_answering(&self, reply: Vec<u8>) -> IntakeStandIn {
        let nats = self.env.ctx("intake-stand-in").await.nats;
        let mut requests = nats
            .subscribe(self.subjects.intake_submit())
            .await
            .expect("subscribed");
        let received = Arc::new(Mutex::new(Vec::new()));
        let seen = received.clone();
        let responder = nats.clone();
        let env = self.env.clone();
        let task = tokio::spawn(async move {
            while let Some(m) = requests.next().await {
                let Some(inbox) = m.reply.clone() else {
                    continue;
                };
                if m.payload.as_ref() == PROBE {
                    responder
                        .publish(inbox, PROBE.into())
                        .await
                        .expect("answered");
                    continue;
                }
                let identity = env.identity_of(&m);
                seen.lock().expect("not poisoned").push(Request {
                    body: m.payload.to_vec(),
                    identity,
                });
                responder
                    .publish(inbox, reply.clone().into())
                    .await
                    .expect("answered");
            }
        });
        // The server handles a connection's messages in order: once a request from this same
        // connection is answered, the subscription is in place for the gateway's requests too.
        nats.request(self.subjects.intake_submit(), PROBE.into())
            .await
            .expect("the stand-in answers");
        IntakeStandIn { received, task }
    }

    /// Plays intake answering every request with `reply`.
    pub async fn intake_replying(&self, reply: &SubmitReply) -> IntakeStandIn {
        self.intake_answering(serde_json::to_vec(reply).expect("serialises"))
            .await
    }

    /// Stops the gateway and checks it shuts down cleanly.
    pub async fn stop(self) {
        self.gateway.stop(PATIENCE).await;
    }
}

/// A stand-in for intake; remembers what it was sent.
pub struct IntakeStandIn {
    received: Arc<Mutex<Vec<Request>>>,
    task: JoinHandle<()>,
}

/// A request the gateway sent intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub body: Vec<u8>,
    /// The `Rcn-Identity` header: who the gateway says is asking.
    pub identity: Option<String>,
}

impl IntakeStandIn {
    /// The requests intake was sent.
    pub fn received(&self) -> Vec<Request> {
        self.received.lock().expect("not poisoned").clone()
    }

    /// The request bodies intake was sent.
    pub fn bodies(&self) -> Vec<Vec<u8>> {
        self.received().into_iter().map(|r| r.body).collect()
    }
}

impl Drop for IntakeStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn example_notice_bytes() -> Vec<u8> {
    serde_json::to_vec(&rcn_contracts::examples::release_notice_json()).expect("serialises")
}

/// Checks a response is an RFC 9457 problem with `status`, and returns its body.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(content_type(&response), Some("application/problem+json"));
    let body: serde_json::Value = response.json().await.expect("a JSON problem");
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:rcn:problem:")),
        "{body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    body
}

pub fn content_type(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
}

pub fn api_version(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("api-version")
        .and_then(|v| v.to_str().ok())
}
