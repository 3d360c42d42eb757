//! Fuzzing intake's submit endpoint: arbitrary bytes, arbitrary JSON and mutated valid notices.
//! Every request gets a readable reply (never a panic, never "unavailable" while NATS and
//! PostgreSQL are up), and a refused notice leaves nothing on the NOTICES stream.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rcn_contracts::intake::SubmitReply;
use serde_json::Value;

use crate::helpers::TestIntake;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[0-9]{9}".prop_map(Value::from),
        "GM[0-9]{4}".prop_map(Value::from),
        "(18|19|20|30)[0-9]{2}-[01][0-9]-[0-3][0-9]".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn leaf_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| leaf_pointers(c, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| leaf_pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
    if !at.is_empty() {
        out.push(at);
    }
}

/// The example notice with one value replaced or one field removed.
fn mutated_notice() -> impl Strategy<Value = Value> {
    let mut paths = Vec::new();
    leaf_pointers(
        &rcn_contracts::examples::release_notice_json(),
        String::new(),
        &mut paths,
    );
    (proptest::sample::select(paths), any::<bool>(), any_json()).prop_map(
        |(path, remove, value)| {
            let mut n = rcn_contracts::examples::release_notice_json();
            if remove {
                let (parent, field) = path.rsplit_once('/').expect("not the root");
                if let Some(Value::Object(m)) = n.pointer_mut(parent) {
                    m.remove(field);
                }
            } else {
                *n.pointer_mut(&path).expect("a path of the example") = value;
            }
            n
        },
    )
}

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
