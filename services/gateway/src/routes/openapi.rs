//! `GET /v1/openapi.json`: the partner API's OpenAPI document (public, like the API rules ask).

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// Generated once per process: it depends on the code only.
static DOCUMENT: LazyLock<String> = LazyLock::new(crate::openapi::pretty);

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/v1/openapi.json", get(openapi))
}

async fn openapi() -> Response {
    let mut response = DOCUMENT.as_str().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
