//! casework — one case per person per detention episode, with a task per aftercare condition
//! (ID, housing, income, debts, care) for the responsible municipality's staff to claim and work.
//!
//! It reads routed notices from ROUTING, opens the case (or applies a later notice to it) in one
//! transaction with the event announcing it (outbox → CASES); serves the inbox and claiming API
//! over NATS request-reply (`rcn.<region>.api.casework.<verb>`); and raises deadline reminders.
//! It must never open a second case for the same episode, never use the BSN as a key (cases are
//! found by the episode pseudonym), never show one municipality's cases to another's staff, and
//! never let personal data be read without an entry in the access log.

pub mod access;
pub mod api;
pub mod case_detail;
mod case_state;
pub mod cases;
pub mod claims;
pub mod closing;
pub mod error;
pub mod history;
pub mod inbox;
pub mod moved_out;
mod opening;
pub mod privacy;
pub mod privacy_export;
pub mod reopening;
pub mod retention;
pub mod retry;
pub mod scheduler;
pub mod seed;
pub mod settings;
pub mod spoed;
pub mod state;
pub mod stats;
pub mod tasks;
pub mod updates;
pub mod visibility;

use std::sync::Arc;

use anyhow::Context as _;
use rcn_runtime::provision::Resources;
use rcn_runtime::{CancellationToken, Config, Ctx, consumer, outbox};

pub use settings::Settings;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Casework's migrations, for tools that open a schema of casework's own (the scale benchmark).
pub fn migrations() -> &'static sqlx::migrate::Migrator {
    &MIGRATIONS
}

/// What casework needs on JetStream, made by `rcn provision`: CASES, which it publishes to, and
/// its two durable consumers on ROUTING (routed notices, out-of-region notices), with the
/// dead-letter stream.
pub fn nats_resources(config: &Config) -> anyhow::Result<Resources> {
    Ok(Resources::new("casework")
        .retention(&config.retention)
        .stream(config.region.subjects().cases_stream())
        .consumer(cases::spec(config))
        .consumer(moved_out::spec(config)))
}

/// Runs casework with `settings` until `shutdown`: the consumer, the API, the scheduler and the
/// outbox relay.
pub async fn run(ctx: Ctx, settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let js = ctx.jetstream();
    let subjects = ctx.subjects();
    rcn_runtime::provision::require(&js, &nats_resources(&ctx.config)?).await?;
    let pool = ctx.database(stats::SCHEMA, &MIGRATIONS).await?;
    // Our own stop: the API failing stops the rest too, without cancelling the caller's token.
    let stop = shutdown.child_token();
    let relay = tokio::spawn(outbox::relay(pool.clone(), js.clone(), stop.clone()));
    let retention = tokio::spawn(
        rcn_runtime::retention::Job::new(
            stats::SCHEMA,
            pool.clone(),
            ctx.config.retention.clone(),
            retention::rules(),
        )
        .run_daily(stop.clone()),
    );
    let cw = Arc::new(
        state::Casework::new(pool, subjects.clone(), &settings)
            .with_pseudonyms(ctx.config.pseudonym_key.clone()),
    );
    let scheduler = tokio::spawn(scheduler::run(cw.clone(), stop.clone()));
    let api = {
        let (running, stop) = (
            api::service(&subjects, cw.clone())
                .start(&ctx.nats, ctx.config.identity_verifier()?)
                .await,
            stop.clone(),
        );
        tokio::spawn(async move {
            let served = match running {
                Ok(running) => running.serve(stop.clone()).await,
                Err(e) => Err(e),
            };
            if let Err(e) = &served {
                tracing::error!(error = %format!("{e:#}"), "casework API failed; stopping casework");
                stop.cancel();
            }
            served
        })
    };
    let moved_out = tokio::spawn(consumer::run(
        js.clone(),
        moved_out::spec(&ctx.config),
        Arc::new(moved_out::MovedOut(cw.clone())),
        stop.clone(),
    ));
    consumer::run(js, cases::spec(&ctx.config), cw, stop.clone()).await;
    moved_out.await.context("out-of-region consumer task")?;
    stop.cancel();
    let served = api.await.context("casework API task");
    scheduler.await.context("deadline scheduler task")?;
    relay.await.context("outbox relay task")?;
    retention.await.context("retention task")?;
    served??;
    Ok(())
}

/// Casework's retention job (`rcn retention`), on a pool of its own.
pub fn retention_job(
    config: &Config,
) -> futures::future::BoxFuture<'_, anyhow::Result<rcn_runtime::retention::Job>> {
    Box::pin(rcn_runtime::retention::open_job(
        config,
        stats::SCHEMA,
        &MIGRATIONS,
        retention::rules(),
    ))
}
