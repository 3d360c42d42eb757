//! intake — accepts release notices from detention institutions over NATS request-reply
//! (`rcn.<region>.intake.submit`), validates them, and publishes each accepted notice to the
//! NOTICES stream with `Nats-Msg-Id` = its notice key, so a resent notice is accepted once.
//!
//! The sender learns at once, in words, what was wrong, or gets a receipt. Accepted means the
//! notice is stored in JetStream (the PubAck came back): nothing is acknowledged to the sender
//! before that. Intake also keeps a ledger of receipts in its own schema, so a resend gets its
//! original receipt back. It must never log a BSN, and never accept what it cannot keep.

mod ledger;
mod submit;

use std::sync::Arc;

use anyhow::Context as _;
use futures::StreamExt;
use rcn_runtime::{CancellationToken, Ctx, consumer};

pub use submit::Intake;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How many submissions intake works on at once per instance.
const CONCURRENT_SUBMISSIONS: usize = 256;

/// Runs intake until `shutdown`: the submit endpoint and the receipt ledger.
pub async fn run(ctx: Ctx, shutdown: CancellationToken) -> anyhow::Result<()> {
    let js = ctx.jetstream();
    let subjects = ctx.subjects();
    rcn_runtime::nats::ensure_stream(&js, &subjects.notices_stream()).await?;
    let pool = ctx.database("intake", &MIGRATIONS).await?;
    let intake = Arc::new(Intake::new(&ctx, pool.clone())?);

    let ledger = tokio::spawn(consumer::run(
        js.clone(),
        ledger::spec(&ctx),
        Arc::new(ledger::Ledger { pool }),
        shutdown.clone(),
    ));

    use async_nats::service::ServiceExt;
    let service = ctx
        .nats
        .service_builder()
        .description("rcn intake: accepts release notices")
        .start("rcn-intake", env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the intake NATS service: {e}"))?;
    let endpoint = service
        .endpoint_builder()
        .name("submit")
        .add(subjects.intake_submit())
        .await
        .map_err(|e| anyhow::anyhow!("cannot add the submit endpoint: {e}"))?;
    tracing::info!(subject = %subjects.intake_submit(), "intake listening");

    let requests = endpoint.take_until(shutdown.clone().cancelled_owned());
    requests
        .for_each_concurrent(CONCURRENT_SUBMISSIONS, |request| {
            let intake = intake.clone();
            async move {
                let reply = intake.submit(&request.message.payload, request.message.headers.as_ref()).await;
                let body = serde_json::to_vec(&reply).expect("a reply serialises");
                if let Err(e) = request.respond(Ok(body.into())).await {
                    tracing::warn!(error = %e, "could not answer a submission");
                }
            }
        })
        .await;
    service.stop().await.map_err(|e| anyhow::anyhow!("stopping the intake service: {e}"))?;
    ledger.await.context("receipt ledger task")?;
    Ok(())
}
