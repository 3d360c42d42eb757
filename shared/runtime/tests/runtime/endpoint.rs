//! The endpoint kit on the real NATS server, apart from any service: the time-out, who may call,
//! and the reply envelope. Each test runs its own service name and subjects.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use rcn_contracts::envelope::{ApiProblem, ApiReply, NoParameters};
use rcn_contracts::identity::Identity;
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};
use rcn_runtime::{CancellationToken, headers};
use serde_json::Value;

struct Kit {
    nats: async_nats::Client,
    subject: String,
    shutdown: CancellationToken,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Starts a one-endpoint service whose handler waits `pause` and answers who asked.
async fn start(caller: Caller, pause: Duration, timeout: Duration) -> Kit {
    let url = std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let nats = async_nats::connect(url).await.expect("NATS");
    let id = uuid::Uuid::new_v4().simple().to_string();
    let subject = format!("rcn.t{}.api.kit.echo", &id[..12]);
    let endpoint = Endpoint::new(
        "echo",
        subject.clone(),
        caller,
        move |r: Request<NoParameters>| async move {
            tokio::time::sleep(pause).await;
            Ok::<_, ApiProblem>(r.identity.map(|i| i.user_id))
        },
    )
    .timeout(timeout);
    let running = ServiceSpec::new(format!("rcn-kit-{}", &id[..12]), "0.0.1", "kit test")
        .endpoint(endpoint)
        .start(&nats)
        .await
        .expect("the service starts");
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(running.serve(shutdown.clone()));
    Kit {
        nats,
        subject,
        shutdown,
        served,
    }
}

impl Kit {
    async fn ask(&self, identity: Option<&str>) -> ApiReply<Option<String>> {
        let mut h = async_nats::HeaderMap::new();
        if let Some(identity) = identity {
            h.insert(headers::IDENTITY, identity);
        }
        let reply = self
            .nats
            .request_with_headers(self.subject.clone(), h, "".into())
            .await
            .expect("an answer");
        serde_json::from_slice(&reply.payload).expect("a reply in the envelope")
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.served.await.unwrap().unwrap();
    }
}

fn person(user_id: &str) -> String {
    serde_json::json!({"user_id": user_id, "role": "rcn_coordinator"}).to_string()
}

fn problem_status(reply: ApiReply<Option<String>>) -> u16 {
    match reply {
        ApiReply::Problem(p) => p.status,
        ApiReply::Ok(v) => panic!("answered {v:?}"),
    }
}

#[tokio::test]
async fn a_handler_slower_than_its_time_out_is_answered_with_a_time_out_problem() {
    let kit = start(
        Caller::Person,
        Duration::from_secs(5),
        Duration::from_millis(100),
    )
    .await;
    let reply = kit.ask(Some(&person("anna"))).await;
    let ApiReply::Problem(p) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(
        (p.status, p.kind.as_str()),
        (504, "urn:rcn:problem:timeout")
    );
    kit.stop().await;
}

#[tokio::test]
async fn a_person_endpoint_needs_a_readable_identity_and_hands_it_to_the_handler() {
    let kit = start(Caller::Person, Duration::ZERO, Duration::from_secs(5)).await;
    assert_eq!(problem_status(kit.ask(None).await), 401);
    assert_eq!(problem_status(kit.ask(Some("not json")).await), 401);
    let anna = Identity::from_header(&person("anna")).unwrap();
    assert_eq!(
        kit.ask(Some(&anna.to_header())).await,
        ApiReply::Ok(Some("anna".into()))
    );
    kit.stop().await;
}

#[tokio::test]
async fn a_service_endpoint_refuses_a_person() {
    let kit = start(Caller::Service, Duration::ZERO, Duration::from_secs(5)).await;
    assert_eq!(problem_status(kit.ask(Some(&person("anna"))).await), 403);
    assert_eq!(kit.ask(None).await, ApiReply::Ok(None));
    let body: Value = serde_json::to_value(kit.ask(None).await).unwrap();
    assert_eq!(body, serde_json::json!({"ok": null}));
    kit.stop().await;
}
