//! One error type for every HTTP answer that is not a success, rendered as
//! `application/problem+json` (RFC 9457). Internal causes are logged, never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rcn_contracts::envelope::{ApiProblem, InvalidParam};
use rcn_contracts::notice::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request was understood but its content is wrong: every problem is listed.
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("not found")]
    NotFound,
    /// No resource lives at the requested path.
    #[error("{}", no_route_message(.trailing_slash))]
    NoRoute { trailing_slash: bool },
    /// The path exists but does not take this method; `Allow` says which it takes.
    #[error("this path does not take this method; the Allow header lists the methods it takes")]
    MethodNotAllowed,
    #[error("the request URI is longer than {0} bytes")]
    UriTooLong(usize),
    #[error(
        "the request headers are larger than {max_bytes} bytes or more than {max_count} fields"
    )]
    HeadersTooLarge { max_bytes: usize, max_count: usize },
    /// No valid credential: missing, malformed, unknown or revoked token. Which one is not said.
    #[error("a valid API token is required: send it as `Authorization: Bearer <token>`")]
    Unauthorized { token_sent: bool },
    /// Authenticated, but not allowed to do this; the message says why, in words.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with what was accepted before (a notice_id used for another notice).
    #[error("the request conflicts with an earlier one")]
    Conflict(Vec<Problem>),
    /// A service we depend on cannot answer now; the caller should retry.
    #[error("temporarily unavailable: {message}")]
    Unavailable {
        message: String,
        retry_after_seconds: u32,
    },
    /// Too many failed authentications from this client address; nothing it sends is checked
    /// until `retry_after_seconds` have passed.
    #[error(
        "too many failed authentications from this address; try again in {retry_after_seconds} seconds"
    )]
    TooManyFailures { retry_after_seconds: u32 },
    /// The request took longer than the gateway allows.
    #[error("the request took longer than {0} ms; try again")]
    RequestTimeout(u128),
    /// Anything else: logged with its cause, shown as a plain 500.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

fn no_route_message(trailing_slash: &bool) -> &'static str {
    if *trailing_slash {
        "there is nothing at this path; leave off the trailing slash (the API is described at /v1/openapi.json)"
    } else {
        "there is nothing at this path (the API is described at /v1/openapi.json)"
    }
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound | ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyFailures { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::RequestTimeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Invalid(_) => (
                "urn:rcn:problem:invalid-request",
                "The request is not valid",
            ),
            ApiError::UnsupportedMediaType => (
                "urn:rcn:problem:unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::TooLarge(_) => ("urn:rcn:problem:too-large", "Request body too large"),
            ApiError::NotFound | ApiError::NoRoute { .. } => {
                ("urn:rcn:problem:not-found", "Not found")
            }
            ApiError::MethodNotAllowed => {
                ("urn:rcn:problem:method-not-allowed", "Method not allowed")
            }
            ApiError::UriTooLong(_) => ("urn:rcn:problem:uri-too-long", "URI too long"),
            ApiError::HeadersTooLarge { .. } => (
                "urn:rcn:problem:headers-too-large",
                "Request headers too large",
            ),
            ApiError::Unauthorized { .. } => {
                ("urn:rcn:problem:unauthorized", "Authentication required")
            }
            ApiError::Forbidden(_) => ("urn:rcn:problem:forbidden", "Not allowed"),
            ApiError::Conflict(_) => (
                "urn:rcn:problem:conflict",
                "Conflicts with an earlier notice",
            ),
            ApiError::Unavailable { .. } => {
                ("urn:rcn:problem:unavailable", "Temporarily unavailable")
            }
            ApiError::TooManyFailures { .. } => (
                "urn:rcn:problem:too-many-failures",
                "Too many failed authentications",
            ),
            ApiError::RequestTimeout(_) => ("urn:rcn:problem:timeout", "Request took too long"),
            ApiError::Internal(_) => ("urn:rcn:problem:internal", "Internal error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let (kind, title) = self.kind_and_title();
        let detail = match &self {
            ApiError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "request failed");
                "something went wrong on our side; it has been logged".to_owned()
            }
            ApiError::Invalid(problems) | ApiError::Conflict(problems) if problems.len() == 1 => {
                let p = &problems[0];
                if p.path.is_empty() {
                    p.message.clone()
                } else {
                    format!("{}: {}", p.path, p.message)
                }
            }
            other => other.to_string(),
        };
        let invalid_params = match &self {
            ApiError::Invalid(problems) | ApiError::Conflict(problems) => {
                problems.iter().cloned().map(InvalidParam::from).collect()
            }
            _ => Vec::new(),
        };
        // The one problem+json shape rcn speaks, over HTTP here and over NATS in the envelope.
        let body = ApiProblem {
            kind: kind.to_owned(),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            invalid_params,
            extensions: Default::default(),
        };
        let mut response = (status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::Unauthorized { token_sent } = &self {
            // RFC 6750: name the scheme; an error code only when a token was sent, and the same
            // one whether it was unknown, malformed or revoked.
            let challenge = if *token_sent {
                "Bearer realm=\"rcn\", error=\"invalid_token\""
            } else {
                "Bearer realm=\"rcn\""
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let ApiError::Unavailable {
            retry_after_seconds,
            ..
        }
        | ApiError::TooManyFailures {
            retry_after_seconds,
        } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
