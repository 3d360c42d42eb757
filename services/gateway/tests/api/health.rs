//! Liveness and readiness, and the `API-Version` header on every answer.

use crate::helpers::{TestGateway, api_version};

#[tokio::test]
async fn healthz_answers_ok() {
    let gateway = TestGateway::spawn().await;
    let response = gateway.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    gateway.stop().await;
}

#[tokio::test]
async fn readyz_reports_nats_and_postgres_up() {
    let gateway = TestGateway::spawn().await;
    let response = gateway.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"nats": true, "postgres": true}));
    gateway.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_api_version_header() {
    let gateway = TestGateway::spawn().await;
    let responses = [
        ("healthz", gateway.get("/healthz").await),
        ("readyz", gateway.get("/readyz").await),
        ("an unknown path", gateway.get("/v1/nothing-here").await),
        ("a wrong method", gateway.get("/v1/release-notices").await),
        (
            "a 415",
            gateway
                .post_notice(b"{}".to_vec(), Some("text/plain"))
                .await,
        ),
        (
            "a 413",
            gateway
                .post_notice(vec![b' '; 64 * 1024 + 1], Some("application/json"))
                .await,
        ),
        ("a 503", gateway.post_example_notice().await),
        (
            "a 401",
            gateway
                .post_notice_with(None, b"{}".to_vec(), Some("application/json"))
                .await,
        ),
    ];
    for (what, response) in &responses {
        assert_eq!(
            api_version(response),
            Some("1.0.0"),
            "{what} ({})",
            response.status()
        );
    }
    gateway.stop().await;
}
