//! gateway — the only HTTP server users see: the partner API for detention institutions and
//! the staff portal (see [`portal`]). It speaks the Dutch government's API Design Rules (version in the
//! path, `API-Version` header, `application/problem+json` errors) and turns every request into a
//! NATS request to the service that owns the data.
//!
//! It must never decide anything a service owns, never show an internal error to a caller, and
//! never put personal data in a URL.

mod auth;
mod auth_limit;
mod edge;
mod error;
pub mod openapi;
pub mod portal;
mod routes;
mod serve;
pub mod settings;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use rcn_contracts::Subjects;
use rcn_runtime::trace_context::{self, TraceContext};
use rcn_runtime::{CancellationToken, Ctx};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use settings::Settings;

/// The API version reported in every response (ADR: `API-Version`).
pub const API_VERSION: &str = "1.0.0";

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub nats: async_nats::Client,
    pub subjects: Subjects,
    pub pool: PgPool,
    /// Signs the identity passed on with each NATS request (`RCN_IDENTITY_SIGNING_KEY`): the
    /// services believe an identity only with this signature.
    pub signer: rcn_runtime::signed_identity::IdentitySigner,
    /// The staff portal's sign-in and session settings.
    pub portal: settings::PortalSettings,
    /// Sign-in through the organisation's identity provider (`RCN_OIDC_*`); `None`: off.
    pub oidc: Option<Arc<portal::oidc::Oidc>>,
}

/// The HTTP application with default settings, without a socket, so tests can drive it directly.
pub fn app(state: AppState) -> Router {
    app_with(state, &Settings::default())
}

/// The HTTP application with `settings`.
pub fn app_with(state: AppState, settings: &Settings) -> Router {
    let limiter = Arc::new(auth_limit::AuthLimiter::new(
        settings.auth_failures_max,
        settings.auth_failures_window,
    ));
    let form_action = settings.oidc.as_ref().and_then(|o| origin_of(&o.issuer));
    edge::wrap(routes::router(), settings)
        .with_state(Arc::new(state))
        .layer(axum::Extension(limiter))
        .layer(axum::middleware::map_response(
            move |response: axum::response::Response| {
                let form_action = form_action.clone();
                async move { portal::page::allow_form_action(response, form_action.as_deref()) }
            },
        ))
        .layer(axum::middleware::from_fn(trace_hop))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                // The path only: a query string could carry something personal one day.
                // `institution` is filled in once the caller is authenticated. The exported name is
                // the route's pattern, never a concrete path.
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("(no route)", |p| p.as_str());
                let span = tracing::info_span!("http",
                otel.name = %format_args!("{} {route}", req.method()), otel.kind = "server",
                method = %req.method(), path = %req.uri().path(),
                institution = tracing::field::Empty, trace_id = tracing::field::Empty);
                if let Some(IncomingTrace(Some(parent))) = req.extensions().get::<IncomingTrace>() {
                    trace_context::set_remote_parent(&span, parent);
                }
                span
            }),
        )
        .layer(axum::middleware::map_request(read_traceparent))
}

/// The caller's W3C trace context (`traceparent`, `tracestate`), read once before the request's
/// span is made; `None` when absent or malformed (the request then starts a new trace).
#[derive(Clone)]
struct IncomingTrace(Option<TraceContext>);

async fn read_traceparent(mut req: axum::extract::Request) -> axum::extract::Request {
    let incoming = TraceContext::from_http(req.headers());
    req.extensions_mut().insert(IncomingTrace(incoming));
    req
}

/// Makes the request a hop of its trace: what the handlers send over NATS carries it
/// ([`trace_context::current`]), and the answer names it in `traceresponse` (W3C Trace Context
/// level 2: the trace id and the gateway's span), so a partner can quote one id for a notice.
async fn trace_hop(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let incoming = req
        .extensions()
        .get::<IncomingTrace>()
        .and_then(|t| t.0.clone());
    let span = tracing::Span::current();
    let hop = trace_context::hop_of(&span, incoming.as_ref());
    span.record("trace_id", hop.trace_id());
    let value = axum::http::HeaderValue::from_str(&hop.traceparent());
    let mut response = trace_context::scope(hop, next.run(req)).await;
    if let Ok(value) = value {
        response
            .headers_mut()
            .insert(rcn_runtime::headers::TRACERESPONSE, value);
    }
    response
}

/// The origin (`scheme://host[:port]`) of `url`.
fn origin_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}

/// Binds `settings.listen` and serves until `shutdown`.
pub async fn run(ctx: Ctx, settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let listener = bind(&settings).await?;
    serve_with(ctx, settings, listener, shutdown).await
}

/// Binds the address the gateway is to listen on (`RCN_HTTP_ADDR`), so a launcher can learn the
/// real address (port 0 picks a free one) before it serves with [`serve_with`].
pub async fn bind(settings: &Settings) -> anyhow::Result<TcpListener> {
    TcpListener::bind(settings.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (RCN_HTTP_ADDR): {e}", settings.listen))
}

/// Serves on an already bound listener with the given settings.
pub async fn serve_with(
    ctx: Ctx,
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // The gateway's own schema: API tokens (and later sessions).
    let signer = ctx.config.identity_signer()?.clone();
    let pool = ctx.database("gateway", &tokens::MIGRATIONS).await?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "gateway listening");
    let state = AppState {
        nats: ctx.nats.clone(),
        subjects: ctx.subjects(),
        pool,
        signer,
        portal: settings.portal.clone(),
        // No I/O here: the provider is discovered at the first sign-in, so the gateway starts
        // (and the partner API works) while the identity provider is down.
        oidc: match &settings.oidc {
            Some(oidc) => Some(Arc::new(portal::oidc::Oidc::new(oidc.clone())?)),
            None => None,
        },
    };
    serve::serve(listener, app_with(state, &settings), &settings, shutdown).await
}
