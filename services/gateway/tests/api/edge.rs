//! The HTTP edge: every answer, including the ones no handler gives (unknown paths, wrong
//! methods, oversized URIs and headers), is problem+json and carries the security headers.

use crate::helpers::{TestGateway, problem};

#[tokio::test]
async fn unknown_paths_and_trailing_slashes_are_404_problems() {
    let gateway = TestGateway::spawn().await;
    let body = problem(gateway.get("/v1/nothing-here").await, 404).await;
    assert_eq!(body["type"], "urn:rcn:problem:not-found");
    let body = problem(gateway.get("/v1/release-notices/PIH-1/").await, 404).await;
    assert!(
        body["detail"].as_str().unwrap().contains("trailing slash"),
        "{body}"
    );
    let response = gateway
        .client
        .post(gateway.url("/v1/release-notices/"))
        .send()
        .await
        .unwrap();
    problem(response, 404).await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_wrong_method_or_options_is_a_405_problem_with_allow() {
    let gateway = TestGateway::spawn().await;
    for method in [
        reqwest::Method::OPTIONS,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let response = gateway
            .client
            .request(method.clone(), gateway.url("/v1/release-notices"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers().get("allow").map(|v| v.to_str().unwrap()),
            Some("POST"),
            "{method}"
        );
        let body = problem(response, 405).await;
        assert_eq!(body["type"], "urn:rcn:problem:method-not-allowed");
    }
    let response = gateway
        .client
        .get(gateway.url("/v1/release-notices"))
        .send()
        .await
        .unwrap();
    problem(response, 405).await;
    gateway.stop().await;
}

#[tokio::test]
async fn too_long_a_uri_is_414_and_too_large_headers_are_431_problems() {
    let gateway = TestGateway::spawn().await;
    let long = format!("/v1/release-notices/{}", "a".repeat(4000));
    let body = problem(gateway.get(&long).await, 414).await;
    assert_eq!(body["type"], "urn:rcn:problem:uri-too-long");

    let response = gateway
        .client
        .get(gateway.url("/healthz"))
        .header("x-padding", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    let body = problem(response, 431).await;
    assert_eq!(body["type"], "urn:rcn:problem:headers-too-large");

    let mut request = gateway.client.get(gateway.url("/healthz"));
    for i in 0..80 {
        request = request.header(format!("x-h{i}"), "1");
    }
    problem(request.send().await.unwrap(), 431).await;
    gateway.stop().await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_no_store() {
    let gateway = TestGateway::spawn().await;
    let answers = [
        ("healthz", gateway.get("/healthz").await),
        ("a 404", gateway.get("/v1/nothing-here").await),
        ("a 405", gateway.get("/v1/release-notices").await),
        ("a 401", gateway.get("/v1/release-notices/PIH-1").await),
        (
            "a 414",
            gateway.get(&format!("/{}", "a".repeat(4000))).await,
        ),
        ("a 503", gateway.post_example_notice().await),
    ];
    for (what, response) in &answers {
        let h = response.headers();
        let get = |name: &str| h.get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            get("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            get("content-security-policy").as_deref(),
            Some("frame-ancestors 'none'"),
            "{what}"
        );
        assert_eq!(get("cache-control").as_deref(), Some("no-store"), "{what}");
        assert_eq!(get("api-version").as_deref(), Some("1.0.0"), "{what}");
        // The OpenAPI document promises traceresponse on every answer.
        let trace = get("traceresponse").unwrap_or_default();
        assert!(
            trace.len() == 55 && trace.starts_with("00-") && trace.split('-').count() == 4,
            "{what}: traceresponse {trace:?}"
        );
        assert_eq!(
            get("strict-transport-security"),
            None,
            "{what}: HSTS is off by default"
        );
    }
    gateway.stop().await;
}

#[tokio::test]
async fn the_openapi_document_may_be_read_from_any_origin() {
    let gateway = TestGateway::spawn().await;
    let response = gateway.get("/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    gateway.stop().await;
}

#[tokio::test]
async fn hsts_is_sent_when_configured() {
    use tower::ServiceExt;
    let gateway = TestGateway::spawn().await;
    let settings = rcn_gateway::Settings {
        hsts_max_age_secs: Some(31_536_000),
        ..rcn_gateway::Settings::default()
    };
    let state = rcn_gateway::AppState {
        nats: gateway.env.ctx("hsts-probe").await.nats,
        subjects: gateway.subjects.clone(),
        pool: gateway.env.db().await,
        signer: gateway.env.signer().clone(),
        portal: Default::default(),
        oidc: None,
    };
    let response = rcn_gateway::app_with(state, &settings)
        .oneshot(
            axum::http::Request::get("/healthz")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    gateway.stop().await;
}
