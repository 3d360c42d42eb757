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
use rcn_runtime::{CancellationToken, Ctx, consumer};

pub use submit::{Caller, Intake, MAX_NOTICE_BYTES};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How many submissions intake works on at once per instance.
const CONCURRENT_SUBMISSIONS: usize = 256;

/// Runs intake until `shutdown`: the submit and status endpoints, the receipt ledger, the
/// routing outcomes and notices forwarded by other regions.
pub async fn run(ctx: Ctx, shutdown: CancellationToken) -> anyhow::Result<()> {
    let js = ctx.jetstream();
    let subjects = ctx.subjects();
    rcn_runtime::nats::ensure_stream(&js, &subjects.notices_stream()).await?;
    let pool = ctx.database("intake", &MIGRATIONS).await?;
    let intake = Arc::new(Intake::new(&ctx, pool.clone())?);
    // The gateway's public key: an identity on a request counts only with its signature.
    let identities = ctx.config.identity_verifier()?.clone();

    let ledger = tokio::spawn(consumer::run(
        js.clone(),
        ledger::spec(&ctx),
        Arc::new(ledger::Ledger { pool: pool.clone() }),
        shutdown.clone(),
    ));
    rcn_runtime::nats::ensure_stream(&js, &subjects.routing_stream()).await?;
    let outcomes = tokio::spawn(consumer::run(
        js.clone(),
        outcomes::spec(&ctx),
        Arc::new(outcomes::Outcomes {
            pool: pool.clone(),
            subjects: subjects.clone(),
        }),
        shutdown.clone(),
    ));
    let forwarded = tokio::spawn(consumer::run(
        js.clone(),
        forwarded::spec(&ctx),
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
            let (intake, pool, submit_prefix, status_prefix, identities) = (
                intake.clone(),
                pool.clone(),
                submit_prefix.clone(),
                status_prefix.clone(),
                identities.clone(),
            );
            async move {
                let m = &request.message;
                let identity = || {
                    rcn_runtime::endpoint::verified_identity(
                        &identities,
                        m.subject.as_str(),
                        m.headers.as_ref(),
                        &m.payload,
                    )
                    .map_err(|problem| format!("{}; nothing was kept or read", problem.detail))
                };
                let body = match verb {
                    Verb::Submit => serde_json::to_vec(&match identity() {
                        Ok(identity) => {
                            intake
                                .submit(identity, &m.payload, m.headers.as_ref())
                                .await
                        }
                        Err(message) => rcn_contracts::intake::SubmitReply::Forbidden { message },
                    }),
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
                    Verb::Status => serde_json::to_vec(&match identity() {
                        Ok(identity) => status::answer(&pool, identity, &m.payload).await,
                        Err(message) => rcn_contracts::intake::StatusReply::Refused { message },
                    }),
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
