//! router — decides which municipality is responsible for a release notice.
//!
//! [`rules`] holds the decision itself, pure and without I/O, so it can be tested table-driven
//! and reused by the service loop ([`decisions`]) that reads accepted notices from NOTICES, asks
//! the [`address_register`] where needed, records each decision with its reason, and publishes it
//! on ROUTING through the outbox. Notices no rule can route wait in the RCN's manual [`queue`],
//! served over NATS request-reply by [`api`]; out-of-region notices are [`forwarding`] to the
//! region that serves them; [`notice_decisions`] tells the people of a case why each of its
//! notices went where it went.
//! It must never route one notice twice: the decision table is keyed by the notice key, and a
//! manual decision by the notice key too.

pub mod access;
pub mod address_register;
pub mod api;
pub mod breaker;
pub mod decisions;
pub mod forwarding;
pub mod notice_decisions;
pub mod privacy;
pub mod queue;
pub mod retention;
pub mod rules;
pub mod settings;

use std::sync::Arc;

use anyhow::Context as _;
use rcn_contracts::region::RegionTable;
use rcn_runtime::provision::Resources;
use rcn_runtime::{CancellationToken, Config, Ctx, consumer, outbox};

pub use settings::Settings;

/// The service's migrations, for the launcher to run as the migration role before it starts.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The region table: `RCN_REGION_FILE`, or the built-in Kennemerland.
fn region_table(config: &Config) -> anyhow::Result<RegionTable> {
    Ok(match &config.region_file {
        Some(path) => RegionTable::load(path)?,
        None => RegionTable::kennemerland(),
    })
}

/// What the router needs on JetStream, made by `rcn provision`: ROUTING, which it publishes to;
/// its durable consumer on NOTICES (with the dead-letter stream); and the FORWARDED stream of
/// every region it forwards to, so a forward is kept even while that region is not running.
pub fn nats_resources(config: &Config) -> anyhow::Result<Resources> {
    let subjects = config.region.subjects();
    let mut needs = Resources::new("router")
        .retention(&config.retention)
        .stream(subjects.routing_stream())
        .consumer(decisions::spec(config));
    for target in forwarding::target_regions(&region_table(config)?) {
        needs = needs.other_region_stream(target.subjects().forwarded_stream());
    }
    Ok(needs)
}

/// Runs the router with `settings` until `shutdown`.
pub async fn run(ctx: Ctx, settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let region = region_table(&ctx.config)?;
    let register =
        address_register::AddressRegister::from_settings(settings.address_register.as_ref())?;
    let js = ctx.jetstream();
    let subjects = ctx.subjects();
    rcn_runtime::provision::require(&js, &nats_resources(&ctx.config)?).await?;
    let pool = ctx.database("router", &MIGRATIONS).await?;
    tracing::info!(region = %region.name, municipalities = region.municipalities.len(),
        address_register = register.is_some(), "router starting");

    let queue = Arc::new(queue::Queue {
        pool: pool.clone(),
        region: region.clone(),
        subjects: subjects.clone(),
    });
    let privacy = Arc::new(privacy::Privacy {
        pool: pool.clone(),
        pseudonyms: ctx.config.pseudonym_key.clone(),
    });
    let api = api::service(&subjects, queue, privacy)
        .start(&ctx.nats, ctx.config.identity_verifier()?)
        .await?;
    let api = tokio::spawn(api.serve(shutdown.clone()));
    let relay = tokio::spawn(outbox::relay(pool.clone(), js.clone(), shutdown.clone()));
    let retention = tokio::spawn(
        rcn_runtime::retention::Job::new(
            "router",
            pool.clone(),
            ctx.config.retention.clone(),
            retention::rules(),
        )
        .with_open_cases(Arc::new(rcn_runtime::retention::AskCasework::new(
            ctx.nats.clone(),
            &subjects,
        )))
        .run_daily(shutdown.clone()),
    );
    let handler = Arc::new(decisions::Router {
        pool,
        region,
        subjects: subjects.clone(),
        register,
    });
    consumer::run(js, decisions::spec(&ctx.config), handler, shutdown).await;
    relay.await?;
    retention.await.context("retention task")?;
    api.await.context("router API task")??;
    Ok(())
}

/// Router's retention job (`rcn retention`), on a pool of its own.
pub fn retention_job(
    config: &Config,
) -> futures::future::BoxFuture<'_, anyhow::Result<rcn_runtime::retention::Job>> {
    Box::pin(rcn_runtime::retention::open_job_asking_casework(
        config,
        "router",
        &MIGRATIONS,
        retention::rules(),
    ))
}
