//! `GET /v1/openapi.json`: the partner API's OpenAPI document (public, like the API rules ask,
//! and readable from any origin).

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
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // API Design Rules: tools in a browser (a developer portal, Swagger UI) may read it from
    // anywhere. It holds no personal data, and it changes only with a new release.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
