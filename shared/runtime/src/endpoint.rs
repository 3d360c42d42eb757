//! Request-reply endpoints, declared rather than wired: a service lists its endpoints (name,
//! subject, who may call, handler) and this module does the rest in one place, on async-nats' own
//! service API so `$SRV.PING|INFO|STATS` (and `nats micro ls|info|stats`) list every rcn service,
//! its endpoints and their request and error counts:
//!
//! - the body is read by the shared decoder (one JSON document, problems named by JSON path);
//! - the caller's identity comes from the `Rcn-Identity` header through [`caller_identity`], which
//!   accepts it only with the gateway's valid signature for this subject and body
//!   ([`crate::signed_identity`]);
//! - a request without a reply subject is refused and NOT carried out (logged, counted as an
//!   error): a change nobody hears about cannot be retried safely by anyone;
//! - every reply is an [`ApiReply`]: `{"ok": …}` or `{"problem": …}` (problem+json vocabulary),
//!   unless the endpoint answers in a published shape of its own ([`Endpoint::shaped`], intake's
//!   partner contract), which the same outcome maps onto;
//! - each request has a time-out, after which it is answered with a problem;
//! - a log line per request names the service, the endpoint, the outcome and the duration, never
//!   the payload (it may hold personal data).
//!
//! ```ignore
//! let service = ServiceSpec::new("rcn-router", env!("CARGO_PKG_VERSION"), "the routing queue")
//!     .endpoint(Endpoint::new("queue-list", subjects.router_queue_list(), Caller::Person,
//!         move |r: Request<QueueListRequest>| { let q = q.clone(); async move { q.list(&r).await } }));
//! service.start(&nats, ctx.config.identity_verifier()?).await?.serve(shutdown).await?;
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
use rcn_contracts::intake::{PartnerIdentity, check_institution_code};
use serde::Serialize;

use crate::CancellationToken;
use crate::signed_identity::IdentityVerifier;
use crate::trace_context::{self, TraceContext};
use tracing::Instrument;

/// Whether `subject` is a requester's inbox (`_INBOX.…`, or `_INBOX_<name>.…` under a custom
/// inbox prefix as every rcn client and partner uses): the only kind of reply subject a service
/// answers. NATS lets a requester name any reply subject, and a service's user may publish its
/// response there (`allow_responses`); answering `$JS.API.STREAM.PURGE.…` or another service's
/// event subject would do that in the service's name, for a requester who may not.
pub fn is_inbox(subject: &str) -> bool {
    subject
        .strip_prefix("_INBOX")
        .is_some_and(|rest| rest.starts_with('.') || (rest.starts_with('_') && rest.contains('.')))
}

/// How long a request may take unless its endpoint says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests handled at once per service instance, unless the service says otherwise
/// ([`ServiceSpec::concurrency`]).
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A person, as the gateway authenticated them: the `Rcn-Identity` header is required and
    /// must parse. The handler authorises further with [`Request::person`].
    Person,
    /// Another rcn service, which NATS permissions alone let publish on the subject: a request
    /// carrying a person's identity is refused (no person does this).
    Service,
    /// A detention institution as the gateway authenticated it: the `Rcn-Identity` header is
    /// required and must be a [`PartnerIdentity`] ([`Request::partner`]).
    Partner,
    /// A partner through the gateway (a [`PartnerIdentity`] in `Rcn-Identity`) or, without the
    /// header, a trusted rcn component (NATS permissions let only those publish there); an
    /// unreadable header is refused.
    PartnerOrService,
    /// A partner on its own NATS account, named by the subject's last token: only that account
    /// may publish there (NATS permissions), so the subject says who; `Rcn-Identity` is not read.
    PartnerAccount,
}

/// A decoded request as a handler sees it.
#[derive(Debug)]
pub struct Request<Req> {
    pub body: Req,
    /// The caller, for [`Caller::Person`] endpoints; `None` for the others.
    pub identity: Option<Identity>,
    /// The institution asking, for the partner callers ([`Caller::Partner`],
    /// [`Caller::PartnerAccount`], and [`Caller::PartnerOrService`] with the header); `None`
    /// otherwise.
    pub partner: Option<PartnerIdentity>,
    /// This request's hop of its trace (the caller's `traceparent` as parent, or a new trace),
    /// to pass on with what the request causes (`outbox::Event::trace`, published headers).
    pub trace: TraceContext,
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

/// Who asks, as the kit read it before the handler runs.
#[derive(Debug, Default)]
struct Asker {
    identity: Option<Identity>,
    partner: Option<PartnerIdentity>,
    trace: Option<TraceContext>,
}

/// The person in a request to `subject` with body `payload`: `None` without an `Rcn-Identity`
/// header, a problem (401) when the header is not signed by the gateway for exactly this request
/// (see [`verified_identity`]) or does not parse. The one place rcn reads a person's identity.
pub fn caller_identity(
    verifier: &IdentityVerifier,
    subject: &str,
    h: Option<&HeaderMap>,
    payload: &[u8],
) -> Result<Option<Identity>, ApiProblem> {
    match verified_identity(verifier, subject, h, payload)? {
        None => Ok(None),
        Some(value) => Identity::from_header(value)
            .map(Some)
            .map_err(|e| ApiProblem::unauthenticated(e.0)),
    }
}

/// The raw `Rcn-Identity` value of a request once the gateway's signature on it is checked
/// (for callers whose identity is not a person's, such as a partner institution's): `None`
/// without the header, a problem (401) when it is unsigned, expired, replayed or signed for
/// another subject or body. A refusal is logged without the identity.
pub fn verified_identity<'h>(
    verifier: &IdentityVerifier,
    subject: &str,
    h: Option<&'h HeaderMap>,
    payload: &[u8],
) -> Result<Option<&'h str>, ApiProblem> {
    verifier.verify(subject, h, payload).map_err(|refused| {
        tracing::warn!(%subject, reason = %refused, "a request's identity was refused");
        ApiProblem::unauthenticated(format!("{refused}; nothing was kept or read"))
    })
}

/// The partner identity in a request's `Rcn-Identity` header, once the gateway's signature on it
/// is checked ([`verified_identity`]): `None` without the header, a problem when it is not
/// signed for this request or not a partner's.
pub fn partner_identity(
    verifier: &IdentityVerifier,
    subject: &str,
    h: Option<&HeaderMap>,
    payload: &[u8],
) -> Result<Option<PartnerIdentity>, ApiProblem> {
    match verified_identity(verifier, subject, h, payload)? {
        None => Ok(None),
        Some(value) => PartnerIdentity::from_header(value).map(Some).map_err(|_| {
            ApiProblem::unauthenticated("the caller's identity could not be read; nothing was kept")
        }),
    }
}

/// The institution a partner's own subject names (its last token).
fn subject_partner(subject: &str) -> Result<PartnerIdentity, ApiProblem> {
    let code = subject.rsplit('.').next().unwrap_or_default();
    check_institution_code(code)
        .map_err(|_| ApiProblem::forbidden("the subject does not name a valid institution code"))?;
    Ok(PartnerIdentity {
        institution_code: code.to_owned(),
        credential: format!("nats:{code}"),
    })
}

type Handler =
    Arc<dyn Fn(Bytes, Asker) -> BoxFuture<'static, Result<Bytes, ApiProblem>> + Send + Sync>;
/// Puts a problem in the endpoint's reply shape.
type ProblemShape = Arc<dyn Fn(ApiProblem) -> Bytes + Send + Sync>;

/// One endpoint: its name in `$SRV.INFO`, its subject, who may call it, and its handler.
pub struct Endpoint {
    name: String,
    subject: String,
    caller: Caller,
    timeout: Duration,
    handler: Handler,
    shape_problem: ProblemShape,
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
    /// Declares an endpoint whose handler takes a `Request<Req>` and answers `Rep` or a problem,
    /// in the envelope: `{"ok": Rep}` or `{"problem": …}`.
    pub fn new<Req, Rep, F, Fut>(
        name: impl Into<String>,
        subject: impl Into<String>,
        caller: Caller,
        handler: F,
    ) -> Self
    where
        Req: RequestBody + Send + 'static,
        Rep: Serialize + Send + 'static,
        F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Rep, ApiProblem>> + Send + 'static,
    {
        Self::shaped::<ApiReply<Rep>, Req, Rep, F, Fut>(name, subject, caller, handler)
    }

    /// Like [`Endpoint::new`], but the reply on the wire is `Shape`, made from the outcome:
    /// for a published contract older than the envelope (intake's `SubmitReply`). Everything
    /// else (decoding, who may call, the time-out, logging, `$SRV` counts) is the same; a
    /// problem still counts as an error however it is shaped.
    pub fn shaped<Shape, Req, Rep, F, Fut>(
        name: impl Into<String>,
        subject: impl Into<String>,
        caller: Caller,
        handler: F,
    ) -> Self
    where
        Shape: From<Result<Rep, ApiProblem>> + Serialize + 'static,
        Req: RequestBody + Send + 'static,
        Rep: Send + 'static,
        F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Rep, ApiProblem>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: Handler = Arc::new(move |payload, asker: Asker| {
            let handler = handler.clone();
            Box::pin(async move {
                let body = Req::from_json(&payload).map_err(|p| ApiProblem::invalid(vec![p]))?;
                let reply = handler(Request {
                    body,
                    identity: asker.identity,
                    partner: asker.partner,
                    trace: asker.trace.unwrap_or_else(TraceContext::new_root),
                })
                .await?;
                Ok(encode(&Shape::from(Ok::<Rep, ApiProblem>(reply))))
            })
        });
        Self {
            name: name.into(),
            subject: subject.into(),
            caller,
            timeout: DEFAULT_TIMEOUT,
            handler: erased,
            shape_problem: Arc::new(|p| encode(&Shape::from(Err::<Rep, ApiProblem>(p)))),
        }
    }

    /// Answers with a time-out problem when the handler takes longer than `timeout` (the handler
    /// is dropped: an open transaction rolls back).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Who asks, when this endpoint's [`Caller`] may.
    fn asker(
        &self,
        verifier: &IdentityVerifier,
        message: &async_nats::Message,
    ) -> Result<Asker, ApiProblem> {
        let h = message.headers.as_ref();
        let (subject, payload) = (message.subject.as_str(), &message.payload[..]);
        let mut asker = Asker::default();
        match self.caller {
            Caller::Person => {
                asker.identity = Some(
                    caller_identity(verifier, subject, h, payload)?
                        .ok_or_else(|| ApiProblem::unauthenticated(MISSING_IDENTITY))?,
                );
            }
            Caller::Service => {
                if caller_identity(verifier, subject, h, payload)?.is_some() {
                    return Err(ApiProblem::forbidden(
                        "this endpoint is for another rcn service, not for a person",
                    ));
                }
            }
            Caller::Partner => {
                asker.partner = Some(
                    partner_identity(verifier, subject, h, payload)?
                        .ok_or_else(|| ApiProblem::unauthenticated(MISSING_IDENTITY))?,
                );
            }
            Caller::PartnerOrService => {
                asker.partner = partner_identity(verifier, subject, h, payload)?
            }
            Caller::PartnerAccount => {
                asker.partner = Some(subject_partner(message.subject.as_str())?)
            }
        }
        Ok(asker)
    }

    /// Checks the caller and runs the handler within the time-out.
    async fn answer(
        &self,
        verifier: &IdentityVerifier,
        message: &async_nats::Message,
        trace: TraceContext,
    ) -> Result<Bytes, ApiProblem> {
        let mut asker = self.asker(verifier, message)?;
        asker.trace = Some(trace);
        let work = (self.handler)(message.payload.clone(), asker);
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(ApiProblem::timed_out(
                    "the request took too long and was stopped; ask again",
                ))
            })
    }
}

fn encode<T: Serialize>(reply: &T) -> Bytes {
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
    concurrency: usize,
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
            concurrency: DEFAULT_CONCURRENCY,
            endpoints: Vec::new(),
        }
    }

    /// How many requests one instance handles at once (over all its endpoints).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.max(1);
        self
    }

    /// The endpoints declared so far: name and subject, in order.
    pub fn endpoints(&self) -> impl Iterator<Item = (&str, &str)> {
        self.endpoints
            .iter()
            .map(|e| (e.name.as_str(), e.subject.as_str()))
    }

    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoints.push(endpoint);
        self
    }

    /// Registers the service and its endpoints with NATS; requests wait until
    /// [`RunningService::serve`]. `identities` checks the gateway's signature on every identity.
    pub async fn start(
        self,
        nats: &async_nats::Client,
        identities: &IdentityVerifier,
    ) -> anyhow::Result<RunningService> {
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
            // Under the client's own inbox prefix, the one inbox its NATS user may publish to;
            // a fresh inbox, so nobody listens there.
            discard: nats.new_inbox(),
            concurrency: self.concurrency,
            identities: identities.clone(),
            nats: nats.clone(),
            service,
            streams,
        })
    }
}

/// A registered service: call [`RunningService::serve`] to answer until shutdown.
pub struct RunningService {
    name: String,
    /// Where the service API's error counter is told about a problem (see [`count_error`]).
    discard: String,
    concurrency: usize,
    identities: IdentityVerifier,
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
            discard,
            concurrency,
            identities,
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
            .for_each_concurrent(concurrency, |(endpoint, request)| {
                handle(&name, &nats, &discard, &identities, endpoint, request)
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
    discard: &str,
    identities: &IdentityVerifier,
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
        count_error(&mut request, discard, &problem).await;
        return;
    };
    if !is_inbox(&reply_to) {
        tracing::warn!(service, endpoint = %endpoint.name, outcome = "reply-subject-not-an-inbox",
            "a request whose reply subject is not an inbox was refused and not carried out");
        let problem = ApiProblem::invalid(vec![rcn_contracts::notice::Problem::new(
            "",
            "the reply subject must be an inbox (_INBOX.… or _INBOX_<name>.…)",
        )]);
        count_error(&mut request, discard, &problem).await;
        return;
    }
    // The request's span: the child of the caller's (`traceparent`), the parent of what the
    // handler causes. Its fields are names and outcomes, never the body.
    let span = tracing::info_span!("request",
        otel.name = %format_args!("{service} {}", endpoint.name), otel.kind = "server",
        service, endpoint = %endpoint.name, trace_id = tracing::field::Empty,
        outcome = tracing::field::Empty);
    let trace = trace_context::enter_hop(
        &span,
        TraceContext::from_nats(request.message.headers.as_ref()).as_ref(),
    );
    let outcome = endpoint
        .answer(identities, &request.message, trace)
        .instrument(span.clone())
        .await;
    let took_ms = started.elapsed().as_millis() as u64;
    let kind = outcome
        .as_ref()
        .map_or_else(|p| p.short_kind().to_owned(), |_| "ok".into());
    span.record("outcome", kind.as_str());
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
            count_error(&mut request, discard, &problem).await;
            let mut h = HeaderMap::new();
            h.insert(NATS_SERVICE_ERROR, problem.title.as_str());
            h.insert(NATS_SERVICE_ERROR_CODE, problem.status.to_string().as_str());
            let body = (endpoint.shape_problem)(problem);
            if let Err(e) = nats.publish_with_headers(reply_to, h, body).await {
                tracing::warn!(service, endpoint = %endpoint.name, error = %e, "could not send a problem reply");
            }
        }
    }
}

/// Counts a problem in the service API's per-endpoint statistics (`num_errors`, `last_error`).
///
/// async-nats counts an error only when it answers with an empty error reply itself; the
/// requester must get the problem's body instead. So the error reply goes to `discard`, an inbox
/// of the service's own where nobody listens, and the caller answers the requester with the body.
async fn count_error(
    request: &mut async_nats::service::Request,
    discard: &str,
    problem: &ApiProblem,
) {
    request.message.reply = Some(discard.into());
    let error = async_nats::service::error::Error {
        status: problem.title.clone(),
        code: usize::from(problem.status),
    };
    if let Err(e) = request.respond(Err(error)).await {
        tracing::debug!(error = %e, "could not count an endpoint error");
    }
}

#[cfg(test)]
mod tests {
    use super::is_inbox;

    #[test]
    fn only_an_inbox_is_answered() {
        for inbox in [
            "_INBOX.abc.1",
            "_INBOX_gateway.abc",
            "_INBOX_PI-HAARLEM.x.y",
        ] {
            assert!(is_inbox(inbox), "{inbox}");
        }
        for other in [
            "$JS.API.STREAM.PURGE.KENNEMERLAND_NOTICES",
            "rcn.kennemerland.casework.case_closed.GM0392",
            "_INBOX",
            "_INBOX_gateway",
            "_INBOXES.x",
            "x._INBOX.y",
        ] {
            assert!(!is_inbox(other), "{other}");
        }
    }
}
