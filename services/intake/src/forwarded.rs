//! Notices another rcn region forwarded here (`rcn.<region>.intake.forwarded`, stream FORWARDED):
//! accepted into this region's NOTICES like a partner's notice (pseudonyms made with this
//! region's key, `Nats-Msg-Id` = notice key, marked `forwarded_from`), then acknowledged to the
//! sending region, which shows the forward as open until then.
//!
//! Publishing comes first and is idempotent (the notice key), so a crash between publishing and
//! acknowledging only means the notice is offered again and acknowledged then. An acknowledgement
//! the sending region cannot take now is retried without limit: that region may be down for a
//! while, and the notice is already safe here.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use chrono::{SubsecRound, Utc};
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::events::NoticeAccepted;
use rcn_contracts::forwarding::NoticeForwarded;
use rcn_contracts::pseudonym::PseudonymKey;
use rcn_contracts::routing_api::{ForwardedAckReply, ForwardedAckRequest};
use rcn_contracts::{Region, SCHEMA_VERSION, Subjects};
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use rcn_runtime::{Config, headers};

/// How long the sending region gets to answer an acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

pub fn spec(config: &Config) -> ConsumerSpec {
    let s = config.region.subjects();
    let mut spec = ConsumerSpec::new(
        &s,
        s.forwarded_stream(),
        "intake-forwarded",
        s.intake_forwarded(),
        "intake",
    );
    spec.batch = 16;
    spec.workers = 1;
    spec
}

/// Accepts forwarded notices and acknowledges them.
pub struct Forwarded {
    pub js: jetstream::Context,
    pub nats: async_nats::Client,
    pub subjects: Subjects,
    pub key: PseudonymKey,
}

impl std::fmt::Debug for Forwarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Forwarded")
    }
}

impl Handler for Forwarded {
    type Message = NoticeForwarded;

    async fn handle(&self, batch: &[Delivery<NoticeForwarded>]) -> Result<(), HandlerError> {
        for d in batch {
            self.accept(d).await?;
        }
        Ok(())
    }
}

impl Forwarded {
    async fn accept(&self, d: &Delivery<NoticeForwarded>) -> Result<(), HandlerError> {
        let f = &d.message;
        let from = Region::parse(&f.from_region).map_err(|e| {
            HandlerError::Permanent(anyhow::anyhow!("the forward names no valid region: {e}"))
        })?;
        let notice = &f.accepted.notice;
        let accepted = NoticeAccepted {
            schema_version: SCHEMA_VERSION,
            notice_key: f.accepted.notice_key.clone(),
            received_at: Utc::now().trunc_subsecs(6),
            person_key: self.key.person_key(&notice.person.bsn),
            episode_key: self
                .key
                .episode_key(&notice.person.bsn, notice.detention.started_on),
            notice: notice.clone(),
            forwarded_from: Some(from.as_str().to_owned()),
        };
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, accepted.notice_key.as_str());
        d.trace.insert_into(&mut h);
        let payload =
            serde_json::to_vec(&accepted).map_err(|e| HandlerError::Permanent(e.into()))?;
        let unavailable = |e: String| {
            HandlerError::Unavailable(anyhow::anyhow!("storing a forwarded notice: {e}"))
        };
        let ack = self
            .js
            .publish_with_headers(self.subjects.notice_accepted(), h, payload.into())
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        ack.await.map_err(|e| unavailable(e.to_string()))?;

        let request = ForwardedAckRequest {
            notice_key: accepted.notice_key.clone(),
            region: self.subjects.region().as_str().to_owned(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| HandlerError::Permanent(e.into()))?;
        let ask = async_nats::Request::new()
            .payload(body.into())
            .timeout(Some(ACK_TIMEOUT));
        let reply = self
            .nats
            .send_request(from.subjects().router_forwarded_ack(), ask)
            .await
            .map_err(|e| {
                HandlerError::Unavailable(anyhow::anyhow!(
                    "region {from} cannot take the acknowledgement now: {e}"
                ))
            })?;
        match serde_json::from_slice::<ApiReply<ForwardedAckReply>>(&reply.payload) {
            Ok(ApiReply::Ok(
                ForwardedAckReply::Acknowledged { .. }
                | ForwardedAckReply::AlreadyAcknowledged { .. },
            )) => {
                tracing::info!(notice_key = %accepted.notice_key, from = %from, "forwarded notice accepted and acknowledged");
            }
            Ok(other) => {
                // The notice is ours now either way; the sending RCN sees the forward stay open.
                tracing::warn!(notice_key = %accepted.notice_key, from = %from, reply = ?other, "the sending region refused the acknowledgement");
            }
            Err(e) => {
                tracing::warn!(notice_key = %accepted.notice_key, from = %from, error = %e, "unreadable acknowledgement reply")
            }
        }
        Ok(())
    }
}
