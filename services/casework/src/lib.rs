//! casework — one case per person per detention episode, with a task per aftercare condition
//! (ID, housing, income, debts, care) for the responsible municipality's staff to claim and work.
//!
//! It reads routed notices from ROUTING, opens the case (or attaches a later notice to it) in one
//! transaction with the event announcing it (outbox → CASES). It must never open a second case
//! for the same episode, and never use the BSN as a key: cases are found by the episode
//! pseudonym.

pub mod cases;

use std::sync::Arc;

use rcn_contracts::Condition;
use rcn_runtime::{CancellationToken, Ctx, consumer, outbox};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Runs casework until `shutdown`.
pub async fn run(ctx: Ctx, shutdown: CancellationToken) -> anyhow::Result<()> {
    let js = ctx.jetstream();
    let subjects = ctx.subjects();
    rcn_runtime::nats::ensure_stream(&js, &subjects.cases_stream()).await?;
    let pool = ctx.database("casework", &MIGRATIONS).await?;
    let relay = tokio::spawn(outbox::relay(pool.clone(), js.clone(), shutdown.clone()));
    let handler = Arc::new(cases::Casework { pool, subjects, conditions: Condition::DEFAULT.to_vec() });
    consumer::run(js, cases::spec(&ctx), handler, shutdown).await;
    relay.await?;
    Ok(())
}
