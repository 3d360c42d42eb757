//! `rcn run` over the registry of services: every chosen service's own settings are checked
//! before anything starts, `--only` names services from the registry, and the gateway's real
//! address (port 0 picks a free one) is what the launcher prints.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcn_runtime::testing::TestEnv;

use crate::infra::Scratch;

/// `rcn run` with `args` and `vars`, on a data folder of its own; never on the machine's
/// servers unless `vars` say so.
fn rcn_run(scratch: &Scratch, args: &[&str], vars: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rcn"));
    command
        .arg("run")
        .args(args)
        .arg("--data-dir")
        .arg(scratch.join("data"))
        .env("RCN_PSEUDONYM_KEY", "a-test-key-of-enough-length")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        command.env(k, v);
    }
    command.spawn().expect("rcn run starts")
}

/// Waits at most `limit` for `child` to exit, and returns its exit status with its output; a
/// child still running then is killed and the test fails.
fn finished(mut child: Child, limit: Duration) -> (std::process::ExitStatus, String, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("rcn run was still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut out)
        .ok();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut err)
        .ok();
    (status, out, err)
}

#[test]
fn a_bad_casework_setting_stops_rcn_run_before_any_service_starts() {
    let scratch = Scratch::new();
    // NATS and PostgreSQL that refuse connections: had anything started, the error would be
    // about them, not about the setting.
    let child = rcn_run(
        &scratch,
        &[],
        &[
            ("NATS_URL", "nats://127.0.0.1:1"),
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/rcn"),
            ("RCN_CASEWORK_DEADLINES", "housing=soon"),
        ],
    );
    let (status, out, err) = finished(child, Duration::from_secs(20));
    assert!(!status.success());
    assert!(err.contains("RCN_CASEWORK_DEADLINES is invalid"), "{err}");
    assert!(!out.contains("rcn is running"), "{out}");
}

#[test]
fn a_misspelt_service_lists_the_registered_names() {
    let scratch = Scratch::new();
    let child = rcn_run(&scratch, &["--only", "intake,gatway"], &[]);
    let (status, _, err) = finished(child, Duration::from_secs(20));
    assert!(!status.success());
    assert!(
        err.contains(
            "unknown service \"gatway\"; choose from intake, router, casework, procesregie, gateway"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn rcn_run_prints_the_address_the_gateway_really_listens_on() {
    let scratch = Scratch::new();
    let env = TestEnv::new().await;
    let (nats_url, database_url) = (
        env.config.nats_url().expect("set").to_owned(),
        env.config.database_url().expect("set").to_owned(),
    );
    let region = env.config.region.to_string();
    let key = env.signer().seed_hex();
    let mut child = rcn_run(
        &scratch,
        &["--only", "gateway"],
        &[
            ("NATS_URL", &nats_url),
            ("DATABASE_URL", &database_url),
            ("RCN_REGION", &region),
            ("RCN_IDENTITY_SIGNING_KEY", &key),
            ("RCN_HTTP_ADDR", "127.0.0.1:0"),
        ],
    );
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let line = tokio::task::spawn_blocking(move || {
        stdout
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("partner API"))
    });
    let line = tokio::time::timeout(Duration::from_secs(60), line).await;
    let line = match line {
        Ok(Ok(Some(line))) => line,
        other => {
            child.kill().ok();
            let mut err = String::new();
            child
                .stderr
                .take()
                .expect("piped")
                .read_to_string(&mut err)
                .ok();
            panic!("no partner API line ({other:?}): {err}");
        }
    };
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|rest| rest.split('/').next())
        .expect("an http:// address")
        .to_owned();
    assert!(!addr.ends_with(":0"), "a real port, not 0: {line}");
    let health = reqwest::get(format!("http://{addr}/healthz")).await;
    child.kill().ok();
    child.wait().ok();
    let health = health.unwrap_or_else(|e| {
        // What the launcher said before it stopped answering tells why (it logs to stderr).
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            stderr.read_to_string(&mut err).ok();
        }
        panic!("the gateway answers on the printed address: {e}\n{err}")
    });
    assert!(health.status().is_success(), "{}", health.status());
}
