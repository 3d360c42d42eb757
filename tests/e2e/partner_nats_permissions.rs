//! The NATS permissions shipped for compose (services/rcn/deploy/nats/accounts.conf), on a
//! nats-server of this test's own: an institution may submit on its own subject only, and a
//! service may publish only its own events. A forbidden publish is refused by the server.

use std::process::Stdio;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;

pub(crate) const PASSWORDS: [(&str, &str); 8] = [
    ("RCN_NATS_PROVISIONER_PASSWORD", "provisioner-secret"),
    ("RCN_NATS_INTAKE_PASSWORD", "intake-secret"),
    ("RCN_NATS_ROUTER_PASSWORD", "router-secret"),
    ("RCN_NATS_CASEWORK_PASSWORD", "casework-secret"),
    ("RCN_NATS_PROCESREGIE_PASSWORD", "procesregie-secret"),
    ("RCN_NATS_MONITOR_PASSWORD", "monitor-secret"),
    ("RCN_NATS_GATEWAY_PASSWORD", "gateway-secret"),
    ("RCN_NATS_PI_HAARLEM_PASSWORD", "haarlem-secret"),
];

/// A client whose server errors (permission violations) arrive on the returned channel.
pub(crate) async fn connect(
    url: &str,
    user: &str,
    password: &str,
    inbox: Option<&str>,
) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut options =
        async_nats::ConnectOptions::with_user_and_password(user.into(), password.into())
            .event_callback(move |event| {
                let tx = tx.clone();
                async move {
                    if let async_nats::Event::ServerError(e) = event {
                        let _ = tx.send(e.to_string());
                    }
                }
            });
    if let Some(prefix) = inbox {
        options = options.custom_inbox_prefix(prefix);
    }
    (options.connect(url).await.expect("connects"), rx)
}

async fn refused(
    client: &async_nats::Client,
    errors: &mut mpsc::UnboundedReceiver<String>,
    subject: &str,
) {
    client
        .publish(subject.to_owned(), "{}".into())
        .await
        .expect("the test server answers");
    client.flush().await.expect("the test server answers");
    let error = tokio::time::timeout(Duration::from_secs(5), errors.recv())
        .await
        .expect("the server objects")
        .expect("the test server answers");
    assert!(
        error.to_lowercase().contains("permissions violation"),
        "{error}"
    );
    assert!(error.contains(subject), "{error}");
}

/// A nats-server of the test's own on the configuration shipped for compose: the shipped
/// `nats-server.conf` and `accounts.conf`, laid out by the launcher's own code
/// (`rcn::infra::shipped_nats`), which writes only the host's `storage.conf` (a store folder of
/// the test's; `sync_interval: always` when this nats-server knows it). Port and monitoring port
/// come from the command line, as the launcher gives them.
pub(crate) struct ShippedAccountsServer {
    pub url: String,
    /// The monitoring endpoint (`/varz`, `/connz`).
    pub monitor: String,
    server: tokio::process::Child,
    dir: std::path::PathBuf,
}

impl ShippedAccountsServer {
    pub(crate) async fn start() -> Self {
        use rcn::infra::shipped_nats;
        let dir =
            std::env::temp_dir().join(format!("rcn-nats-perms-{}", uuid::Uuid::new_v4().simple()));
        let binary = rcn::infra::find_binary("nats-server").expect("nats-server is installed");
        let version = shipped_nats::Version::of(&binary).expect("its version");
        let region = rcn_contracts::Region::parse(shipped_nats::SHIPPED_REGION).expect("a region");
        let config = shipped_nats::write(&dir.join("config"), &region, &dir.join("js"), version)
            .expect("the shipped configuration laid out");
        let port = rcn::infra::free_port().expect("a free port");
        let monitor_port = rcn::infra::free_port().expect("a free port");
        let server = tokio::process::Command::new(binary)
            .arg("-c")
            .arg(config)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", &monitor_port.to_string()])
            .envs(PASSWORDS)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        rcn_runtime::testing::eventually(
            Duration::from_secs(10),
            "nats-server to listen",
            || async {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
            },
        )
        .await;
        Self {
            url: format!("nats://127.0.0.1:{port}"),
            monitor: format!("http://127.0.0.1:{monitor_port}"),
            server,
            dir,
        }
    }

    /// The server's `/varz`: what configuration it runs.
    pub(crate) async fn varz(&self) -> serde_json::Value {
        reqwest::get(format!("{}/varz", self.monitor))
            .await
            .expect("the monitoring endpoint answers")
            .json()
            .await
            .expect("JSON")
    }

    pub(crate) async fn stop(mut self) {
        self.server.kill().await.expect("nats-server stops");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn an_institution_and_a_service_may_publish_only_on_their_own_subjects() {
    let server = ShippedAccountsServer::start().await;
    let url = server.url.clone();
    // It is the shipped nats-server.conf that runs, not a test's own.
    let varz = server.varz().await;
    assert_eq!(varz["server_name"], "rcn-nats", "{varz}");
    assert_eq!(
        varz["jetstream"]["config"]["max_storage"],
        10_i64 * 1024 * 1024 * 1024,
        "max_file_store of the shipped file"
    );

    // Intake (a stand-in) answers every institution's submissions.
    let (intake, mut intake_errors) = connect(&url, "intake", "intake-secret", None).await;
    let mut submissions = intake
        .subscribe("rcn.kennemerland.intake.submit.*")
        .await
        .unwrap();
    intake.flush().await.unwrap();
    let responder = intake.clone();
    let received = tokio::spawn(async move {
        let mut subjects = Vec::new();
        while let Ok(Some(m)) =
            tokio::time::timeout(Duration::from_secs(3), submissions.next()).await
        {
            subjects.push(m.subject.to_string());
            if let Some(reply) = m.reply {
                responder
                    .publish(reply, "{\"result\":\"accepted\"}".into())
                    .await
                    .unwrap();
                responder.flush().await.unwrap();
            }
        }
        subjects
    });

    let (haarlem, mut haarlem_errors) = connect(
        &url,
        "PI-HAARLEM",
        "haarlem-secret",
        Some("_INBOX_PI-HAARLEM"),
    )
    .await;
    let reply = haarlem
        .request("rcn.kennemerland.intake.submit.PI-HAARLEM", "{}".into())
        .await
        .expect("its own subject works");
    assert_eq!(&reply.payload[..], b"{\"result\":\"accepted\"}");
    refused(
        &haarlem,
        &mut haarlem_errors,
        "rcn.kennemerland.intake.submit.PI-ZAANSTAD",
    )
    .await;
    refused(
        &haarlem,
        &mut haarlem_errors,
        "rcn.kennemerland.intake.accepted",
    )
    .await;
    refused(
        &haarlem,
        &mut haarlem_errors,
        "rcn.kennemerland.intake.submit",
    )
    .await;
    // Nor may it read others' replies.
    let snoop = haarlem.subscribe("_INBOX.>").await.unwrap();
    haarlem.flush().await.unwrap();
    let error = tokio::time::timeout(Duration::from_secs(5), haarlem_errors.recv())
        .await
        .expect("the server objects")
        .unwrap();
    assert!(
        error
            .to_lowercase()
            .contains("permissions violation for subscription"),
        "{error}"
    );
    drop(snoop);

    refused(
        &intake,
        &mut intake_errors,
        "rcn.kennemerland.routing.routed.GM0392",
    )
    .await;
    // Procesregie publishes its own events, not casework's (whose risk flags it reads).
    let (procesregie, mut procesregie_errors) =
        connect(&url, "procesregie", "procesregie-secret", None).await;
    procesregie
        .publish("rcn.kennemerland.procesregie.ico_opened", "{}".into())
        .await
        .unwrap();
    refused(
        &procesregie,
        &mut procesregie_errors,
        "rcn.kennemerland.casework.risk_flags_noted.GM0392",
    )
    .await;
    // The monitor reads; its dead-letter desk may replay a letter to the region's event subject it
    // came from (accounts.conf), but it may not submit notices or publish in another region.
    let (monitor, mut monitor_errors) = connect(&url, "monitor", "monitor-secret", None).await;
    refused(
        &monitor,
        &mut monitor_errors,
        "rcn.kennemerland.intake.submit",
    )
    .await;
    refused(
        &monitor,
        &mut monitor_errors,
        "rcn.haaglanden.casework.case_opened.GM0392",
    )
    .await;
    let (gateway, mut gateway_errors) = connect(&url, "gateway", "gateway-secret", None).await;
    refused(
        &gateway,
        &mut gateway_errors,
        "rcn.kennemerland.intake.accepted",
    )
    .await;
    // Without its own inbox prefix the institution cannot even receive a reply.
    let (careless, mut careless_errors) = connect(&url, "PI-HAARLEM", "haarlem-secret", None).await;
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        careless.request("rcn.kennemerland.intake.submit.PI-HAARLEM", "{}".into()),
    )
    .await;
    let error = tokio::time::timeout(Duration::from_secs(5), careless_errors.recv())
        .await
        .expect("the server objects")
        .unwrap();
    assert!(
        error
            .to_lowercase()
            .contains("permissions violation for subscription"),
        "{error}"
    );

    assert_eq!(
        received.await.unwrap(),
        ["rcn.kennemerland.intake.submit.PI-HAARLEM"; 2],
        "only the allowed submissions arrived"
    );
    assert!(
        async_nats::ConnectOptions::with_user_and_password("PI-HAARLEM".into(), "wrong".into())
            .max_reconnects(Some(1))
            .connect(&url)
            .await
            .is_err()
    );
    server.stop().await;
}
