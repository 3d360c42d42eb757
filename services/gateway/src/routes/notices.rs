//! `POST /v1/release-notices`: a detention institution submits a release notice. The gateway
//! checks the envelope (content type, size) and asks intake over NATS; intake decides.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rcn_contracts::intake::SubmitReply;

use crate::{ApiError, AppState};

/// The largest notice accepted, in bytes.
const MAX_BODY: usize = 64 * 1024;
/// How long the gateway waits for intake.
const INTAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/release-notices", post(submit))
        // Read one byte more than allowed so an oversize body is told apart from a full one.
        .layer(DefaultBodyLimit::max(MAX_BODY + 1))
}

async fn submit(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Result<Bytes, axum::extract::rejection::BytesRejection>) -> Result<Response, ApiError> {
    if !is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(MAX_BODY),
        _ => ApiError::Invalid(vec![rcn_contracts::notice::Problem::new("", "the request body could not be read")]),
    })?;
    if body.len() > MAX_BODY {
        return Err(ApiError::TooLarge(MAX_BODY));
    }
    if state.nats.connection_state() != async_nats::connection::State::Connected {
        // Nothing can be kept without NATS: say so at once instead of after a timeout.
        return Err(unavailable());
    }
    let request = async_nats::Request::new().payload(body).timeout(Some(INTAKE_TIMEOUT));
    let reply = match state.nats.send_request(state.subjects.intake_submit(), request).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "intake did not answer");
            return Err(unavailable());
        }
    };
    let reply: SubmitReply = serde_json::from_slice(&reply.payload)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("intake answered something unreadable: {e}")))?;
    match reply {
        SubmitReply::Accepted { receipt } => Ok((StatusCode::ACCEPTED, axum::Json(receipt)).into_response()),
        SubmitReply::Rejected { problems } => Err(ApiError::Invalid(problems)),
        SubmitReply::Unavailable { message, retry_after_seconds } => Err(ApiError::Unavailable { message, retry_after_seconds }),
    }
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
