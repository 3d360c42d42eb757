//! The partner API for release notices, for authenticated institutions only (see [`crate::auth`]):
//!
//! - `POST /v1/release-notices`: submit a notice. The gateway checks the envelope (token, content
//!   type, size, that the notice is the caller's own) and asks intake over NATS; intake decides.
//! - `GET /v1/release-notices/{notice_id}`: what became of a notice the caller sent, from intake.
//!
//! A URL here carries only the sender's own notice id, never personal data.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rcn_contracts::intake::{StatusReply, StatusRequest, SubmitReply};
use rcn_contracts::notice::Problem;

use crate::auth::Partner;
use crate::{ApiError, AppState};

/// The largest notice accepted, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// How long the gateway waits for intake.
const INTAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/release-notices", post(submit))
        .route("/v1/release-notices/{notice_id}", get(status))
        // Read one byte more than allowed so an oversize body is told apart from a full one.
        .layer(DefaultBodyLimit::max(MAX_BODY + 1))
}

/// Submit a release notice.
#[utoipa::path(
    post,
    path = "/v1/release-notices",
    tag = "release-notices",
    operation_id = "submitReleaseNotice",
    description = "Submits a release notice. Accepted means durably stored: it will be routed to the responsible \
                   municipality. A resend with the same notice_id and the same content gets the original receipt; \
                   the same notice_id with other content is refused with 409. The notice's \
                   sender.institution_code must be the institution the token belongs to.",
    request_body(content = crate::openapi::ReleaseNoticeRef, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted (or accepted before: status already_received)", body = crate::openapi::ReceiptRef,
         headers(("API-Version" = String, description = "The API's version"))),
        (status = 400, description = "The notice is not valid: every problem with its JSON path in invalidParams", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = crate::openapi::ProblemRef, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "Bearer realm=\"rcn\""))),
        (status = 403, description = "The notice names another institution as its sender", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
        (status = 409, description = "Another notice was already accepted under this notice_id", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 64 KiB", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
        (status = 415, description = "The body is not declared as JSON", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed authentications from this address; wait before trying again", body = crate::openapi::ProblemRef, content_type = "application/problem+json",
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "Cannot be kept right now, or the request took too long; send again later with the same notice_id", body = crate::openapi::ProblemRef, content_type = "application/problem+json",
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("partnerToken" = []))
)]
pub(crate) async fn submit(
    State(state): State<Arc<AppState>>,
    Partner(caller): Partner,
    request_headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !is_json(&request_headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(MAX_BODY),
        _ => ApiError::Invalid(vec![Problem::new("", "the request body could not be read")]),
    })?;
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge(MAX_BODY));
    }
    // A notice in another institution's name is refused here already; intake checks again.
    // The answer names the token's institution, never the submitted code: a rejection does not
    // echo what was sent.
    if let Some(sender) = sender_code(&body)
        && sender != caller.institution_code
    {
        return Err(ApiError::Forbidden(format!(
            "this API token belongs to institution {}, and sender.institution_code names another \
             institution; an institution may only send its own notices",
            caller.institution_code
        )));
    }
    let reply: SubmitReply =
        ask_intake(&state, state.subjects.intake_submit(), &caller, body).await?;
    match reply {
        SubmitReply::Accepted { receipt } => {
            Ok((StatusCode::ACCEPTED, axum::Json(receipt)).into_response())
        }
        SubmitReply::Rejected { problems } => Err(ApiError::Invalid(problems)),
        SubmitReply::Conflict { problems } => Err(ApiError::Conflict(problems)),
        SubmitReply::Forbidden { message } => Err(ApiError::Forbidden(message)),
        SubmitReply::Unavailable {
            message,
            retry_after_seconds,
        } => Err(ApiError::Unavailable {
            message,
            retry_after_seconds,
        }),
    }
}

/// What became of a notice.
#[utoipa::path(
    get,
    path = "/v1/release-notices/{notice_id}",
    tag = "release-notices",
    operation_id = "getReleaseNoticeStatus",
    description = "What became of a notice the caller's institution sent: accepted, routed to a municipality \
                   (gemeentecode), out of region (the municipality elsewhere), or waiting for manual routing by the \
                   RCN. Notices of other institutions are not found.",
    params(("notice_id" = String, Path, description = "The sender's own notice id")),
    responses(
        (status = 200, description = "The notice's status", body = crate::openapi::NoticeStatusRef),
        (status = 400, description = "The notice id is malformed", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
        (status = 401, description = "No valid API token", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
        (status = 404, description = "No notice of the caller's institution has this id", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed authentications from this address; wait before trying again", body = crate::openapi::ProblemRef, content_type = "application/problem+json",
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "Cannot be answered right now, or the request took too long", body = crate::openapi::ProblemRef, content_type = "application/problem+json"),
    ),
    security(("partnerToken" = []))
)]
pub(crate) async fn status(
    State(state): State<Arc<AppState>>,
    Partner(caller): Partner,
    Path(notice_id): Path<String>,
) -> Result<Response, ApiError> {
    // The rule the body's notice_id follows, and the one the OpenAPI document states.
    if !rcn_contracts::notice::is_valid_notice_id(&notice_id) {
        return Err(ApiError::Invalid(vec![Problem::new(
            "notice_id",
            format!(
                "a notice id has 1 to {} letters, digits and - _ . :",
                rcn_contracts::notice::NOTICE_ID_MAX
            ),
        )]));
    }
    let request = serde_json::to_vec(&StatusRequest { notice_id }).expect("a request serialises");
    let reply: StatusReply = ask_intake(
        &state,
        state.subjects.intake_status(),
        &caller,
        request.into(),
    )
    .await?;
    match reply {
        StatusReply::Found { status } => {
            let mut response = axum::Json(status).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        StatusReply::NotFound => Err(ApiError::NotFound),
        StatusReply::Unavailable {
            message,
            retry_after_seconds,
        } => Err(ApiError::Unavailable {
            message,
            retry_after_seconds,
        }),
        StatusReply::Refused { message } => Err(ApiError::Internal(anyhow::anyhow!(
            "intake refused a status request: {message}"
        ))),
    }
}

/// Sends `body` to intake on `subject` as `caller` and reads its reply.
async fn ask_intake<T: serde::de::DeserializeOwned>(
    state: &AppState,
    subject: String,
    caller: &rcn_contracts::intake::PartnerIdentity,
    body: Bytes,
) -> Result<T, ApiError> {
    if state.nats.connection_state() != async_nats::connection::State::Connected {
        // Nothing can be kept without NATS: say so at once instead of after a timeout.
        return Err(unavailable());
    }
    // Signed for this subject and body only, for a short while: nobody on the way can reuse it.
    let mut h = state.signer.sign(&caller.to_header(), &subject, &body);
    // The partner's notice continues the partner's trace (or the one the gateway started).
    if let Some(trace) = rcn_runtime::trace_context::current() {
        trace.insert_into(&mut h);
    }
    let request = async_nats::Request::new()
        .payload(body)
        .headers(h)
        .timeout(Some(INTAKE_TIMEOUT));
    let reply = match state.nats.send_request(subject, request).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "intake did not answer");
            return Err(unavailable());
        }
    };
    serde_json::from_slice(&reply.payload).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!("intake answered something unreadable: {e}"))
    })
}

/// The notice's `sender.institution_code`, when the body is JSON that has one.
fn sender_code(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        sender: Sender,
    }
    #[derive(serde::Deserialize)]
    struct Sender {
        institution_code: String,
    }
    serde_json::from_slice::<Envelope>(body)
        .ok()
        .map(|e| e.sender.institution_code)
}

fn unavailable() -> ApiError {
    ApiError::Unavailable {
        message: "intake cannot take notices right now; send the notice again later with the same notice_id".into(),
        retry_after_seconds: 30,
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        })
        .unwrap_or(false)
}
