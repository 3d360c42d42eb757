//! The router's request-reply API, declared on the endpoint kit (`rcn_runtime::endpoint`, so
//! `$SRV.INFO.rcn-router` lists it): the manual routing queue on
//! `rcn.<region>.api.router.queue.{list,decide}`, the forwards to other regions on
//! `rcn.<region>.api.router.forwarded.{list,ack}`, and the decisions about named notices on
//! `rcn.<region>.api.router.decisions`. Replies are `rcn_contracts::routing_api`'s, in the kit's
//! envelope.
//!
//! Who may call:
//! - the queue and the list of forwards are the RCN's: the caller (the `Rcn-Identity` header the
//!   gateway sets) must be an RCN coordinator, and a decision is recorded in the caller's own
//!   name;
//! - the acknowledgement of a forward comes from the receiving region's intake
//!   (`services/intake/src/forwarded.rs`), a service, not a person: NATS permissions let only
//!   intake publish on that subject (`deploy/nats/accounts.conf`), a request carrying a person's
//!   identity is refused, and the body's region must be the one the notice was forwarded to;
//! - the decisions about notices are for the staff of the municipality their episode was routed
//!   to, the RCN and procesregie ([`crate::notice_decisions`] decides per notice);
//! - the export and "who saw this person" (`rcn.<region>.api.router.privacy_accesses`) are the
//!   privacy officer's ([`crate::privacy`]).

use std::sync::Arc;

use rcn_contracts::Subjects;
use rcn_contracts::envelope::{ApiProblem, NoParameters};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::routing_api::{
    DecisionsRequest, ForwardedAckRequest, QueueDecideRequest, QueueListRequest,
};
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};

use rcn_contracts::privacy_api::{WHO_SAW_VERB, WhoSawRequest};
use rcn_contracts::privacy_export::ExportRequest;

use crate::privacy::Privacy;
use crate::queue::Queue;
use crate::{forwarding, notice_decisions};

/// The router's service with its eight endpoints: the manual queue and forwards, the routing
/// decisions of a case's notices, the privacy officer's export of the decisions about one person
/// and "who saw this person" (`privacy.rs`, from the access log `access.rs` keeps), and its
/// deletion log (privacy officer and administrator); start it with `.start(&nats, &identities)`.
pub fn service(subjects: &Subjects, queue: Arc<Queue>, privacy: Arc<Privacy>) -> ServiceSpec {
    let log_pool = queue.pool.clone();
    let (q1, q2, q3, q4, q5) = (
        queue.clone(),
        queue.clone(),
        queue.clone(),
        queue.clone(),
        queue,
    );
    let own = subjects.clone();
    let (p1, p2) = (privacy.clone(), privacy);
    ServiceSpec::new(
        "rcn-router",
        env!("CARGO_PKG_VERSION"),
        "rcn router: the manual routing queue, the forwards to other regions, and why each notice went where it went",
    )
    .endpoint(Endpoint::new(
        "queue-list",
        subjects.router_queue_list(),
        Caller::Person,
        move |r: Request<QueueListRequest>| {
            let queue = q1.clone();
            async move { queue.list(coordinator(&r)?, &r.body).await }
        },
    ))
    .endpoint(Endpoint::new(
        "queue-decide",
        subjects.router_queue_decide(),
        Caller::Person,
        move |r: Request<QueueDecideRequest>| {
            let queue = q2.clone();
            async move {
                let who = coordinator(&r)?;
                if r.body.decided_by != who.user_id {
                    return Err(ApiProblem::forbidden(
                        "a decision is recorded in the name of the coordinator who sends it; decided_by must be your own user id",
                    ));
                }
                queue.decide(who, &r.body, Some(&r.trace)).await
            }
        },
    ))
    .endpoint(Endpoint::new(
        "forwarded-list",
        subjects.router_forwarded_list(),
        Caller::Person,
        move |r: Request<NoParameters>| {
            let queue = q3.clone();
            async move {
                coordinator(&r)?;
                forwarding::unacknowledged(&queue.pool).await
            }
        },
    ))
    .endpoint(Endpoint::new(
        "forwarded-ack",
        subjects.router_forwarded_ack(),
        Caller::Service,
        move |r: Request<ForwardedAckRequest>| {
            let (queue, own) = (q4.clone(), own.clone());
            async move { forwarding::acknowledge(&queue.pool, &own, &r.body).await }
        },
    ))
    .endpoint(Endpoint::new(
        "decisions",
        subjects.router_decisions(),
        Caller::Person,
        move |r: Request<DecisionsRequest>| {
            let queue = q5.clone();
            async move { notice_decisions::decisions(&queue.pool, r.person()?, &r.body).await }
        },
    ))
    .endpoint(Endpoint::new(
        "privacy-export",
        subjects.router_privacy_export(),
        Caller::Person,
        move |r: Request<ExportRequest>| {
            let privacy = p1.clone();
            async move { privacy.export(r.person()?, &r.body).await }
        },
    ))
    .endpoint(Endpoint::new(
        "privacy-accesses",
        subjects.router_api(WHO_SAW_VERB),
        Caller::Person,
        move |r: Request<WhoSawRequest>| {
            let privacy = p2.clone();
            async move { privacy.who_saw(r.person()?, &r.body.bsn).await }
        },
    ))
    .endpoint(rcn_runtime::retention::log_endpoint(
        "router",
        subjects.router_api(rcn_contracts::retention::RETENTION_LOG_VERB),
        log_pool,
    ))
}

/// The caller, when it is an RCN coordinator.
fn coordinator<T>(r: &Request<T>) -> Result<&Identity, ApiProblem> {
    let who = r.person()?;
    if who.role != Role::RcnCoordinator {
        return Err(ApiProblem::forbidden(
            "only RCN coordinators may see and decide the manual routing queue",
        ));
    }
    Ok(who)
}
