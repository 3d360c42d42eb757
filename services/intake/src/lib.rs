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
mod status;
mod submit;

use std::sync::Arc;

use anyhow::Context as _;
use futures::StreamExt;
use rcn_runtime::provision::Resources;
use rcn_runtime::{CancellationToken, Config, Ctx, consumer};

pub use submit::{Caller, Intake, MAX_NOTICE_BYTES};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How many submissions intake works on at once per instance.
const CONCURRENT_SUBMISSIONS: usize = 256;

/// What intake needs on JetStream, made by `rcn provision`: NOTICES, which it publishes to, and
/// its durable consumers (the receipt ledger on NOTICES, routing outcomes on ROUTING, forwarded
/// notices on FORWARDED), each with the dead-letter stream.
pub fn nats_resources(config: &Config) -> anyhow::Result<Resources> {
    Ok(Resources::new("intake")
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

    use async_nats::service::ServiceExt;
    let service = ctx
        .nats
        .service_builder()
        .description("rcn intake: accepts release notices")
        .start("rcn-intake", env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the intake NATS service: {e}"))?;
    let add = |name: &'static str, subject: String| {
        let service = &service;
        async move {
            service
                .endpoint_builder()
                .name(name)
                .add(subject)
                .await
                .map_err(|e| anyhow::anyhow!("cannot add the {name} endpoint: {e}"))
        }
    };
    let submit = add("submit", subjects.intake_submit()).await?;
    let submit_partner = add("submit-partner", subjects.intake_submit_any()).await?;
    let status = add("status", subjects.intake_status()).await?;
    let status_partner = add("status-partner", subjects.intake_status_any()).await?;
    tracing::info!(subject = %subjects.intake_submit(), "intake listening");

    let submit_prefix = format!("{}.", subjects.intake_submit());
    let status_prefix = format!("{}.", subjects.intake_status_for("").trim_end_matches('.'));
    let requests = futures::stream::select_all([
        submit.map(|r| (Verb::Submit, r)).boxed(),
        submit_partner.map(|r| (Verb::SubmitPartner, r)).boxed(),
        status.map(|r| (Verb::Status, r)).boxed(),
        status_partner.map(|r| (Verb::StatusPartner, r)).boxed(),
    ])
    .take_until(shutdown.clone().cancelled_owned());
    requests
        .for_each_concurrent(CONCURRENT_SUBMISSIONS, |(verb, request)| {
            let (intake, pool, submit_prefix, status_prefix) = (
                intake.clone(),
                pool.clone(),
                submit_prefix.clone(),
                status_prefix.clone(),
            );
            async move {
                let m = &request.message;
                // A reply to anything but an inbox would publish in intake's name (see
                // `endpoint::is_inbox`): refused, and not carried out.
                if m.reply.as_deref().is_some_and(|r| !rcn_runtime::endpoint::is_inbox(r)) {
                    tracing::warn!(?verb, outcome = "reply-subject-not-an-inbox",
                        "a request whose reply subject is not an inbox was refused and not carried out");
                    return;
                }
                let body = match verb {
                    Verb::Submit => {
                        serde_json::to_vec(&intake.submit(&m.payload, m.headers.as_ref()).await)
                    }
                    Verb::SubmitPartner => {
                        // The NATS account may publish only on its own subject: the subject says who.
                        let code = m
                            .subject
                            .as_str()
                            .strip_prefix(submit_prefix.as_str())
                            .unwrap_or_default();
                        let reply = match rcn_contracts::intake::check_institution_code(code) {
                            Ok(()) => {
                                let caller =
                                    Caller::Partner(rcn_contracts::intake::PartnerIdentity {
                                        institution_code: code.to_owned(),
                                        credential: format!("nats:{code}"),
                                    });
                                intake
                                    .submit_as(&caller, &m.payload, m.headers.as_ref())
                                    .await
                            }
                            Err(_) => rcn_contracts::intake::SubmitReply::Forbidden {
                                message:
                                    "the submit subject does not name a valid institution code"
                                        .into(),
                            },
                        };
                        serde_json::to_vec(&reply)
                    }
                    Verb::Status => serde_json::to_vec(
                        &status::answer(&pool, &m.payload, m.headers.as_ref()).await,
                    ),
                    Verb::StatusPartner => {
                        // As with submitting: the subject, which only that account may use, says who.
                        let code = m
                            .subject
                            .as_str()
                            .strip_prefix(status_prefix.as_str())
                            .unwrap_or_default();
                        serde_json::to_vec(&status::answer_partner(&pool, code, &m.payload).await)
                    }
                };
                let body = body.expect("a reply serialises");
                if let Err(e) = request.respond(Ok(body.into())).await {
                    tracing::warn!(error = %e, "could not answer a request");
                }
            }
        })
        .await;
    service
        .stop()
        .await
        .map_err(|e| anyhow::anyhow!("stopping the intake service: {e}"))?;
    ledger.await.context("receipt ledger task")?;
    outcomes.await.context("routing outcomes task")?;
    forwarded.await.context("forwarded notices task")?;
    Ok(())
}

/// Which endpoint a request came in on.
#[derive(Debug, Clone, Copy)]
enum Verb {
    Submit,
    SubmitPartner,
    StatusPartner,
    Status,
}
