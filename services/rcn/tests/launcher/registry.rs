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

/// The settings `rcn run --only gateway` needs to run on the test's own NATS and PostgreSQL,
/// with the gateway on `http_addr`.
fn gateway_vars(env: &TestEnv, http_addr: &str) -> Vec<(&'static str, String)> {
    vec![
        ("NATS_URL", env.config.nats_url().expect("set").to_owned()),
        (
            "DATABASE_URL",
            env.config.database_url().expect("set").to_owned(),
        ),
        ("RCN_REGION", env.config.region.to_string()),
        ("RCN_IDENTITY_SIGNING_KEY", env.signer().seed_hex()),
        ("RCN_HTTP_ADDR", http_addr.to_owned()),
    ]
}

fn as_refs<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Every line `stream` gives, on a thread of its own that reads until the child closes it, so
/// the child never writes into a pipe nobody reads.
fn lines_of(stream: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first line of `lines` that contains `needle`, within `limit`; else every line read.
fn wait_for_line(
    lines: &std::sync::mpsc::Receiver<String>,
    needle: &str,
    limit: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.checked_duration_since(Instant::now());
        match left.map(|left| lines.recv_timeout(left)) {
            Some(Ok(line)) if line.contains(needle) => return Ok(line),
            Some(Ok(line)) => seen.push(line),
            _ => return Err(seen.join("\n")),
        }
    }
}

/// Kills `child` and returns what it wrote to stderr, to tell why a test failed.
fn killed(child: &mut Child, stderr: &std::sync::mpsc::Receiver<String>) -> String {
    child.kill().ok();
    child.wait().ok();
    std::thread::sleep(Duration::from_millis(200));
    stderr.try_iter().collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn rcn_run_prints_the_address_the_gateway_really_listens_on() {
    let scratch = Scratch::new();
    let env = TestEnv::new().await;
    let vars = gateway_vars(&env, "127.0.0.1:0");
    let mut child = rcn_run(&scratch, &["--only", "gateway"], &as_refs(&vars));
    let stdout = lines_of(child.stdout.take().expect("piped"));
    let stderr = lines_of(child.stderr.take().expect("piped"));
    let line = tokio::task::spawn_blocking(move || {
        let line = wait_for_line(&stdout, "partner API", Duration::from_secs(60));
        (line, stdout)
    });
    let (line, _stdout) = line.await.expect("the reader ends");
    let line = line.unwrap_or_else(|out| {
        panic!(
            "no partner API line in {out:?}: {}",
            killed(&mut child, &stderr)
        );
    });
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|rest| rest.split('/').next())
        .expect("an http:// address")
        .to_owned();
    assert!(!addr.ends_with(":0"), "a real port, not 0: {line}");
    let health = reqwest::get(format!("http://{addr}/healthz")).await;
    let err = killed(&mut child, &stderr);
    let health = health.unwrap_or_else(|e| {
        // A panic of the launcher's, on stderr, tells why it stopped answering.
        panic!("the gateway answers on the printed address: {e}\n{err}")
    });
    assert!(health.status().is_success(), "{}", health.status());
}

/// `rcn run | head`, or a supervisor that closed the pipe: the banner cannot be written, and the
/// services run on. (`println!` panicked there and took the whole stack down.)
#[tokio::test]
async fn a_stdout_nobody_reads_does_not_stop_rcn_run() {
    let scratch = Scratch::new();
    let env = TestEnv::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let vars = gateway_vars(&env, &addr);
    let mut child = rcn_run(&scratch, &["--only", "gateway"], &as_refs(&vars));
    // The reading end is closed before rcn writes anything (its logs go to stdout too).
    drop(child.stdout.take());
    let stderr = lines_of(child.stderr.take().expect("piped"));
    let health = format!("http://{addr}/healthz");
    let deadline = Instant::now() + Duration::from_secs(60);
    let answers = || async {
        reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
    };
    while !answers().await {
        if Instant::now() > deadline || child.try_wait().expect("waitable").is_some() {
            panic!(
                "the gateway never answered: {}",
                killed(&mut child, &stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The banner follows the gateway's start at once; two seconds later rcn still runs.
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Some(status) = child.try_wait().expect("waitable") {
        panic!(
            "rcn run stopped ({status}): {}",
            killed(&mut child, &stderr)
        );
    }
    let still = answers().await;
    let err = killed(&mut child, &stderr);
    assert!(still, "the gateway still answers: {err}");
}
