//! The router's request-reply API over NATS (the async-nats `service` API, so `nats micro ls`
//! lists it): the manual routing queue on `rcn.<region>.api.router.queue.{list,decide}`, and the
//! forwards to other regions on `rcn.<region>.api.router.forwarded.{list,ack}`.
//!
//! Every request gets a JSON reply from `rcn_contracts::routing_api`, also when it is malformed.
//! Who may decide is the gateway's check for now (it passes the caller's identity in the
//! `Rcn-Identity` header); this endpoint must never trust a request to be well-formed.

use std::sync::Arc;

use async_nats::service::{Service, ServiceExt};
use futures::StreamExt;
use rcn_contracts::Subjects;
use rcn_contracts::routing_api::{
    ForwardedAckReply, ForwardedAckRequest, QueueDecideReply, QueueDecideRequest, QueueListReply,
    QueueListRequest,
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
                    let body = match verb {
                        Verb::List => {
                            let reply = match QueueListRequest::from_json(payload) {
                                Ok(r) => queue.list(&r).await,
                                Err(problem) => QueueListReply::Rejected {
                                    problems: vec![problem],
                                },
                            };
                            serde_json::to_vec(&reply)
                        }
                        Verb::Decide => {
                            let reply = match QueueDecideRequest::from_json(payload) {
                                Ok(r) => queue.decide(&r, trace_id.as_deref()).await,
                                Err(problem) => QueueDecideReply::Rejected {
                                    problems: vec![problem],
                                },
                            };
                            serde_json::to_vec(&reply)
                        }
                        Verb::ForwardedList => {
                            serde_json::to_vec(&forwarding::unacknowledged(&queue.pool).await)
                        }
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
