//! The NATS service API (`$SRV.*`) lists every rcn service of a running stack with its
//! endpoints, and counts problems per endpoint, so an operator can see them with `nats micro ls`.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use rcn_contracts::Subjects;
use rcn_contracts::casework_api::VERBS;
use rcn_runtime::testing::eventually;
use rcn_tests::{PATIENCE, TestStack};
use serde_json::Value;

/// Every answer to `$SRV.<verb>` (all services, or one `name`) from this test's region: other
/// tests' stacks answer too, and are told apart by their subjects.
async fn ours(stack: &TestStack, verb: &str, region_prefix: &str) -> BTreeMap<String, Value> {
    let inbox = stack.nats.new_inbox();
    let mut answers = stack
        .nats
        .subscribe(inbox.clone())
        .await
        .expect("subscribe");
    stack
        .nats
        .publish_with_reply(format!("$SRV.{verb}"), inbox, "".into())
        .await
        .expect("publish");
    let mut found = BTreeMap::new();
    let collect = async {
        while let Some(m) = answers.next().await {
            let Ok(v) = serde_json::from_slice::<Value>(&m.payload) else {
                continue;
            };
            let mine = v["endpoints"].as_array().is_some_and(|e| {
                e.iter().any(|e| {
                    e["subject"]
                        .as_str()
                        .is_some_and(|s| s.starts_with(region_prefix))
                })
            });
            if mine && let Some(name) = v["name"].as_str() {
                found.insert(name.to_owned(), v);
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(750), collect).await;
    found
}

/// The endpoints of one answer: name → subject.
fn endpoints(answer: &Value) -> BTreeMap<String, String> {
    answer["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default().to_owned(),
                e["subject"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn expected(s: &Subjects) -> BTreeMap<&'static str, BTreeMap<String, String>> {
    let pairs = |list: Vec<(&str, String)>| {
        list.into_iter()
            .map(|(n, s)| (n.to_owned(), s))
            .collect::<BTreeMap<_, _>>()
    };
    BTreeMap::from([
        (
            "rcn-intake",
            pairs(vec![
                ("submit", s.intake_submit()),
                ("submit-partner", s.intake_submit_any()),
                ("status", s.intake_status()),
                ("status-partner", s.intake_status_any()),
                ("retention_log", s.intake_api("retention_log")),
                ("privacy-export", s.intake_privacy_export()),
                ("privacy-accesses", s.intake_api("privacy_accesses")),
            ]),
        ),
        (
            "rcn-router",
            pairs(vec![
                ("queue-list", s.router_queue_list()),
                ("queue-decide", s.router_queue_decide()),
                ("forwarded-list", s.router_forwarded_list()),
                ("forwarded-ack", s.router_forwarded_ack()),
                ("retention_log", s.router_api("retention_log")),
                ("decisions", s.router_decisions()),
                ("privacy-export", s.router_privacy_export()),
                ("privacy-accesses", s.router_api("privacy_accesses")),
            ]),
        ),
        (
            "rcn-casework",
            pairs(VERBS.iter().map(|v| (*v, s.casework_api(v))).collect()),
        ),
    ])
}

#[tokio::test]
async fn srv_info_lists_intake_router_and_casework_with_every_endpoint() {
    let stack = TestStack::spawn().await;
    let subjects = stack.env.config.region.subjects();
    let prefix = format!("rcn.{}.", stack.env.config.region.as_str());
    let want = expected(&subjects);
    let info = eventually(PATIENCE, "every service in $SRV.INFO", || async {
        let found = ours(&stack, "INFO", &prefix).await;
        want.keys()
            .all(|name| found.contains_key(*name))
            .then_some(found)
    })
    .await;
    for (name, endpoints_wanted) in &want {
        let answer = &info[*name];
        assert_eq!(answer["type"], "io.nats.micro.v1.info_response", "{answer}");
        assert_eq!(&endpoints(answer), endpoints_wanted, "{name}: {answer}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn srv_stats_counts_the_problems_intake_and_casework_answer_with() {
    let stack = TestStack::spawn().await;
    let subjects = stack.env.config.region.subjects();
    let prefix = format!("rcn.{}.", stack.env.config.region.as_str());
    // A notice that is not one (intake's partner reply says `rejected`), and a casework request
    // without an identity (401): both answered, both counted as errors of their endpoint.
    let rejected = stack.submit_over_nats(b"{}").await;
    assert!(
        matches!(
            rejected,
            rcn_contracts::intake::SubmitReply::Rejected { .. }
        ),
        "{rejected:?}"
    );
    let reply = stack
        .nats
        .request(subjects.casework_api("inbox"), "{}".into())
        .await
        .expect("casework answers");
    let problem: rcn_contracts::envelope::ApiReply<Value> =
        serde_json::from_slice(&reply.payload).expect("the envelope");
    assert_eq!(problem.into_result().expect_err("refused").status, 401);

    let errors = |stats: &BTreeMap<String, Value>, service: &str, endpoint: &str| {
        stats.get(service).and_then(|s| {
            s["endpoints"]
                .as_array()?
                .iter()
                .find(|e| e["name"] == endpoint)?["num_errors"]
                .as_u64()
        })
    };
    eventually(PATIENCE, "the problems counted in $SRV.STATS", || async {
        let stats = ours(&stack, "STATS", &prefix).await;
        let intake = errors(&stats, "rcn-intake", "submit")?;
        let casework = errors(&stats, "rcn-casework", "inbox")?;
        // Startup probes of the harness also send `{}` to intake: at least ours is counted.
        (intake >= 1 && casework == 1).then_some(())
    })
    .await;
    stack.stop().await;
}
