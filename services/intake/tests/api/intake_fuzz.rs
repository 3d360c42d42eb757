//! Fuzzing intake's submit endpoint: arbitrary bytes, arbitrary JSON and mutated valid notices.
//! Every request gets a readable reply (never a panic, never "unavailable" while NATS and
//! PostgreSQL are up), and a refused notice leaves nothing on the NOTICES stream.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rcn_contracts::intake::SubmitReply;
use rcn_runtime::testing::fuzz::{any_json, mutated_notice};

use crate::helpers::TestIntake;

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        any_json().prop_map(|v| serde_json::to_vec(&v).expect("serialises")),
        mutated_notice().prop_map(|v| serde_json::to_vec(&v).expect("serialises")),
        mutated_notice().prop_map(|v| serde_json::to_vec(&v).expect("serialises")),
    ]
}

#[test]
fn arbitrary_submissions_get_an_answer_and_a_refusal_stores_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let intake = rt.block_on(TestIntake::spawn());
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&body(), |body| {
        let (reply, before, after) = rt.block_on(async {
            let before = intake.notices().await.len();
            let reply = intake
                .nats
                .request(intake.subjects.intake_submit(), body.clone().into())
                .await
                .expect("intake answers");
            let after = intake.notices().await.len();
            (reply, before, after)
        });
        let reply: SubmitReply = serde_json::from_slice(&reply.payload)
            .map_err(|e| TestCaseError::fail(format!("an unreadable reply: {e}")))?;
        match reply {
            SubmitReply::Accepted { .. } => prop_assert!(after <= before + 1),
            SubmitReply::Unavailable { .. } => {
                return Err(TestCaseError::fail(format!("unavailable for {body:?}")));
            }
            SubmitReply::Rejected { problems } | SubmitReply::Conflict { problems } => {
                prop_assert!(!problems.is_empty());
                prop_assert_eq!(after, before, "a refused notice was stored");
            }
            SubmitReply::Forbidden { .. } => prop_assert_eq!(after, before),
        }
        Ok(())
    });
    rt.block_on(intake.stop());
    result.unwrap();
}
