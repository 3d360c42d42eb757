//! The portal's static files, compiled into the binary: the NL Design System component CSS and
//! theme tokens, htmx, and rcn's own stylesheet. Versions and licences:
//! `services/gateway/assets/README.md`. Nothing is fetched from elsewhere at run time.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::portal::page::PortalError;

/// (path under `/assets/`, content type, bytes)
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "rcn.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/rcn.css"),
    ),
    (
        "vendor/utrecht-component-library-css/index.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/vendor/utrecht-component-library-css/index.css"),
    ),
    (
        "vendor/voorbeeld-design-tokens/theme.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/vendor/voorbeeld-design-tokens/theme.css"),
    ),
    (
        "vendor/htmx/htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx/htmx.min.js"),
    ),
];

/// `GET /assets/{*path}`.
pub async fn asset(Path(path): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = FILES.iter().find(|(p, _, _)| *p == path) else {
        return PortalError::NotFound.into_response();
    };
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Files change only with a new build; an hour keeps pages quick without stale releases.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
