//! intake — accepts release notices from detention institutions over NATS request-reply
//! (`rcn.<region>.intake.submit`), validates them, and publishes each accepted notice to the
//! NOTICES stream with `Nats-Msg-Id` = its notice key, so a resent notice is accepted once.
//!
//! The sender learns at once, in words, what was wrong, or gets a receipt. Accepted means the
//! notice is stored in JetStream (the PubAck came back): nothing is acknowledged to the sender
//! before that. Intake also keeps a ledger of receipts in its own schema, so a resend gets its
//! original receipt back. It must never log a BSN, and never accept what it cannot keep.
//!
//! Partners: the gateway passes the authenticated institution in `Rcn-Identity`; a partner on its
//! own NATS account submits on `rcn.<region>.intake.submit.<institution_code>`. Either way an
//! institution may only send (and ask about) its own notices. A second consumer follows the
//! ROUTING stream so a sender can ask what became of a notice (`api.intake.status`).

mod forwarded;
mod ledger;
mod outcomes;
mod privacy;
pub mod retention;
mod status;
mod submit;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rcn_contracts::intake::{StatusReply, StatusRequest, SubmitReply};
use rcn_contracts::privacy_export::ExportRequest;
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{ReleaseNotice, Subjects};
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};
use rcn_runtime::provision::Resources;
use rcn_runtime::{CancellationToken, Config, Ctx, consumer};
use sqlx::PgPool;

pub use rcn_contracts::intake::MAX_NOTICE_BYTES;
pub use submit::{Intake, Submitter};

/// The service's migrations, for the launcher to run as the migration role before it starts.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How many submissions intake works on at once per instance.
const CONCURRENT_SUBMISSIONS: usize = 256;
/// How long a submission may take: JetStream's confirmation (5 s at most), then, for a resend
/// that raced its first copy, waiting for the first receipt in the ledger.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// What intake needs on JetStream, made by `rcn provision`: NOTICES, which it publishes to, and
/// its durable consumers (the receipt ledger on NOTICES, routing outcomes on ROUTING, forwarded
/// notices on FORWARDED), each with the dead-letter stream.
pub fn nats_resources(config: &Config) -> anyhow::Result<Resources> {
    Ok(Resources::new("intake")
        .retention(&config.retention)
        .stream(config.region.subjects().notices_stream())
        .consumer(ledger::spec(config))
        .consumer(outcomes::spec(config))
        .consumer(forwarded::spec(config)))
}

/// Runs intake until `shutdown`: the submit and status endpoints, the receipt ledger, the
/// routing outcomes and notices forwarded by other regions.
pub async fn run(ctx: Ctx, shutdown: CancellationToken) -> anyhow::Result<()> {
    let js = ctx.jetstream();
    let subjects = ctx.subjects();
    rcn_runtime::provision::require(&js, &nats_resources(&ctx.config)?).await?;
    let pool = ctx.database("intake", &MIGRATIONS).await?;
    let intake = Arc::new(Intake::new(&ctx, pool.clone())?);
    // The gateway's public key: an identity on a request counts only with its signature.
    let identities = ctx.config.identity_verifier()?.clone();

    let retention = tokio::spawn(
        rcn_runtime::retention::Job::new(
            "intake",
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
    let ledger = tokio::spawn(consumer::run(
        js.clone(),
        ledger::spec(&ctx.config),
        Arc::new(ledger::Ledger { pool: pool.clone() }),
        shutdown.clone(),
    ));
    let outcomes = tokio::spawn(consumer::run(
        js.clone(),
        outcomes::spec(&ctx.config),
        Arc::new(outcomes::Outcomes {
            pool: pool.clone(),
            subjects: subjects.clone(),
        }),
        shutdown.clone(),
    ));
    let forwarded = tokio::spawn(consumer::run(
        js.clone(),
        forwarded::spec(&ctx.config),
        Arc::new(forwarded::Forwarded {
            js: js.clone(),
            nats: ctx.nats.clone(),
            subjects: subjects.clone(),
            key: ctx.config.pseudonym_key()?.clone(),
        }),
        shutdown.clone(),
    ));

    service(&subjects, intake, pool, ctx.config.pseudonym_key()?.clone())
        .start(&ctx.nats, &identities)
        .await?
        .serve(shutdown.clone())
        .await?;
    ledger.await.context("receipt ledger task")?;
    outcomes.await.context("routing outcomes task")?;
    forwarded.await.context("forwarded notices task")?;
    retention.await.context("retention task")?;
    Ok(())
}

/// Intake's service on the endpoint kit (`$SRV.INFO.rcn-intake` lists it), five endpoints:
/// submitting and asking the status of a notice, each through the gateway (or a trusted
/// component) and for a partner on its own NATS account, whose subject says who it is; and the
/// deletion log for the privacy officer (`retention_log`, in the kit's envelope).
///
/// They answer in the published partner shapes `SubmitReply` and `StatusReply`, not in the
/// kit's envelope: partners program against those (`schemas/intake-*.v1.json`), and a new shape
/// would be a v2 with a transition. The handlers still return a receipt or a problem like any
/// endpoint; the contract maps that outcome onto the published shape (`rcn_contracts::intake`),
/// so decoding, who may call, time-outs, logging and the `$SRV` error counts are the kit's.
///
/// A fifth, `privacy-export`, is the privacy officer's (AVG art. 15; `privacy.rs`), a sixth
/// its deletion log (`retention_log`), and a seventh the privacy officer's "who saw this person"
/// (`privacy-accesses`: the privacy questions asked of intake about the person); all three in the
/// kit's envelope like every staff endpoint.
pub fn service(
    subjects: &Subjects,
    intake: Arc<Intake>,
    pool: PgPool,
    key: PseudonymKey,
) -> ServiceSpec {
    let (i1, i2, p1, p2, p3, p4, p5) = (
        intake.clone(),
        intake,
        pool.clone(),
        pool.clone(),
        pool.clone(),
        pool.clone(),
        pool,
    );
    let key = Arc::new(key);
    let key2 = key.clone();
    ServiceSpec::new(
        "rcn-intake",
        env!("CARGO_PKG_VERSION"),
        "rcn intake: accepts release notices",
    )
    .concurrency(CONCURRENT_SUBMISSIONS)
    .endpoint(
        Endpoint::shaped::<SubmitReply, _, _, _, _>(
            "submit",
            subjects.intake_submit(),
            Caller::PartnerOrService,
            move |r: Request<ReleaseNotice>| {
                let intake = i1.clone();
                async move { intake.submit(r).await }
            },
        )
        .timeout(SUBMIT_TIMEOUT),
    )
    .endpoint(
        Endpoint::shaped::<SubmitReply, _, _, _, _>(
            "submit-partner",
            subjects.intake_submit_any(),
            Caller::PartnerAccount,
            move |r: Request<ReleaseNotice>| {
                let intake = i2.clone();
                async move { intake.submit(r).await }
            },
        )
        .timeout(SUBMIT_TIMEOUT),
    )
    .endpoint(Endpoint::shaped::<StatusReply, _, _, _, _>(
        "status",
        subjects.intake_status(),
        Caller::Partner,
        move |r: Request<StatusRequest>| {
            let pool = p1.clone();
            async move { status::of_request(&pool, &r).await }
        },
    ))
    .endpoint(Endpoint::shaped::<StatusReply, _, _, _, _>(
        "status-partner",
        subjects.intake_status_any(),
        Caller::PartnerAccount,
        move |r: Request<StatusRequest>| {
            let pool = p2.clone();
            async move { status::of_request(&pool, &r).await }
        },
    ))
    .endpoint(Endpoint::new(
        "privacy-export",
        subjects.intake_privacy_export(),
        Caller::Person,
        move |r: Request<ExportRequest>| {
            let (pool, key) = (p4.clone(), key.clone());
            async move { privacy::export(&pool, &key, r.person()?, &r.body).await }
        },
    ))
    .endpoint(Endpoint::new(
        "privacy-accesses",
        subjects.intake_api(rcn_contracts::privacy_api::WHO_SAW_VERB),
        Caller::Person,
        move |r: Request<rcn_contracts::privacy_api::WhoSawRequest>| {
            let (pool, key) = (p5.clone(), key2.clone());
            async move { privacy::who_saw(&pool, &key, r.person()?, &r.body.bsn).await }
        },
    ))
    .endpoint(rcn_runtime::retention::log_endpoint(
        "intake",
        subjects.intake_api(rcn_contracts::retention::RETENTION_LOG_VERB),
        p3,
    ))
}

/// Intake's retention job (`rcn retention`), on a pool of its own.
pub fn retention_job(
    config: &Config,
) -> futures::future::BoxFuture<'_, anyhow::Result<rcn_runtime::retention::Job>> {
    Box::pin(rcn_runtime::retention::open_job_asking_casework(
        config,
        "intake",
        &MIGRATIONS,
        retention::rules(),
    ))
}
