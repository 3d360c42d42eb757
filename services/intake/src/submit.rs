//! One submission: parse, validate, look for an earlier receipt, publish, answer.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use chrono::{SubsecRound, Utc};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::NoticeAccepted;
use rcn_contracts::intake::{
    self, DEFAULT_RETRY_AFTER_SECONDS, PartnerIdentity, Receipt, ReceiptStatus,
};
use rcn_contracts::notice::Problem;
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::{ReleaseNotice, SCHEMA_VERSION, Subjects};
use rcn_runtime::backoff;
use rcn_runtime::endpoint::Request;
use rcn_runtime::{Ctx, headers};
use sqlx::PgPool;

use crate::ledger;

/// How long intake waits for JetStream to confirm a notice is stored.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a submission waits for the receipt ledger. PostgreSQL being down must not hold up
/// acceptance (JetStream's de-duplication still recognises a resend), and a pool waiting for a
/// server that is gone would otherwise take its full acquire timeout.
const LEDGER_TIMEOUT: Duration = Duration::from_millis(500);

/// Who submits, as far as intake can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitter {
    /// An institution: authenticated by the gateway (API token, `Rcn-Identity` header) or by NATS
    /// (its account may publish only on its own `intake.submit.<institution_code>`). It may send
    /// only notices that name it as their sender.
    Partner(PartnerIdentity),
    /// A trusted component on the plain `intake.submit` subject without an identity (the
    /// launcher's demo feed, the benchmark, tests). In production the NATS permissions allow only
    /// the gateway and the services to publish there.
    Internal,
}

impl Submitter {
    /// The submitter of a request as the endpoint kit read it: the partner it names, or a
    /// trusted component when it names none.
    pub fn of<T>(request: &Request<T>) -> Self {
        request
            .partner
            .clone()
            .map_or(Submitter::Internal, Submitter::Partner)
    }
}

/// The submission logic of one intake instance.
pub struct Intake {
    js: jetstream::Context,
    subjects: Subjects,
    key: PseudonymKey,
    pool: PgPool,
}

impl Intake {
    pub fn new(ctx: &Ctx, pool: PgPool) -> anyhow::Result<Self> {
        Ok(Self {
            js: ctx.jetstream(),
            subjects: ctx.subjects(),
            key: ctx.config.pseudonym_key()?.clone(),
            pool,
        })
    }

    /// Handles one submitted notice and says what became of it: the receipt, or why nothing
    /// was kept.
    pub async fn submit(&self, request: Request<ReleaseNotice>) -> Result<Receipt, ApiProblem> {
        let caller = Submitter::of(&request);
        let notice = request.body;
        // Defence in depth: the gateway checked this already; a partner on NATS is checked here.
        if let Submitter::Partner(identity) = &caller
            && identity.institution_code != notice.sender.institution_code
        {
            tracing::warn!(credential = %identity.credential, "a partner sent a notice in another institution's name");
            return Err(ApiProblem::forbidden(format!(
                "you are authenticated as institution {}, but sender.institution_code names another institution; \
                 an institution may only send its own notices",
                identity.institution_code
            )));
        }
        let today = Utc::now()
            .with_timezone(&chrono_tz::Europe::Amsterdam)
            .date_naive();
        let problems = notice.problems(today);
        if !problems.is_empty() {
            return Err(ApiProblem::invalid(problems));
        }
        let notice_key = notice.notice_key();
        let fingerprint = notice.fingerprint();

        // A resend gets its original receipt; the same id with other content is refused. When
        // the ledger is unreachable, JetStream's duplicate window still makes a resend harmless.
        match tokio::time::timeout(LEDGER_TIMEOUT, ledger::find(&self.pool, &notice_key)).await {
            Ok(Ok(Some(earlier))) => return earlier_receipt(&notice, &fingerprint, &earlier),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "receipt ledger unavailable; relying on JetStream de-duplication")
            }
            Err(_) => {
                tracing::warn!("receipt ledger too slow; relying on JetStream de-duplication")
            }
        }

        // Microseconds: what PostgreSQL keeps, so the ledger returns exactly this receipt later.
        let received_at = Utc::now().trunc_subsecs(6);
        let trace = &request.trace;
        let trace_id = trace.trace_id();
        let event = NoticeAccepted {
            schema_version: SCHEMA_VERSION,
            notice_key: notice_key.clone(),
            received_at,
            person_key: self.key.person_key(&notice.person.bsn),
            episode_key: self
                .key
                .episode_key(&notice.person.bsn, notice.detention.started_on),
            notice: notice.clone(),
            forwarded_from: None,
        };
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, notice_key.as_str());
        trace.insert_into(&mut h);
        let payload = serde_json::to_vec(&event).expect("an event serialises");
        match self.publish(h, payload).await {
            Ok(false) => {
                tracing::info!(%notice_key, %trace_id, kind = notice.kind.as_str(), "notice accepted");
                accepted(&notice, received_at, ReceiptStatus::Accepted)
            }
            Ok(true) => {
                // Sent again before the ledger caught up with the first one: JetStream kept only
                // the first. Its receipt is moments away in the ledger.
                match self.wait_for_receipt(&notice_key).await {
                    Some(earlier) => earlier_receipt(&notice, &fingerprint, &earlier),
                    None => accepted(&notice, received_at, ReceiptStatus::AlreadyReceived),
                }
            }
            Err(e) => {
                tracing::error!(%notice_key, error = %e, "could not store notice");
                Err(intake::unavailable(
                    "the notice could not be stored right now; send it again later with the same notice_id",
                    DEFAULT_RETRY_AFTER_SECONDS,
                ))
            }
        }
    }

    /// The receipt of a resend's first copy, which the ledger is about to record: looked for
    /// as the back-off policy's short poll says; `None` when it does not come or the ledger is
    /// down (the sender then gets "already received" without the original time).
    async fn wait_for_receipt(&self, notice_key: &str) -> Option<ledger::Entry> {
        let mut pauses = backoff::SHORT_POLL.delays();
        loop {
            match tokio::time::timeout(LEDGER_TIMEOUT, ledger::find(&self.pool, notice_key)).await {
                Ok(Ok(Some(entry))) => return Some(entry),
                Ok(Ok(None)) => {}
                Ok(Err(_)) | Err(_) => return None,
            }
            tokio::time::sleep(pauses.next()?).await;
        }
    }

    /// Publishes and waits for the PubAck; returns whether JetStream saw it as a duplicate.
    async fn publish(&self, h: HeaderMap, payload: Vec<u8>) -> anyhow::Result<bool> {
        let subject = self.subjects.notice_accepted();
        let ack = tokio::time::timeout(PUBLISH_TIMEOUT, async {
            let future = self
                .js
                .publish_with_headers(subject, h, payload.into())
                .await?;
            anyhow::Ok(future.await?)
        })
        .await
        .map_err(|_| anyhow::anyhow!("JetStream did not confirm within {PUBLISH_TIMEOUT:?}"))??;
        Ok(ack.duplicate)
    }
}

fn accepted(
    notice: &ReleaseNotice,
    received_at: chrono::DateTime<Utc>,
    status: ReceiptStatus,
) -> Result<Receipt, ApiProblem> {
    Ok(Receipt {
        notice_id: notice.notice_id.clone(),
        received_at,
        status,
    })
}

/// The answer to a notice whose id was accepted before: its original receipt when the content is
/// the same, a refusal when it is not (a change must come as a new notice).
fn earlier_receipt(
    notice: &ReleaseNotice,
    fingerprint: &str,
    earlier: &ledger::Entry,
) -> Result<Receipt, ApiProblem> {
    if earlier.fingerprint == fingerprint {
        accepted(notice, earlier.received_at, ReceiptStatus::AlreadyReceived)
    } else {
        Err(intake::conflict(vec![Problem::new(
            "notice_id",
            "a different notice was already accepted under this notice_id; send changes as a new notice with its own notice_id",
        )]))
    }
}
