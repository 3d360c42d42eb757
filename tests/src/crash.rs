//! The crash harness: rcn's services as separate processes on the harness's **own** nats-server
//! and PostgreSQL (random ports, a temporary folder), so a test can SIGKILL and restart any of
//! them, including the servers, without touching the machine's shared ones.
//!
//! A scenario sends notices as a partner would (resending until it gets a receipt), breaks
//! things meanwhile, and then [`Cluster::audit`] checks every accepted notice: exactly one
//! routing decision, exactly one case entry for each routed one, and exactly one event per
//! decision and per case on the streams.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rcn::infra::{NatsProcess, PostgresProcess};
use rcn_contracts::intake::SubmitReply;
use rcn_contracts::{Region, ReleaseNotice};
use sqlx::{Connection, PgPool};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

/// A service process of the cluster.
pub struct ServiceProcess {
    pub service: &'static str,
    child: Option<Child>,
    log: PathBuf,
    env: Vec<(String, String)>,
}

/// Servers and services of one scenario.
pub struct Cluster {
    pub dir: PathBuf,
    pub nats: NatsProcess,
    pub postgres: PostgresProcess,
    pub region: Region,
    pub database_url: String,
    key: String,
    /// The gateway's identity key for this cluster: the gateway signs with it, the others check.
    identity_key: rcn_runtime::signed_identity::IdentitySigner,
    pub services: Vec<ServiceProcess>,
}

/// What a scenario's audit found; `lost` and `duplicates` must be zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    pub sent: usize,
    pub accepted: usize,
    pub outcomes: usize,
    pub duplicates: usize,
    pub lost: usize,
}

impl std::fmt::Display for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent={} accepted={} outcomes={} duplicates={} lost={}",
            self.sent, self.accepted, self.outcomes, self.duplicates, self.lost
        )
    }
}

/// The `rcn` binary next to this test binary (`target/<profile>/rcn`), built by
/// `cargo test --workspace` because the launcher's own tests need it.
fn rcn_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join("rcn");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p rcn` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

impl Cluster {
    /// Starts nats-server and PostgreSQL in a fresh temporary folder.
    pub async fn start(name: &str) -> Self {
        rcn_runtime::telemetry::init_for_tests();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("rcn-crash-{name}-{}", &id[..8]));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // PostgreSQL runs as its own user when we are root; it must enter the folder.
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let nats = NatsProcess::start(&dir.join("nats"), None)
            .await
            .expect("nats-server starts");
        let postgres = PostgresProcess::start(&dir.join("postgres"), None)
            .await
            .expect("PostgreSQL starts");
        let mut admin = sqlx::PgConnection::connect(&postgres.url())
            .await
            .expect("connect");
        sqlx::query("CREATE DATABASE rcn")
            .execute(&mut admin)
            .await
            .expect("create database");
        let database_url = rcn_runtime::db::with_database(&postgres.url(), "rcn");
        let region = Region::parse(&format!("crash{}", &id[..6])).expect("a region");
        // As an operator does before the services first start (`rcn provision`): the services'
        // own processes only bind to their streams and consumers.
        let (url, token, region_name) = (
            nats.url(),
            nats.token().expect("a token server"),
            region.as_str().to_owned(),
        );
        let config = rcn_runtime::Config::from_lookup(|var| match var {
            "NATS_URL" => Some(url.clone()),
            "NATS_TOKEN" => Some(token.to_owned()),
            "RCN_REGION" => Some(region_name.clone()),
            _ => None,
        })
        .expect("a valid configuration");
        rcn::nats_provision::provision(&config, &rcn::stack::Service::all())
            .await
            .expect("the streams and consumers are provisioned");
        Self {
            dir,
            nats,
            postgres,
            region,
            database_url,
            key: format!("crash-test-key-{id}"),
            identity_key: rcn_runtime::signed_identity::IdentitySigner::generate(),
            services: Vec::new(),
        }
    }

    /// Starts one service process (`rcn run --only <service>`); returns its index.
    pub async fn spawn(&mut self, service: &'static str) -> usize {
        self.spawn_with(service, &[]).await
    }

    /// Starts a service process with extra environment variables.
    pub async fn spawn_with(&mut self, service: &'static str, env: &[(&str, String)]) -> usize {
        let log = self
            .dir
            .join(format!("{service}-{}.log", self.services.len()));
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let mut p = ServiceProcess {
            service,
            child: None,
            log,
            env,
        };
        self.launch(&mut p);
        self.services.push(p);
        self.services.len() - 1
    }

    fn launch(&self, p: &mut ServiceProcess) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p.log)
            .expect("a log file");
        // As in production: only the gateway holds the signing key, the others its public key.
        let identity_key = if p.service == "gateway" {
            ("RCN_IDENTITY_SIGNING_KEY", self.identity_key.seed_hex())
        } else {
            (
                "RCN_IDENTITY_PUBLIC_KEY",
                self.identity_key.public_key_hex(),
            )
        };
        let child = Command::new(rcn_binary())
            .args(["run", "--only", p.service])
            .env(identity_key.0, identity_key.1)
            .env("NATS_URL", self.nats.url())
            .env("NATS_TOKEN", self.nats.token().expect("a token server"))
            .env("DATABASE_URL", &self.database_url)
            .env("RCN_REGION", self.region.as_str())
            .env("RCN_PSEUDONYM_KEY", &self.key)
            .env("RCN_HTTP_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .envs(p.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("rcn starts");
        p.child = Some(child);
    }

    /// SIGKILLs service `i` and waits until it is gone.
    pub async fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.services[i].child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts service `i` again after a kill.
    pub async fn restart(&mut self, i: usize) {
        let mut p = std::mem::replace(
            &mut self.services[i],
            ServiceProcess {
                service: "",
                child: None,
                log: PathBuf::new(),
                env: Vec::new(),
            },
        );
        self.launch(&mut p);
        self.services[i] = p;
    }

    /// A partner connection to this cluster's NATS.
    pub async fn partner(&self) -> Partner {
        let nats = rcn_runtime::nats::connect_as(
            &self.nats.url(),
            &self.nats.auth(),
            "crash-partner",
            Duration::from_secs(10),
        )
        .await
        .expect("connect");
        Partner {
            nats: Arc::new(Mutex::new(nats)),
            url: self.nats.url(),
            auth: self.nats.auth(),
            subject: self.region.subjects().intake_submit(),
        }
    }

    pub async fn pool(&self) -> PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.database_url)
            .await
            .expect("connect")
    }

    /// Waits until every accepted notice has its outcome (or `within` passes), then counts.
    pub async fn audit(&self, sent: usize, accepted: &HashSet<String>, within: Duration) -> Audit {
        let deadline = tokio::time::Instant::now() + within;
        let mut audit;
        loop {
            audit = self.count(sent, accepted).await;
            if audit.lost == 0 || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // Give stragglers (a second instance, a relay) a moment to produce a duplicate, if any.
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.count(sent, accepted).await
    }

    async fn count(&self, sent: usize, accepted: &HashSet<String>) -> Audit {
        let Ok(mut db) = sqlx::PgConnection::connect(&self.database_url).await else {
            return Audit {
                sent,
                accepted: accepted.len(),
                lost: accepted.len(),
                ..Audit::default()
            };
        };
        let decided: Vec<(String, String)> =
            sqlx::query_as("SELECT notice_key, outcome FROM router.decisions")
                .fetch_all(&mut db)
                .await
                .unwrap_or_default();
        let applied: HashSet<String> =
            sqlx::query_scalar("SELECT notice_key FROM casework.case_notices")
                .fetch_all(&mut db)
                .await
                .unwrap_or_default()
                .into_iter()
                .collect();
        // How many case_opened events casework owes (README, "Episodes and the BSN"): one per
        // case that opened work (an episode whose cancellation arrived first is a closed case
        // without tasks, announced to nobody), plus one per move to another municipality and
        // per reopening of a case that had tasks already (each tells the new municipality).
        let cases: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM casework.cases c
                     WHERE EXISTS (SELECT 1 FROM casework.condition_tasks t WHERE t.case_id = c.case_id))
                  + (SELECT count(*) FROM casework.case_history
                     WHERE change = 'rerouted'
                        OR (change = 'reopened' AND detail->>'tasks_created' = 'false'))",
        )
        .fetch_one(&mut db)
        .await
        .unwrap_or(0);
        let decided_keys: HashSet<&String> = decided.iter().map(|(k, _)| k).collect();
        let routed: Vec<&String> = decided
            .iter()
            .filter(|(_, o)| o == "routed")
            .map(|(k, _)| k)
            .collect();

        let missing_decisions = accepted
            .iter()
            .filter(|k| !decided_keys.contains(k))
            .count();
        let missing_cases = routed.iter().filter(|k| !applied.contains(**k)).count();
        let unexpected = decided_keys
            .iter()
            .filter(|k| !accepted.contains(**k))
            .count();
        let outcomes = decided.len() - unexpected;

        // Events: one per decision on ROUTING, the case_opened events owed on CASES.
        let subjects = self.region.subjects();
        let routing_events = self
            .subject_count(
                &subjects.routing_stream().name,
                &format!("rcn.{}.routing.>", self.region),
            )
            .await;
        let opened_events = self
            .subject_count(
                &subjects.cases_stream().name,
                &format!("rcn.{}.casework.case_opened.*", self.region),
            )
            .await;
        let duplicates = routing_events.saturating_sub(decided.len())
            + opened_events.saturating_sub(cases as usize)
            + unexpected;
        let lost_events = decided.len().saturating_sub(routing_events)
            + (cases as usize).saturating_sub(opened_events);
        Audit {
            sent,
            accepted: accepted.len(),
            outcomes,
            duplicates,
            lost: missing_decisions + missing_cases + lost_events,
        }
    }

    async fn subject_count(&self, stream: &str, filter: &str) -> usize {
        let Ok(client) = self.nats.connect("crash-audit").await else {
            return 0;
        };
        let js = async_nats::jetstream::new(client);
        let Ok(stream) = js.get_stream(stream).await else {
            return 0;
        };
        let Ok(mut subjects) = stream.info_with_subjects(filter).await else {
            return 0;
        };
        let mut total = 0;
        while let Some(Ok((_, n))) = subjects.next().await {
            total += n;
        }
        total
    }

    /// Stops everything; keeps the folder (with the service logs) only when `keep` is set.
    pub async fn stop(mut self, keep: bool) {
        for i in 0..self.services.len() {
            self.kill(i).await;
        }
        let _ = self.nats.stop().await;
        let _ = self.postgres.stop().await;
        if keep {
            eprintln!("crash test files kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A detention institution submitting over NATS: it resends a notice until it gets a receipt.
#[derive(Clone)]
pub struct Partner {
    nats: Arc<Mutex<async_nats::Client>>,
    url: String,
    /// The launcher's NATS takes only its token.
    auth: rcn_runtime::nats_auth::NatsAuth,
    subject: String,
}

impl Partner {
    /// Submits until accepted (true) or `patience` runs out (false). A rejection is a bug in the
    /// scenario's notices and panics.
    pub async fn submit(&self, notice: &ReleaseNotice, patience: Duration) -> bool {
        let body: bytes::Bytes = serde_json::to_vec(notice).expect("serialises").into();
        let deadline = tokio::time::Instant::now() + patience;
        while tokio::time::Instant::now() < deadline {
            let nats = self.nats.lock().await.clone();
            let request = async_nats::Request::new()
                .payload(body.clone())
                .timeout(Some(Duration::from_secs(3)));
            match nats.send_request(self.subject.clone(), request).await {
                Ok(reply) => match serde_json::from_slice::<SubmitReply>(&reply.payload) {
                    Ok(SubmitReply::Accepted { .. }) => return true,
                    Ok(SubmitReply::Rejected { problems }) => {
                        panic!("notice {} rejected: {problems:?}", notice.notice_id)
                    }
                    _ => {}
                },
                Err(_) if nats.connection_state() != async_nats::connection::State::Connected => {
                    // After a server restart the old connection may linger; reconnect explicitly.
                    if let Ok(fresh) = rcn_runtime::nats::connect_as(
                        &self.url,
                        &self.auth,
                        "crash-partner",
                        Duration::from_secs(1),
                    )
                    .await
                    {
                        *self.nats.lock().await = fresh;
                    }
                }
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}
