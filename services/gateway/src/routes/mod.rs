//! The HTTP routes, one module per resource.

mod health;
mod notices;

use std::sync::Arc;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().merge(health::router()).merge(notices::router())
}
