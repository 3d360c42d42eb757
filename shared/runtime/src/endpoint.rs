//! Request-reply endpoints, declared rather than wired: a service lists its endpoints (name,
//! subject, who may call, handler) and this module does the rest in one place, on async-nats' own
//! service API so `$SRV.PING|INFO|STATS` (and `nats micro ls|info|stats`) list every rcn service,
//! its endpoints and their request and error counts:
//!
//! - the body is read by the shared decoder (one JSON document, problems named by JSON path);
//! - the caller's identity comes from the `Rcn-Identity` header through [`caller_identity`];
//! - a request without a reply subject is refused and NOT carried out (logged, counted as an
//!   error): a change nobody hears about cannot be retried safely by anyone;
//! - every reply is an [`ApiReply`]: `{"ok": …}` or `{"problem": …}` (problem+json vocabulary);
//! - each request has a time-out, after which it is answered with a problem;
//! - a log line per request names the service, the endpoint, the outcome and the duration, never
//!   the payload (it may hold personal data).
//!
//! ```ignore
//! let service = ServiceSpec::new("rcn-router", env!("CARGO_PKG_VERSION"), "the routing queue")
//!     .endpoint(Endpoint::new("queue-list", subjects.router_queue_list(), Caller::Person,
//!         move |r: Request<QueueListRequest>| { let q = q.clone(); async move { q.list(&r).await } }));
//! service.start(&nats).await?.serve(shutdown).await?;
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::service::{NATS_SERVICE_ERROR, NATS_SERVICE_ERROR_CODE, ServiceExt};
use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use rcn_contracts::envelope::{ApiProblem, ApiReply, RequestBody};
use rcn_contracts::identity::Identity;
use serde::Serialize;

use crate::{CancellationToken, headers};

/// How long a request may take unless its endpoint says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests handled at once per service instance.
const CONCURRENT_REQUESTS: usize = 32;
/// Where the service API's error counter is told about a problem (see [`count_error`]); nobody
/// listens there, and every service may publish under `_INBOX.>`.
const DISCARD: &str = "_INBOX.rcn.discard";

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A person, as the gateway authenticated them: the `Rcn-Identity` header is required and
    /// must parse. The handler authorises further with [`Request::person`].
    Person,
    /// Another rcn service, which NATS permissions alone let publish on the subject: a request
    /// carrying a person's identity is refused (no person does this).
    Service,
}

/// A decoded request as a handler sees it.
#[derive(Debug)]
pub struct Request<Req> {
    pub body: Req,
    /// The caller, for [`Caller::Person`] endpoints; `None` for [`Caller::Service`].
    pub identity: Option<Identity>,
    /// The `Rcn-Trace-Id` header, to pass on with what the request causes.
    pub trace_id: Option<String>,
}

impl<Req> Request<Req> {
    /// The person asking (always there on a [`Caller::Person`] endpoint).
    pub fn person(&self) -> Result<&Identity, ApiProblem> {
        self.identity
            .as_ref()
            .ok_or_else(|| ApiProblem::unauthenticated(MISSING_IDENTITY))
    }
}

const MISSING_IDENTITY: &str = "the request does not say who is asking (Rcn-Identity header)";

/// The identity in a request's `Rcn-Identity` header: `None` without the header, a problem when it
/// does not parse. The one place rcn reads that header.
pub fn caller_identity(h: Option<&HeaderMap>) -> Result<Option<Identity>, ApiProblem> {
    match h.and_then(|h| h.get(headers::IDENTITY)) {
        None => Ok(None),
        Some(value) => Identity::from_header(value.as_str())
            .map(Some)
            .map_err(|e| ApiProblem::unauthenticated(e.0)),
    }
}

type Handler = Arc<
    dyn Fn(Bytes, Option<Identity>, Option<String>) -> BoxFuture<'static, Result<Bytes, ApiProblem>>
        + Send
        + Sync,
>;

/// One endpoint: its name in `$SRV.INFO`, its subject, who may call it, and its handler.
pub struct Endpoint {
    name: String,
    subject: String,
    caller: Caller,
    timeout: Duration,
    handler: Handler,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("subject", &self.subject)
            .field("caller", &self.caller)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Declares an endpoint whose handler takes a `Request<Req>` and answers `Rep` or a problem.
    pub fn new<Req, Rep, F, Fut>(
        name: impl Into<String>,
        subject: impl Into<String>,
        caller: Caller,
        handler: F,
    ) -> Self
    where
        Req: RequestBody + Send + 'static,
        Rep: Serialize + 'static,
        F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Rep, ApiProblem>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: Handler = Arc::new(move |payload, identity, trace_id| {
            let handler = handler.clone();
            Box::pin(async move {
                let body = Req::from_json(&payload).map_err(|p| ApiProblem::invalid(vec![p]))?;
                let reply = handler(Request {
                    body,
                    identity,
                    trace_id,
                })
                .await?;
                Ok(encode(&ApiReply::Ok(reply)))
            })
        });
        Self {
            name: name.into(),
            subject: subject.into(),
            caller,
            timeout: DEFAULT_TIMEOUT,
            handler: erased,
        }
    }

    /// Answers with a time-out problem when the handler takes longer than `timeout` (the handler
    /// is dropped: an open transaction rolls back).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the caller and runs the handler within the time-out.
    async fn answer(&self, message: &async_nats::Message) -> Result<Bytes, ApiProblem> {
        let h = message.headers.as_ref();
        let identity = caller_identity(h)?;
        match (self.caller, &identity) {
            (Caller::Person, None) => return Err(ApiProblem::unauthenticated(MISSING_IDENTITY)),
            (Caller::Service, Some(_)) => {
                return Err(ApiProblem::forbidden(
                    "this endpoint is for another rcn service, not for a person",
                ));
            }
            _ => {}
        }
        let trace_id = h
            .and_then(|h| h.get(headers::TRACE_ID))
            .map(|v| v.as_str().to_owned());
        let work = (self.handler)(message.payload.clone(), identity, trace_id);
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(ApiProblem::timed_out(
                    "the request took too long and was stopped; ask again",
                ))
            })
    }
}

fn encode<T: Serialize>(reply: &ApiReply<T>) -> Bytes {
    serde_json::to_vec(reply)
        .expect("a reply serialises")
        .into()
}

/// A service and its endpoints, before it starts.
#[derive(Debug)]
pub struct ServiceSpec {
    name: String,
    version: String,
    description: String,
    endpoints: Vec<Endpoint>,
}

impl ServiceSpec {
    /// `name` is what `$SRV.INFO.<name>` answers to (`rcn-router`).
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            endpoints: Vec::new(),
        }
    }

    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoints.push(endpoint);
        self
    }

    /// Registers the service and its endpoints with NATS; requests wait until
    /// [`RunningService::serve`].
    pub async fn start(self, nats: &async_nats::Client) -> anyhow::Result<RunningService> {
        let service = nats
            .service_builder()
            .description(self.description)
            .start(&self.name, self.version)
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the NATS service {}: {e}", self.name))?;
        let mut streams = Vec::with_capacity(self.endpoints.len());
        for endpoint in self.endpoints {
            let stream = service
                .endpoint_builder()
                .name(&endpoint.name)
                .add(endpoint.subject.clone())
                .await
                .map_err(|e| anyhow::anyhow!("cannot add the endpoint {}: {e}", endpoint.name))?;
            tracing::info!(service = %self.name, endpoint = %endpoint.name, subject = %endpoint.subject, "endpoint listening");
            streams.push((Arc::new(endpoint), stream));
        }
        Ok(RunningService {
            name: self.name,
            nats: nats.clone(),
            service,
            streams,
        })
    }
}

/// A registered service: call [`RunningService::serve`] to answer until shutdown.
pub struct RunningService {
    name: String,
    nats: async_nats::Client,
    service: async_nats::service::Service,
    streams: Vec<(Arc<Endpoint>, async_nats::service::endpoint::Endpoint)>,
}

impl std::fmt::Debug for RunningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningService")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RunningService {
    /// Answers requests until `shutdown`, finishing those in hand, then leaves the service API.
    pub async fn serve(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let RunningService {
            name,
            nats,
            service,
            streams,
        } = self;
        let requests = futures::stream::select_all(
            streams
                .into_iter()
                .map(|(endpoint, stream)| stream.map(move |r| (endpoint.clone(), r)).boxed()),
        );
        requests
            .take_until(shutdown.cancelled_owned())
            .for_each_concurrent(CONCURRENT_REQUESTS, |(endpoint, request)| {
                handle(&name, &nats, endpoint, request)
            })
            .await;
        service
            .stop()
            .await
            .map_err(|e| anyhow::anyhow!("stopping the NATS service {name}: {e}"))?;
        Ok(())
    }
}

/// Answers one request, or refuses it when nobody could hear the answer.
async fn handle(
    service: &str,
    nats: &async_nats::Client,
    endpoint: Arc<Endpoint>,
    mut request: async_nats::service::Request,
) {
    let started = Instant::now();
    let Some(reply_to) = request.message.reply.clone() else {
        tracing::warn!(service, endpoint = %endpoint.name, outcome = "no-reply-subject",
            "a request without a reply subject was refused and not carried out");
        let problem = ApiProblem::invalid(vec![rcn_contracts::notice::Problem::new(
            "",
            "a request must carry a reply subject",
        )]);
        count_error(&mut request, &problem).await;
        return;
    };
    let outcome = endpoint.answer(&request.message).await;
    let took_ms = started.elapsed().as_millis() as u64;
    let kind = outcome
        .as_ref()
        .map_or_else(|p| p.short_kind().to_owned(), |_| "ok".into());
    metrics::histogram!("rcn_request_seconds", "service" => service.to_owned(),
        "endpoint" => endpoint.name.clone(), "outcome" => kind)
    .record(started.elapsed().as_secs_f64());
    match outcome {
        Ok(body) => {
            tracing::debug!(service, endpoint = %endpoint.name, outcome = "ok", took_ms, "request answered");
            if let Err(e) = request.respond(Ok(body)).await {
                tracing::warn!(service, endpoint = %endpoint.name, error = %e, "could not send a reply");
            }
        }
        Err(problem) => {
            if problem.status >= 500 {
                tracing::warn!(service, endpoint = %endpoint.name, outcome = problem.short_kind(), status = problem.status, took_ms, "request not carried out");
            } else {
                tracing::info!(service, endpoint = %endpoint.name, outcome = problem.short_kind(), status = problem.status, took_ms, "request refused");
            }
            count_error(&mut request, &problem).await;
            let mut h = HeaderMap::new();
            h.insert(NATS_SERVICE_ERROR, problem.title.as_str());
            h.insert(NATS_SERVICE_ERROR_CODE, problem.status.to_string().as_str());
            let body = encode::<()>(&ApiReply::Problem(problem));
            if let Err(e) = nats.publish_with_headers(reply_to, h, body).await {
                tracing::warn!(service, endpoint = %endpoint.name, error = %e, "could not send a problem reply");
            }
        }
    }
}

/// Counts a problem in the service API's per-endpoint statistics (`num_errors`, `last_error`).
///
/// async-nats counts an error only when it answers with an empty error reply itself; the
/// requester must get the problem's body instead. So the error reply goes to [`DISCARD`], where
/// nobody listens, and the caller answers the requester with the body.
async fn count_error(request: &mut async_nats::service::Request, problem: &ApiProblem) {
    request.message.reply = Some(DISCARD.into());
    let error = async_nats::service::error::Error {
        status: problem.title.clone(),
        code: usize::from(problem.status),
    };
    if let Err(e) = request.respond(Err(error)).await {
        tracing::debug!(error = %e, "could not count an endpoint error");
    }
}
