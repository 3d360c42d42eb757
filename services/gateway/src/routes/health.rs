//! `/healthz`: the process is alive. `/readyz`: it can do its work (NATS and PostgreSQL answer).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(alive))
        .route("/readyz", get(ready))
}

async fn alive() -> &'static str {
    "ok"
}

async fn ready(State(state): State<Arc<AppState>>) -> (StatusCode, Json<serde_json::Value>) {
    let nats = state.nats.connection_state() == async_nats::connection::State::Connected;
    let postgres = rcn_runtime::db::ping(&state.pool).await;
    let status = if nats && postgres {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({ "nats": nats, "postgres": postgres })))
}
