//! The router's consumer: one decision per accepted notice, recorded with its rule, inputs and
//! reason, and announced on ROUTING in the same transaction (outbox).
//!
//! The address register is asked before the transaction opens, for the whole batch at once, so
//! no transaction (and no pooled connection) is held while waiting on HTTP. An unroutable
//! notice keeps its accepted payload for the manual queue; an out-of-region notice whose region
//! is known is forwarded there in the same transaction.

use std::collections::HashSet;

use chrono::Utc;
use futures::StreamExt;
use rcn_contracts::events::{
    NoticeAccepted, NoticeRouted, RoutingOutcome, RoutingOutcomeKind, RoutingRule,
};
use rcn_contracts::region::RegionTable;
use rcn_contracts::{SCHEMA_VERSION, Subjects};
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use rcn_runtime::{Config, outbox};
use sqlx::PgPool;
use uuid::Uuid;

use crate::address_register::{AddressRegister, Lookup};
use crate::{forwarding, rules};

/// Look-ups in flight at once per batch: enough to hide latency, few enough to be polite.
const CONCURRENT_LOOKUPS: usize = 8;

pub fn spec(config: &Config) -> ConsumerSpec {
    let s = config.region.subjects();
    let mut spec = ConsumerSpec::new(
        &s,
        s.notices_stream(),
        "router",
        s.notice_accepted(),
        "router",
    );
    spec.batch = config.consumer_batch;
    spec.workers = config.consumer_workers;
    spec
}

pub struct Router {
    pub pool: PgPool,
    pub region: RegionTable,
    pub subjects: Subjects,
    /// Rule 2's address register; `None` when not configured (decisions then say so).
    pub register: Option<AddressRegister>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("region", &self.region.name)
            .finish_non_exhaustive()
    }
}

impl Handler for Router {
    type Message = NoticeAccepted;

    async fn handle(&self, batch: &[Delivery<NoticeAccepted>]) -> Result<(), HandlerError> {
        // A redelivered notice was decided already: do not ask the register about it again.
        let keys: Vec<&str> = batch
            .iter()
            .map(|d| d.message.notice_key.as_str())
            .collect();
        let decided: HashSet<String> = sqlx::query_scalar!(
            "SELECT notice_key FROM decisions WHERE notice_key = ANY($1)",
            &keys as &[&str],
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let pending: Vec<_> = batch
            .iter()
            .map(|d| self.look_up(&d.message, &decided))
            .collect();
        let lookups: Vec<Option<Lookup>> = futures::stream::iter(pending)
            .buffered(CONCURRENT_LOOKUPS)
            .collect()
            .await;

        let mut tx = self.pool.begin().await?;
        for (d, lookup) in batch.iter().zip(&lookups) {
            let accepted = &d.message;
            if decided.contains(&accepted.notice_key) {
                continue;
            }
            let decision = rules::decide_with_lookup(
                &self.region,
                &accepted.notice,
                lookup.as_ref().map(|l| &l.result),
            );
            let (outcome, gemeentecode, subject) = match &decision.outcome {
                RoutingOutcome::Routed { gemeentecode } => (
                    RoutingOutcomeKind::Routed,
                    Some(gemeentecode),
                    self.subjects.routed(gemeentecode),
                ),
                RoutingOutcome::OutOfRegion { gemeentecode } => (
                    RoutingOutcomeKind::OutOfRegion,
                    Some(gemeentecode),
                    self.subjects.out_of_region(gemeentecode),
                ),
                RoutingOutcome::Unroutable => (
                    RoutingOutcomeKind::Unroutable,
                    None,
                    self.subjects.unroutable(),
                ),
            };
            // Only a notice waiting for a person keeps its payload: the manual decision announces it.
            let kept = matches!(decision.outcome, RoutingOutcome::Unroutable)
                .then(|| sqlx::types::Json(accepted));
            let decided_at = Utc::now();
            // The notice key makes this idempotent: a redelivered notice finds its decision and
            // produces no second event.
            let inserted = sqlx::query!(
                "INSERT INTO decisions (notice_key, episode_key, outcome, gemeentecode, rule, reason, ambiguous,
                                        inputs, decided_at, received_at, notice, release_on, person_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (notice_key) DO NOTHING",
                accepted.notice_key,
                accepted.episode_key,
                outcome as RoutingOutcomeKind,
                gemeentecode.map(|g| g.as_str()),
                decision.rule as RoutingRule,
                decision.reason,
                decision.ambiguous,
                sqlx::types::Json(inputs(accepted, lookup.as_ref())) as _,
                decided_at,
                accepted.received_at,
                kept as _,
                // The retention clock of the decision (`retention.rs`).
                accepted.notice.detention.expected_release_on,
                // How the privacy officer's export finds the person's decisions (`privacy.rs`).
                accepted.person_key,
            )
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !inserted {
                continue;
            }
            let event = NoticeRouted {
                schema_version: SCHEMA_VERSION,
                event_id: Uuid::now_v7(),
                notice_key: accepted.notice_key.clone(),
                person_key: accepted.person_key.clone(),
                episode_key: accepted.episode_key.clone(),
                outcome: decision.outcome.clone(),
                rule: decision.rule,
                reason: decision.reason.clone(),
                ambiguous: decision.ambiguous,
                decided_at,
                received_at: accepted.received_at,
                notice: accepted.notice.clone(),
            };
            outbox::enqueue(
                &mut tx,
                outbox::Event {
                    event_id: event.event_id,
                    subject,
                    payload: &event,
                    trace: Some(&d.trace),
                },
            )
            .await?;
            let mut forwarded_to = None;
            // A notice another region forwarded here is never forwarded again: two regions that
            // disagree would bounce it forever. It stays visible here as out of region.
            if let RoutingOutcome::OutOfRegion { gemeentecode } = &decision.outcome
                && accepted.forwarded_from.is_none()
                && let Some(target) = forwarding::target_of(&self.region, gemeentecode)
            {
                forwarded_to = Some(target.as_str().to_owned());
                let forward = forwarding::Forward {
                    from: &self.subjects,
                    target,
                    gemeentecode,
                    rule: decision.rule,
                    reason: &decision.reason,
                    accepted,
                    at: decided_at,
                    trace: Some(&d.trace),
                };
                forwarding::enqueue(&mut tx, forward).await?;
            }
            tracing::info!(notice_key = %accepted.notice_key, trace_id = %d.trace.trace_id(), outcome = outcome.as_str(),
                gemeentecode = gemeentecode.map(|g| g.as_str()), rule = decision.rule.as_str(),
                forwarded_to = forwarded_to.as_deref(), "notice routed");
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Router {
    /// Asks the register about the notice's address when rule 2 can matter (`None`: not asked).
    async fn look_up(
        &self,
        accepted: &NoticeAccepted,
        decided: &HashSet<String>,
    ) -> Option<Lookup> {
        if decided.contains(&accepted.notice_key) {
            return None;
        }
        let address = rules::address_to_look_up(&accepted.notice)?;
        Some(match &self.register {
            Some(register) => register.look_up(address).await,
            None => Lookup::not_configured(),
        })
    }
}

/// The inputs the rules looked at, kept with the decision so it can be explained later. No BSN,
/// no name, and the PC4 rather than the full postcode (with the house number that would be the
/// address, kept here long after the notice): enough to explain rule 3, while rule 2 is explained
/// by what the address register answered (`null`: not asked, because a BRP registration decides
/// or there is no address).
fn inputs(accepted: &NoticeAccepted, lookup: Option<&Lookup>) -> serde_json::Value {
    let p = &accepted.notice.person;
    let a = p.address.as_ref();
    serde_json::json!({
        "brp_municipality": p.brp_municipality,
        "pc4": a.map(|a| a.postcode.pc4()),
        "house_number": a.map(|a| a.house_number),
        "no_fixed_abode": p.no_fixed_abode,
        "notice_kind": accepted.notice.kind.as_str(),
        "address_register": lookup.map(Lookup::to_input),
    })
}
