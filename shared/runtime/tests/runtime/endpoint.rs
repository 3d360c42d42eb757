//! The endpoint kit on the real NATS server, apart from any service: the time-out, who may call,
//! and the reply envelope. Each test runs its own service name and subjects.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rcn_contracts::envelope::{ApiProblem, ApiReply, NoParameters};
use rcn_contracts::identity::Identity;
use rcn_runtime::endpoint::{Caller, Endpoint, Request, ServiceSpec};
use rcn_runtime::signed_identity::{IdentitySigner, unix_ms_now};
use rcn_runtime::{CancellationToken, headers};
use serde_json::Value;

struct Kit {
    nats: async_nats::Client,
    subject: String,
    shutdown: CancellationToken,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// The gateway's key as this test plays it.
    signer: IdentitySigner,
    /// How often the handler ran: a refused request must not reach it.
    ran: Arc<AtomicUsize>,
}

/// Starts a one-endpoint service whose handler waits `pause` and answers who asked.
async fn start(caller: Caller, pause: Duration, timeout: Duration) -> Kit {
    let nats = rcn_runtime::testing::test_nats("kit-test").await;
    let signer = IdentitySigner::generate();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let subject = format!("rcn.t{}.api.kit.echo", &id[..12]);
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let endpoint = Endpoint::new(
        "echo",
        subject.clone(),
        caller,
        move |r: Request<NoParameters>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(pause).await;
                Ok::<_, ApiProblem>(r.identity.map(|i| i.user_id))
            }
        },
    )
    .timeout(timeout);
    let running = ServiceSpec::new(format!("rcn-kit-{}", &id[..12]), "0.0.1", "kit test")
        .endpoint(endpoint)
        .start(&nats, &signer.verifier())
        .await
        .expect("the service starts");
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(running.serve(shutdown.clone()));
    Kit {
        nats,
        subject,
        shutdown,
        served,
        signer,
        ran,
    }
}

impl Kit {
    /// Asks as `identity`, signed by the gateway for this request.
    async fn ask(&self, identity: Option<&str>) -> ApiReply<Option<String>> {
        let h = match identity {
            Some(identity) => self.signer.sign(identity, &self.subject, b""),
            None => async_nats::HeaderMap::new(),
        };
        self.ask_with(h, "").await
    }

    /// Asks with exactly these headers and body.
    async fn ask_with(&self, h: async_nats::HeaderMap, body: &str) -> ApiReply<Option<String>> {
        let reply = self
            .nats
            .request_with_headers(self.subject.clone(), h, body.to_owned().into())
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

#[tokio::test]
async fn an_identity_the_gateway_did_not_sign_for_this_very_request_is_refused_unheard() {
    let kit = start(Caller::Person, Duration::ZERO, Duration::from_secs(5)).await;
    let anna = person("anna");
    let refused = |reply: ApiReply<Option<String>>| match reply {
        ApiReply::Problem(p) => (p.status, p.detail),
        ApiReply::Ok(v) => panic!("answered {v:?}"),
    };
    // Unsigned: the header alone, as any NATS user could write it.
    let mut unsigned = async_nats::HeaderMap::new();
    unsigned.insert(headers::IDENTITY, anna.as_str());
    let (status, detail) = refused(kit.ask_with(unsigned, "").await);
    assert_eq!(status, 401);
    assert!(detail.contains("not signed by the gateway"), "{detail}");
    // Signed for another subject (another service's verb).
    let elsewhere = kit
        .signer
        .sign(&anna, "rcn.other.api.casework.close_case", b"");
    let (status, detail) = refused(kit.ask_with(elsewhere, "").await);
    assert_eq!(status, 401);
    assert!(detail.contains("does not match this request"), "{detail}");
    // Signed for another body.
    let other_body = kit.signer.sign(&anna, &kit.subject, b"{}");
    assert_eq!(refused(kit.ask_with(other_body, "").await).0, 401);
    // Signed with another key.
    let forged = IdentitySigner::generate().sign(&anna, &kit.subject, b"");
    assert_eq!(refused(kit.ask_with(forged, "").await).0, 401);
    // Expired.
    let mut expired = async_nats::HeaderMap::new();
    expired.insert(headers::IDENTITY, anna.as_str());
    let now = unix_ms_now();
    let value = kit.signer.signature_value(
        &anna,
        &kit.subject,
        b"",
        now - 60_000,
        now - 30_000,
        [1; 16],
    );
    expired.insert(headers::IDENTITY_SIGNATURE, value.as_str());
    let (status, detail) = refused(kit.ask_with(expired, "").await);
    assert_eq!(status, 401);
    assert!(detail.contains("expired"), "{detail}");
    assert_eq!(
        kit.ran.load(Ordering::SeqCst),
        0,
        "no refused request reached the handler"
    );
    // Signed for this request: heard once, and a replay of the same headers is refused.
    let signed = kit.signer.sign(&anna, &kit.subject, b"");
    assert_eq!(
        kit.ask_with(signed.clone(), "").await,
        ApiReply::Ok(Some("anna".into()))
    );
    let (status, detail) = refused(kit.ask_with(signed, "").await);
    assert_eq!(status, 401);
    assert!(detail.contains("used before"), "{detail}");
    assert_eq!(kit.ran.load(Ordering::SeqCst), 1);
    kit.stop().await;
}
