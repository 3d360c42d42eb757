//! `/healthz`: the process is alive. `/readyz`: it can do its work: NATS and PostgreSQL answer.
//!
//! "Answer" means a real round trip within a bounded time, not the client's idea of its
//! connection: a frozen nats-server keeps the TCP connection open, and the client would go on
//! calling itself connected for as long as its ping interval.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;

/// How long readiness waits for NATS to answer its probe.
const NATS_PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(alive))
        .route("/readyz", get(ready))
}

async fn alive() -> &'static str {
    "ok"
}

async fn ready(State(state): State<Arc<AppState>>) -> (StatusCode, Json<serde_json::Value>) {
    let (nats, postgres) = tokio::join!(nats_answers(&state), rcn_runtime::db::ping(&state.pool));
    let status = if nats && postgres {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({ "nats": nats, "postgres": postgres })))
}

/// A request on a subject nobody serves: the server itself answers "no responders", which proves
/// it reads and routes this connection's messages. The gateway's NATS user may publish on this
/// one subject for it (`services/rcn/deploy/nats/accounts.conf`).
async fn nats_answers(state: &AppState) -> bool {
    if state.nats.connection_state() != async_nats::connection::State::Connected {
        return false;
    }
    let subject = format!(
        "rcn.{}.api.gateway.readiness-probe",
        state.subjects.region().as_str()
    );
    let request = async_nats::Request::new().timeout(Some(NATS_PROBE_TIMEOUT));
    match state.nats.send_request(subject, request).await {
        Ok(_) => true,
        Err(e) => match e.kind() {
            async_nats::RequestErrorKind::NoResponders => true,
            _ => {
                tracing::warn!(error = %e, "NATS did not answer the readiness probe");
                false
            }
        },
    }
}
