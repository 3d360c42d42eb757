//! Procesregie on the endpoint kit, seen from outside: the NATS service API lists it with its
//! endpoints, and a request without an identity is refused.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use futures::StreamExt;
use rcn_contracts::procesregie_api::{DayOfWeek, SettingsView, VERBS};
use rcn_runtime::testing::eventually;
use serde_json::Value;

use crate::helpers::{PATIENCE, TestProcesregie, staff};

/// This test's procesregie as `$SRV.INFO.rcn-procesregie` describes it: every running test has
/// one and each answers; ours is the one on this test's region's subjects.
async fn info(p: &TestProcesregie) -> Value {
    let ours = p.subjects.procesregie_api("settings");
    eventually(PATIENCE, "our procesregie in $SRV.INFO", || {
        let ours = ours.clone();
        async move {
            let inbox = p.nats.new_inbox();
            let mut answers = p.nats.subscribe(inbox.clone()).await.ok()?;
            p.nats
                .publish_with_reply("$SRV.INFO.rcn-procesregie", inbox, "".into())
                .await
                .ok()?;
            let collect = async {
                while let Some(m) = answers.next().await {
                    let v: Value = serde_json::from_slice(&m.payload).ok()?;
                    let endpoints = v["endpoints"].as_array()?;
                    if endpoints.iter().any(|e| e["subject"] == ours.as_str()) {
                        return Some(v);
                    }
                }
                None
            };
            tokio::time::timeout(Duration::from_millis(500), collect)
                .await
                .ok()
                .flatten()
        }
    })
    .await
}

#[tokio::test]
async fn the_service_api_lists_procesregie_with_every_verb_as_an_endpoint() {
    let p = TestProcesregie::spawn().await;
    let info = info(&p).await;
    assert_eq!(info["name"], "rcn-procesregie");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    let endpoints = info["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), VERBS.len(), "{info}");
    for verb in VERBS {
        let e = endpoints
            .iter()
            .find(|e| e["name"] == verb)
            .unwrap_or_else(|| panic!("no endpoint {verb} in {info}"));
        assert_eq!(e["subject"], p.subjects.procesregie_api(verb).as_str());
    }
    p.stop().await;
}

#[tokio::test]
async fn the_settings_endpoint_shows_the_regions_triage_cutoff() {
    let p = TestProcesregie::spawn().await;
    let s: SettingsView = p
        .ask("settings", &staff("anna", "GM0392"), &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(
        (s.cutoff_day, s.cutoff_time.as_str(), s.triage_day),
        (DayOfWeek::Monday, "12:00", DayOfWeek::Tuesday)
    );
    // Without the identity header the kit refuses before the handler runs.
    let reply = p
        .nats
        .request(p.subjects.procesregie_api("settings"), "{}".into())
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&reply.payload).unwrap();
    assert_eq!(v["problem"]["status"], 401, "{v}");
    p.stop().await;
}
