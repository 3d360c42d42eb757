//! procesregie — escalation of complex cases into an individueel casusoverleg (ICO) at the Zorg-
//! en Veiligheidshuis: suggestions by rule from casework's events ([`watch`]), applications
//! (aanmeldingen), the weekly [`triage`], and the ICO with its plan van aanpak, served over NATS
//! request-reply by [`api`] and announced on PROCESREGIE through the outbox.
//!
//! It must never read another service's tables (it learns about cases from CASES only), never
//! escalate a case by itself (a rule only suggests; a person decides), and never put a BSN or a
//! name in a subject, a log line or an event.

pub mod access;
pub mod api;
pub mod applications;
pub mod board;
pub mod ico;
pub mod privacy;
pub mod privacy_export;
pub mod publish;
pub mod retention;
pub mod scheduler;
pub mod settings;
pub mod suggestions;
pub mod triage;
pub mod visibility;
pub mod watch;

use std::sync::Arc;

use anyhow::Context as _;
use rcn_runtime::provision::Resources;
use rcn_runtime::{CancellationToken, Config, Ctx, consumer, outbox};

pub use settings::Settings;

/// The service's migrations, for the launcher to run as the migration role before it starts.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What every endpoint and the consumer share.
#[derive(Debug)]
pub struct Procesregie {
    pub pool: sqlx::PgPool,
    pub settings: Settings,
    pub subjects: rcn_contracts::Subjects,
    /// Turns the BSN of a person not in casework into their pseudonym, to find earlier
    /// referrals; without it such applications carry no pseudonym.
    pub pseudonyms: Option<rcn_contracts::pseudonym::PseudonymKey>,
}

/// What procesregie needs on JetStream, made by `rcn provision`: PROCESREGIE, which it publishes
/// to, and its durable consumer over CASES, with the dead-letter stream.
pub fn nats_resources(config: &Config) -> anyhow::Result<Resources> {
    Ok(Resources::new("procesregie")
        .retention(&config.retention)
        .stream(config.region.subjects().procesregie_stream())
        .consumer(watch::spec(config)))
}

/// Runs procesregie with `settings` until `shutdown`.
pub async fn run(ctx: Ctx, settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let js = ctx.jetstream();
    let subjects = ctx.subjects();
    rcn_runtime::provision::require(&js, &nats_resources(&ctx.config)?).await?;
    let pool = ctx.database("procesregie", &MIGRATIONS).await?;
    tracing::info!(region = %subjects.region(), "procesregie starting");

    let state = Arc::new(Procesregie {
        pool: pool.clone(),
        settings,
        subjects: subjects.clone(),
        pseudonyms: ctx.config.pseudonym_key.clone(),
    });
    let api = api::service(&subjects, state.clone())
        .start(&ctx.nats, ctx.config.identity_verifier()?)
        .await?;
    let api = tokio::spawn(api.serve(shutdown.clone()));
    let retention = tokio::spawn(
        rcn_runtime::retention::Job::new(
            "procesregie",
            pool.clone(),
            ctx.config.retention.clone(),
            retention::rules(),
        )
        .consuming(&nats_resources(&ctx.config)?)
        .run_daily(shutdown.clone()),
    );
    let relay = tokio::spawn(outbox::relay(pool, js.clone(), shutdown.clone()));
    let reminders = tokio::spawn(scheduler::run(state.clone(), shutdown.clone()));
    consumer::run(js, watch::spec(&ctx.config), state, shutdown).await;
    reminders.await?;
    relay.await?;
    retention.await.context("retention task")?;
    api.await.context("procesregie API task")??;
    Ok(())
}

/// Procesregie's retention job (`rcn retention`), on a pool of its own.
#[allow(clippy::type_complexity)] // the launcher's `RetentionJob`, without a futures dependency
pub fn retention_job(
    config: &Config,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = anyhow::Result<rcn_runtime::retention::Job>> + Send + '_>,
> {
    Box::pin(async move {
        // The streams it consumes, as `rcn provision` makes them: their maximum age says when an
        // applied event's id may be forgotten.
        let resources = nats_resources(config)?;
        let job = rcn_runtime::retention::open_job(
            config,
            "procesregie",
            &MIGRATIONS,
            retention::rules(),
        )
        .await?;
        Ok(job.consuming(&resources))
    })
}
