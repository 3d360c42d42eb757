//! `rcn provision` as an operator runs it: one line per stream and consumer, idempotent, and a
//! clear error without NATS_URL.

use std::process::{Command, Output};

use rcn_runtime::testing::TestEnv;

/// `rcn provision` with only `vars` of the NATS settings set.
fn rcn_provision(vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rcn"));
    command
        .arg("provision")
        .env_remove("NATS_URL")
        .env_remove("NATS_USER")
        .env_remove("NATS_PASSWORD")
        .env_remove("NATS_TOKEN")
        .env_remove("NATS_CREDS_FILE")
        .env_remove("NATS_NKEY_SEED")
        .env("RUST_LOG", "warn");
    for (k, v) in vars {
        command.env(k, v);
    }
    command.output().expect("rcn provision runs")
}

#[tokio::test]
async fn rcn_provision_reports_every_stream_and_consumer_and_a_second_run_changes_nothing() {
    // The test NATS, in a random region of this test's own.
    let env = TestEnv::new().await;
    let url = env.config.nats_url().expect("set").to_owned();
    let region = env.config.region.to_string();
    let vars = [("NATS_URL", url.as_str()), ("RCN_REGION", region.as_str())];
    let notices = env.config.region.subjects().notices_stream().name;

    let first = rcn_provision(&vars);
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for line in [
        format!("stream   {notices:<40} created"),
        format!("consumer {:<40} created", format!("{notices}/router")),
        format!(
            "consumer {:<40} created",
            format!("{notices}/intake-ledger")
        ),
    ] {
        assert!(out.contains(&line), "{line:?} in:\n{out}");
    }
    assert!(out.contains(&format!("for region {region}")), "{out}");

    let second = rcn_provision(&vars);
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{out}");
    let lines: Vec<_> = out
        .lines()
        .filter(|l| l.starts_with("stream") || l.starts_with("consumer"))
        .collect();
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l.ends_with("unchanged")),
        "a second run changes nothing:\n{out}"
    );
}

#[test]
fn rcn_provision_without_nats_url_says_what_to_set() {
    let output = rcn_provision(&[]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("NATS_URL"), "{error}");
}
