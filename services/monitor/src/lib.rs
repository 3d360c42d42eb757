//! monitor — regional throughput for the RCN coordinator, and the operators' metrics.
//!
//! [`read_models`] consume every stream (NOTICES, ROUTING, CASES, PROCESREGIE, DLQ) into the monitor's own
//! tables, idempotently; [`rebuild`] replays the streams from the start into fresh tables;
//! [`figures`] computes the dashboard's counts and durations from them, served by [`api`] on
//! `rcn.<region>.api.monitor.figures`. Its process serves Prometheus `/metrics` like every rcn
//! process (`RCN_METRICS_ADDR`, `rcn_runtime::metrics`).
//!
//! It must never let a BSN, a name or case detail out: figures, exports, metric labels and log
//! lines hold counts, durations, codes and periods only. The one exception is [`desk`], the RCN
//! coordinator's dead-letter desk (a service of its own, `rcn-dead-letters`), which shows a dead
//! letter's payload only with a reason and only after logging who asked — with the person
//! pseudonyms of the payload, so the privacy officer's "who saw" ([`privacy`]) finds it. That log
//! and the privacy questions go `RCN_RETENTION_ACCESS_LOG_YEARS` after they were written
//! ([`retention`], the kit's daily job, with its deletion log `monitor.retention_log`); the
//! aggregates stay.

pub mod api;
pub mod bench;
pub mod counters;
pub mod desk;
pub mod figures;
pub mod privacy;
pub mod read_models;
pub mod rebuild;
pub mod retention;
pub mod settings;
pub mod working_days;

use std::sync::Arc;

use anyhow::Context as _;
use rcn_contracts::region::RegionTable;
use rcn_runtime::provision::Resources;
use rcn_runtime::{CancellationToken, Config, Ctx};

pub use settings::Settings;

/// The monitor's schema.
pub const SCHEMA: &str = "monitor";

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The region table of the configuration (the built-in Kennemerland when no file is set).
pub fn region_table(config: &rcn_runtime::Config) -> anyhow::Result<RegionTable> {
    Ok(match &config.region_file {
        Some(path) => RegionTable::load(path)?,
        None => RegionTable::kennemerland(),
    })
}

/// What the monitor needs on JetStream, made by `rcn provision`: one durable consumer per stream
/// it reads (NOTICES, ROUTING, CASES, PROCESREGIE, DLQ). It publishes no events of its own.
pub fn nats_resources(config: &Config) -> anyhow::Result<Resources> {
    let subjects = config.region.subjects();
    Ok(read_models::Feed::ALL.into_iter().fold(
        Resources::new("monitor").retention(&config.retention),
        |r, feed| r.consumer(feed.spec(&subjects, config)),
    ))
}

/// Runs the monitor with `settings` until `shutdown`. It needs the region's pseudonym key
/// (`RCN_PSEUDONYM_KEY`): its dead-letter desk keeps the person pseudonyms of the letters it
/// shows, for the privacy officer's "who saw this person".
pub async fn run(ctx: Ctx, settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    ctx.config.pseudonym_key()?;
    let region = region_table(&ctx.config)?;
    let subjects = ctx.subjects();
    rcn_runtime::provision::require(&ctx.jetstream(), &nats_resources(&ctx.config)?).await?;
    let pool = ctx.database(SCHEMA, &MIGRATIONS).await?;
    tracing::info!(region = %region.name, "monitor starting");
    let dashboard = Arc::new(api::Dashboard {
        pool: pool.clone(),
        region,
        settings,
    });
    let api = api::service(&subjects, dashboard)
        .start(&ctx.nats, ctx.config.identity_verifier()?)
        .await?;
    let api = tokio::spawn(api.serve(shutdown.clone()));
    let retention = tokio::spawn(
        rcn_runtime::retention::Job::new(
            SCHEMA,
            pool.clone(),
            ctx.config.retention.clone(),
            retention::rules(),
        )
        .run_daily(shutdown.clone()),
    );
    let desk = Arc::new(desk::Desk {
        pool: pool.clone(),
        js: ctx.jetstream(),
        subjects: subjects.clone(),
        pseudonyms: ctx.config.pseudonym_key()?.clone(),
    });
    let desk = desk::service(&subjects, desk)
        .start(&ctx.nats, ctx.config.identity_verifier()?)
        .await?;
    let desk = tokio::spawn(desk.serve(shutdown.clone()));
    let handlers = read_models::Handlers::new(pool, &subjects);
    read_models::run(ctx.jetstream(), &subjects, &ctx.config, handlers, shutdown).await;
    api.await.context("monitor API task")??;
    desk.await.context("dead-letter desk task")??;
    retention.await.context("retention task")?;
    Ok(())
}

/// The monitor's retention job (`rcn retention`), on a pool of its own.
pub fn retention_job(
    config: &Config,
) -> futures::future::BoxFuture<'_, anyhow::Result<rcn_runtime::retention::Job>> {
    Box::pin(rcn_runtime::retention::open_job(
        config,
        SCHEMA,
        &MIGRATIONS,
        retention::rules(),
    ))
}
