//! The router's request-reply API over NATS (the async-nats `service` API, so `nats micro ls`
//! lists it): the manual routing queue on `rcn.<region>.api.router.queue.{list,decide}`, and the
//! forwards to other regions on `rcn.<region>.api.router.forwarded.{list,ack}`.
//!
//! Every request gets a JSON reply from `rcn_contracts::routing_api`, also when it is malformed.
//! The queue and the forwards are the RCN's: the caller's identity (the `Rcn-Identity` header the
//! gateway sets) must be an RCN coordinator's, and a decision is recorded in the caller's own
//! name. The acknowledgement of a forward comes from the other region's intake, which NATS
//! permissions let publish on that subject only. This endpoint never trusts a request to be
//! well-formed, nor a body to say who is asking.

use std::sync::Arc;

use async_nats::service::{Service, ServiceExt};
use futures::StreamExt;
use rcn_contracts::Subjects;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::routing_api::{
    ForwardedAckReply, ForwardedAckRequest, ForwardedListReply, QueueDecideReply,
    QueueDecideRequest, QueueListReply, QueueListRequest,
};
use rcn_runtime::{CancellationToken, headers};

use crate::forwarding;
use crate::queue::Queue;

/// Requests handled at once per instance; each holds at most one pooled connection.
const CONCURRENT_REQUESTS: usize = 32;

/// The running API: call [`Api::serve`] to answer until shutdown.
pub struct Api {
    service: Service,
    list: async_nats::service::endpoint::Endpoint,
    decide: async_nats::service::endpoint::Endpoint,
    forwarded_list: async_nats::service::endpoint::Endpoint,
    forwarded_ack: async_nats::service::endpoint::Endpoint,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
enum Verb {
    List,
    Decide,
    ForwardedList,
    ForwardedAck,
}

impl Api {
    /// Registers the service and its endpoints; requests are queued until [`Api::serve`].
    pub async fn start(nats: &async_nats::Client, subjects: &Subjects) -> anyhow::Result<Self> {
        let service = nats
            .service_builder()
            .description("rcn router: the manual routing queue")
            .start("rcn-router", env!("CARGO_PKG_VERSION"))
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the router NATS service: {e}"))?;
        let list = service
            .endpoint_builder()
            .name("queue-list")
            .add(subjects.router_queue_list())
            .await
            .map_err(|e| anyhow::anyhow!("cannot add the queue list endpoint: {e}"))?;
        let decide = service
            .endpoint_builder()
            .name("queue-decide")
            .add(subjects.router_queue_decide())
            .await
            .map_err(|e| anyhow::anyhow!("cannot add the queue decide endpoint: {e}"))?;
        let forwarded_list = service
            .endpoint_builder()
            .name("forwarded-list")
            .add(subjects.router_forwarded_list())
            .await
            .map_err(|e| anyhow::anyhow!("cannot add the forwarded list endpoint: {e}"))?;
        let forwarded_ack = service
            .endpoint_builder()
            .name("forwarded-ack")
            .add(subjects.router_forwarded_ack())
            .await
            .map_err(|e| anyhow::anyhow!("cannot add the forwarded ack endpoint: {e}"))?;
        tracing::info!(list = %subjects.router_queue_list(), decide = %subjects.router_queue_decide(), "router API listening");
        Ok(Self {
            service,
            list,
            decide,
            forwarded_list,
            forwarded_ack,
        })
    }

    /// Answers requests until `shutdown`, finishing those in hand.
    pub async fn serve(self, queue: Arc<Queue>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Api {
            service,
            list,
            decide,
            forwarded_list,
            forwarded_ack,
        } = self;
        let requests = futures::stream::select_all([
            list.map(|r| (Verb::List, r)).boxed(),
            decide.map(|r| (Verb::Decide, r)).boxed(),
            forwarded_list.map(|r| (Verb::ForwardedList, r)).boxed(),
            forwarded_ack.map(|r| (Verb::ForwardedAck, r)).boxed(),
        ]);
        requests
            .take_until(shutdown.cancelled_owned())
            .for_each_concurrent(CONCURRENT_REQUESTS, |(verb, request)| {
                let queue = queue.clone();
                async move {
                    let payload = &request.message.payload;
                    let trace_id = request
                        .message
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(headers::TRACE_ID))
                        .map(|v| v.as_str().to_owned());
                    let coordinator = coordinator(request.message.headers.as_ref());
                    let body = match verb {
                        Verb::List => {
                            let reply = match (coordinator, QueueListRequest::from_json(payload)) {
                                (Err(message), _) => QueueListReply::Forbidden { message },
                                (Ok(_), Ok(r)) => queue.list(&r).await,
                                (Ok(_), Err(problem)) => QueueListReply::Rejected {
                                    problems: vec![problem],
                                },
                            };
                            serde_json::to_vec(&reply)
                        }
                        Verb::Decide => {
                            let reply = match (coordinator, QueueDecideRequest::from_json(payload)) {
                                (Err(message), _) => QueueDecideReply::Forbidden { message },
                                (Ok(who), Ok(r)) if r.decided_by != who.user_id => {
                                    QueueDecideReply::Forbidden {
                                        message: "a decision is recorded in the name of the coordinator who sends it; decided_by must be your own user id".into(),
                                    }
                                }
                                (Ok(_), Ok(r)) => queue.decide(&r, trace_id.as_deref()).await,
                                (Ok(_), Err(problem)) => QueueDecideReply::Rejected {
                                    problems: vec![problem],
                                },
                            };
                            serde_json::to_vec(&reply)
                        }
                        Verb::ForwardedList => match coordinator {
                            Err(message) => serde_json::to_vec(&ForwardedListReply::Forbidden { message }),
                            Ok(_) => serde_json::to_vec(&forwarding::unacknowledged(&queue.pool).await),
                        },
                        Verb::ForwardedAck => {
                            let reply = match ForwardedAckRequest::from_json(payload) {
                                Ok(r) => forwarding::acknowledge(&queue.pool, &r).await,
                                Err(problem) => ForwardedAckReply::Rejected {
                                    problems: vec![problem],
                                },
                            };
                            serde_json::to_vec(&reply)
                        }
                    };
                    let body = body.expect("a reply serialises");
                    if let Err(e) = request.respond(Ok(body.into())).await {
                        tracing::warn!(error = %e, "could not answer a routing queue request");
                    }
                }
            })
            .await;
        service
            .stop()
            .await
            .map_err(|e| anyhow::anyhow!("stopping the router service: {e}"))?;
        Ok(())
    }
}

/// The caller, when it is an RCN coordinator; otherwise why not, in words.
fn coordinator(h: Option<&async_nats::HeaderMap>) -> Result<Identity, String> {
    let value = h
        .and_then(|h| h.get(headers::IDENTITY))
        .ok_or_else(|| "the request does not say who is asking (Rcn-Identity header)".to_owned())?;
    let who = Identity::from_header(value.as_str()).map_err(|e| e.0)?;
    if who.role != Role::RcnCoordinator {
        return Err("only RCN coordinators may see and decide the manual routing queue".into());
    }
    Ok(who)
}
