//! The HTTP routes, one module per resource.

mod health;
pub(crate) mod notices;
mod openapi;

use std::sync::Arc;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .merge(health::router())
        .merge(notices::router())
        .merge(openapi::router())
        .merge(crate::portal::router())
}
