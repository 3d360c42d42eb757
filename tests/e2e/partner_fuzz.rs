//! Fuzzing the partner API (issue 3): arbitrary bytes, arbitrary JSON and mutated valid notices
//! go through the gateway's app (`tower::ServiceExt::oneshot`, no socket) to the real intake.
//! Never a panic, never a 5xx, and a refused request leaves nothing on the NOTICES stream.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rcn_runtime::testing::fuzz::{any_json, mutated_notice};
use rcn_tests::TestStack;
use serde_json::Value;
use tower::ServiceExt;

/// Any JSON value, nested a few levels.
/// What each case sends: raw bytes, or JSON.
#[derive(Debug, Clone)]
enum Input {
    Bytes(Vec<u8>),
    Json(Value),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512).prop_map(Input::Bytes),
        any_json().prop_map(Input::Json),
        mutated_notice().prop_map(Input::Json),
        mutated_notice().prop_map(Input::Json),
    ]
}

#[test]
fn arbitrary_input_never_panics_never_5xx_and_a_refusal_stores_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (stack, app, js, notices) = rt.block_on(async {
        let stack = TestStack::spawn().await;
        let pool = rcn_gateway::tokens::open(stack.env.config.database_url().unwrap())
            .await
            .unwrap();
        let state = rcn_gateway::AppState {
            nats: stack.nats.clone(),
            subjects: stack.env.config.region.subjects(),
            pool,
            signer: stack.env.signer().clone(),
            portal: Default::default(),
            oidc: None,
        };
        let app = rcn_gateway::app(state);
        let js = stack.env.ctx("fuzz-probe").await.jetstream();
        let notices = stack.env.config.region.subjects().notices_stream();
        (stack, app, js, notices)
    });
    let stack = Arc::new(stack);
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let accepted = std::cell::Cell::new(0u32);
    let result = runner.run(&input(), |input| {
        let body = match &input {
            Input::Bytes(b) => b.clone(),
            Input::Json(v) => serde_json::to_vec(v).expect("serialises"),
        };
        let request = Request::post("/v1/release-notices")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", stack.token))
            .body(Body::from(body))
            .expect("a request");
        let (status, before, after) = rt.block_on(async {
            let before = stack.env.stream_len(&js, &notices).await;
            let response = app.clone().oneshot(request).await.expect("infallible");
            let after = stack.env.stream_len(&js, &notices).await;
            (response.status(), before, after)
        });
        prop_assert!(!status.is_server_error(), "{status} for {input:?}");
        prop_assert!(
            [
                StatusCode::ACCEPTED,
                StatusCode::BAD_REQUEST,
                StatusCode::FORBIDDEN,
                StatusCode::CONFLICT
            ]
            .contains(&status),
            "{status} for {input:?}"
        );
        if status == StatusCode::ACCEPTED {
            accepted.set(accepted.get() + 1);
            prop_assert!(after <= before + 1);
        } else if after != before {
            return Err(TestCaseError::fail(format!(
                "{status}, yet the stream grew from {before} to {after}: {input:?}"
            )));
        }
        Ok(())
    });
    rt.block_on(async move {
        if let Ok(stack) = Arc::try_unwrap(stack) {
            stack.stop().await;
        }
    });
    result.unwrap();
    assert!(
        accepted.get() > 0,
        "some mutated notices are still valid and accepted"
    );
}
