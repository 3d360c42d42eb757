//! Liveness and readiness, and the `API-Version` header on every answer.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::{PATIENCE, TestGateway, api_version};

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

/// A nats-server of this test's own, which it may freeze: never the shared one on 4222.
struct OwnNatsServer {
    child: tokio::process::Child,
    url: String,
}

impl OwnNatsServer {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // Debian installs it in /usr/sbin, which a normal user's PATH lacks.
        let binary = ["nats-server", "/usr/sbin/nats-server"]
            .into_iter()
            .find(|b| {
                std::process::Command::new(b)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .status()
                    .is_ok()
            })
            .expect("nats-server is installed");
        let child = tokio::process::Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        rcn_runtime::testing::eventually(PATIENCE, "the own nats-server to listen", || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
        })
        .await;
        Self {
            child,
            url: format!("nats://127.0.0.1:{port}"),
        }
    }

    /// Sends the server `signal` (`STOP` freezes it, `CONT` lets it go on).
    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("still running");
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid}");
    }
}

impl Drop for OwnNatsServer {
    fn drop(&mut self) {
        // A frozen server is killed just the same (kill_on_drop sends SIGKILL); thaw it anyway
        // so nothing is left stopped if that ever changes.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        }
    }
}

#[tokio::test]
async fn readyz_says_503_within_seconds_when_nats_is_frozen_and_200_once_it_answers_again() {
    let nats = OwnNatsServer::start().await;
    let url = nats.url.clone();
    let gateway = TestGateway::spawn_with(|config| config.nats_url = Some(url)).await;
    assert_eq!(gateway.get("/readyz").await.status(), 200);

    nats.signal("STOP");
    let started = Instant::now();
    // Within seconds, as the name says: a probe already in flight when the server froze may
    // still have had its answer (seen under load), so the next ones are asked too.
    let mut response = gateway.get("/readyz").await;
    while response.status() == 200 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        response = gateway.get("/readyz").await;
    }
    let took = started.elapsed();
    assert_eq!(
        response.status(),
        503,
        "still ready {took:?} after NATS froze"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"nats": false, "postgres": true}));
    assert!(took < Duration::from_secs(5), "took {took:?}");

    nats.signal("CONT");
    rcn_runtime::testing::eventually(PATIENCE, "readyz to say 200 again", || async {
        Some(gateway.get("/readyz").await.status()).filter(|s| *s == 200)
    })
    .await;
    gateway.stop().await;
    drop(nats);
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
