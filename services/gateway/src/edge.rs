//! What the gateway does for every request before and after a handler, so no answer slips out
//! without it: limits on what a request may bring (URI length, header size, time), problem+json for
//! paths and methods that do not exist, and the headers every response carries (`API-Version`,
//! `X-Content-Type-Options`, `Content-Security-Policy`, `Cache-Control`, HSTS when configured).
//!
//! It must never let a request through to a handler that it refused, and never answer with an
//! empty body: a caller always learns in words what was wrong.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::ApiError;
use crate::settings::Settings;

/// The longest request target (path and query) accepted, in bytes. Partner URLs are short: the
/// longest is a status request with a 100-character notice id.
pub const MAX_URI_BYTES: usize = 2048;
/// The most header bytes (names and values) a request may carry.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most header fields a request may carry.
pub const MAX_HEADER_COUNT: usize = 64;

/// Wraps `router` (all routes in place) with the edge: fallbacks, limits and response headers.
pub fn wrap<S: Clone + Send + Sync + 'static>(router: Router<S>, settings: &Settings) -> Router<S> {
    let mut router = router
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(no_route)
        .layer(axum::middleware::from_fn(limits))
        .layer(axum::middleware::from_fn_with_state(
            settings.request_timeout,
            request_timeout,
        ));
    // Set only when the handler did not: the OpenAPI document chooses its own caching.
    router = router.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    // The portal's pages set a stricter policy of their own (scripts and styles from the
    // gateway only); everything else gets this one.
    router = router.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    ));
    for (name, value) in [
        ("api-version", crate::API_VERSION),
        ("x-content-type-options", "nosniff"),
    ] {
        router = router.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    if let Some(value) = settings
        .hsts_header()
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            value,
        ));
    }
    router
}

/// Answers 503 problem+json when a request (reading its body included) takes longer than
/// `RCN_GATEWAY_REQUEST_TIMEOUT`; the handler is dropped.
async fn request_timeout(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis(), "request timed out");
            ApiError::RequestTimeout(limit.as_millis()).into_response()
        }
    }
}

/// Refuses a request whose URI or headers are larger than the gateway reads.
async fn limits(request: Request, next: Next) -> Response {
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return ApiError::UriTooLong(MAX_URI_BYTES).into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADER_COUNT || header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge {
            max_bytes: MAX_HEADER_BYTES,
            max_count: MAX_HEADER_COUNT,
        }
        .into_response();
    }
    next.run(request).await
}

/// A path the gateway does not serve (a trailing slash included: `/v1/release-notices/`). A
/// browser asking for a page outside the partner API gets the portal's Dutch page instead of
/// problem+json.
async fn no_route(request: Request) -> Response {
    let path = request.uri().path();
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !path.starts_with("/v1") {
        return crate::portal::page::PortalError::NotFound.into_response();
    }
    ApiError::NoRoute {
        trailing_slash: path.len() > 1 && path.ends_with('/'),
    }
    .into_response()
}

/// A path that exists, with a method it does not take (OPTIONS included: there is no CORS
/// preflight to answer, the partner API is not called from browsers). axum adds `Allow`.
async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
