//! router — decides which municipality is responsible for a release notice.
//!
//! [`rules`] holds the decision itself, pure and without I/O, so it can be tested table-driven
//! and reused by the service loop ([`decisions`]) that reads accepted notices from NOTICES,
//! records each decision with its reason, and publishes it on ROUTING through the outbox.
//! It must never route one notice twice: the decision table is keyed by the notice key.

pub mod decisions;
pub mod rules;

use std::sync::Arc;

use rcn_contracts::region::RegionTable;
use rcn_runtime::{CancellationToken, Ctx, consumer, outbox};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Runs the router until `shutdown`.
pub async fn run(ctx: Ctx, shutdown: CancellationToken) -> anyhow::Result<()> {
    let region = match &ctx.config.region_file {
        Some(path) => RegionTable::load(path)?,
        None => RegionTable::kennemerland(),
    };
    let js = ctx.jetstream();
    let subjects = ctx.subjects();
    rcn_runtime::nats::ensure_stream(&js, &subjects.routing_stream()).await?;
    let pool = ctx.database("router", &MIGRATIONS).await?;
    tracing::info!(region = %region.name, municipalities = region.municipalities.len(), "router starting");

    let relay = tokio::spawn(outbox::relay(pool.clone(), js.clone(), shutdown.clone()));
    let handler = Arc::new(decisions::Router { pool, region, subjects: subjects.clone() });
    consumer::run(js, decisions::spec(&ctx), handler, shutdown).await;
    relay.await?;
    Ok(())
}
