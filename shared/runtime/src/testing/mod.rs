//! Test support: a fresh, isolated environment on the real NATS and PostgreSQL servers.
//!
//! Each [`TestEnv`] gets a random region (so its subjects and streams are its own) and a fresh
//! database (so its tables are its own). Servers come from `TEST_NATS_URL` / `TEST_DATABASE_URL`,
//! defaulting to the machine's local ones; a NATS token from the file `TEST_NATS_TOKEN_FILE` and
//! a PostgreSQL password from `PGPASSFILE` when the servers ask for them (the launcher's own). Only compiled with the `testing` feature.
//!
//! Alongside it, the pieces every service's test harness needs: a service running in a task
//! ([`RunningService`]), the messages a stream holds, counts, and "has the service settled".
//! Typed, crate-specific helpers stay in the crates' own `tests/`.

pub mod fuzz;

use std::future::Future;

use async_nats::jetstream::message::StreamMessage;
use rcn_contracts::Region;
use rcn_contracts::pseudonym::PseudonymKey;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::signed_identity::IdentitySigner;

/// An isolated region and database for one test.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub config: Config,
    pub database_name: String,
}

impl TestEnv {
    pub async fn new() -> Self {
        crate::telemetry::init_for_tests();
        let nats_url = test_nats_url();
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let id = uuid::Uuid::new_v4().simple().to_string();
        let now = chrono::Utc::now().timestamp();
        let database_name = format!("{TEST_DB_PREFIX}{now}_{}", &id[..8]);
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to TEST_DATABASE_URL");
        CLEANED
            .get_or_init(|| async {
                remove_stale_databases(&mut admin, now).await;
                remove_stale_streams().await;
            })
            .await;
        sqlx::query(&format!("CREATE DATABASE {database_name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let database_url = crate::db::with_database(&admin_url, &database_name);
        let mut config = Config::from_lookup(|_| None).expect("defaults are valid");
        config.nats_url = Some(nats_url);
        config.nats_auth = test_nats_auth();
        config.database_url = Some(database_url);
        config.region = Region::parse(&format!("t{}", &id[12..24])).expect("valid region");
        config.pseudonym_key = Some(PseudonymKey::new(format!("test-key-{id}")));
        config.db_pool_size = 4;
        // The gateway's key as this test plays it: every identity a test sends is signed with it
        // through [`TestEnv::signed`], exactly as the gateway signs.
        config.set_identity_signer(IdentitySigner::generate());
        Self {
            config,
            database_name,
        }
    }
}

/// Test databases are named `rcn_t_<unix seconds>_<random>`, so stale ones can be recognised.
const TEST_DB_PREFIX: &str = "rcn_t_";
/// What a test run leaves behind is removed by a later run once it is this old (seconds).
const STALE_AFTER: i64 = 3600;
/// Each test binary cleans up once.
static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Drops test databases of earlier runs (a test cannot drop its own: it may still be running).
async fn remove_stale_databases(admin: &mut PgConnection, now: i64) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'rcn\\_t\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name
            .strip_prefix(TEST_DB_PREFIX)
            .and_then(|r| r.split('_').next())
            .and_then(|t| t.parse::<i64>().ok());
        if created.is_some_and(|t| now - t > STALE_AFTER) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// `TEST_NATS_URL`, the machine's own server by default.
fn test_nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// The token in the file `TEST_NATS_TOKEN_FILE` names (the launcher's own server, `rcn servers`
/// prints it as `NATS_TOKEN_FILE`); none otherwise.
fn test_nats_auth() -> crate::nats_auth::NatsAuth {
    match std::env::var("TEST_NATS_TOKEN_FILE") {
        Ok(path) => {
            let token = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("TEST_NATS_TOKEN_FILE {path}: {e}"));
            crate::nats_auth::NatsAuth::Token(crate::config::Secret::new(token.trim()))
        }
        Err(_) => crate::nats_auth::NatsAuth::None,
    }
}

/// A client of the test NATS server (`TEST_NATS_URL`, with `TEST_NATS_TOKEN_FILE`'s token).
pub async fn test_nats(name: &str) -> async_nats::Client {
    crate::nats::connect_as(
        &test_nats_url(),
        &test_nats_auth(),
        name,
        std::time::Duration::from_secs(10),
    )
    .await
    .expect("connect to TEST_NATS_URL")
}

/// Deletes the streams of test regions (`T<12 hex>_…`) created more than an hour ago.
async fn remove_stale_streams() {
    use futures::StreamExt;
    let Ok(client) = crate::nats::connect_as(
        &test_nats_url(),
        &test_nats_auth(),
        "rcn-test-cleanup",
        std::time::Duration::from_secs(5),
    )
    .await
    else {
        return;
    };
    let js = async_nats::jetstream::new(client);
    let mut streams = js.streams();
    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::seconds(STALE_AFTER);
    let mut stale = Vec::new();
    while let Some(Ok(info)) = streams.next().await {
        let name = &info.config.name;
        let is_test = name.len() > 14
            && name.starts_with('T')
            && name.as_bytes()[13] == b'_'
            && name[1..13].bytes().all(|b| b.is_ascii_hexdigit());
        if is_test && info.created < cutoff {
            stale.push(name.clone());
        }
    }
    for name in stale {
        let _ = js.delete_stream(&name).await;
    }
}

impl TestEnv {
    /// Creates the streams and durable consumers `services` need, as `rcn provision` does (the
    /// same code), with an administrative connection to the test server: services only bind to
    /// them.
    pub async fn provision(&self, services: &[crate::provision::Resources]) {
        let nats = crate::nats::connect_as(
            self.config.nats_url().expect("set by TestEnv"),
            &self.config.nats_auth,
            "rcn-provision",
            std::time::Duration::from_secs(10),
        )
        .await
        .expect("connect to the test NATS");
        crate::provision::apply(&async_nats::jetstream::new(nats), services)
            .await
            .expect("the streams and consumers are provisioned");
    }

    /// A service context on this environment, connected as `name`.
    pub async fn ctx(&self, name: &str) -> crate::Ctx {
        crate::Ctx::connect(self.config.clone(), name)
            .await
            .expect("connect to the test NATS")
    }

    /// Headers carrying `identity` (an `Rcn-Identity` value) to `subject` with `body`, signed as
    /// the gateway signs: the one way tests speak for a person or a partner.
    pub fn signed(&self, identity: &str, subject: &str, body: &[u8]) -> async_nats::HeaderMap {
        self.signer().sign(identity, subject, body)
    }

    /// The `Rcn-Identity` of a request a stand-in received, checked as a service checks it:
    /// `None` without one, `Some("refused: …")` when its signature does not hold.
    pub fn identity_of(&self, m: &async_nats::Message) -> Option<String> {
        let verifier = self
            .config
            .identity_verifier()
            .expect("set by TestEnv::new");
        match verifier.verify(m.subject.as_str(), m.headers.as_ref(), &m.payload) {
            Ok(identity) => identity.map(str::to_owned),
            Err(refused) => Some(format!("refused: {refused}")),
        }
    }

    /// The gateway's signing key of this environment.
    pub fn signer(&self) -> &IdentitySigner {
        self.config
            .identity_signer
            .as_ref()
            .expect("a test environment signs identities")
    }

    /// A plain pool on the test database, for assertions across schemas (`casework.cases`).
    pub async fn db(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(self.config.database_url().expect("set"))
            .await
            .expect("connect to the test database")
    }

    /// How many messages a stream of this region holds (0 when the stream does not exist).
    pub async fn stream_len(
        &self,
        js: &async_nats::jetstream::Context,
        stream: &rcn_contracts::StreamDef,
    ) -> u64 {
        match js.get_stream(&stream.name).await {
            Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        }
    }
}

/// Polls `check` until it returns `Some`, for at most `within`; panics with `what` otherwise.
pub async fn eventually<T, F, Fut>(within: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Every message a stream holds, in order (none when the stream does not exist).
pub async fn stream_messages(
    js: &async_nats::jetstream::Context,
    def: &rcn_contracts::StreamDef,
) -> Vec<StreamMessage> {
    let Ok(mut stream) = js.get_stream(&def.name).await else {
        return Vec::new();
    };
    let state = stream.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    if state.messages > 0 {
        for seq in state.first_sequence..=state.last_sequence {
            out.push(stream.get_raw_message(seq).await.expect("a stored message"));
        }
    }
    out
}

/// The value of a header of a stored message.
pub fn header<'a>(m: &'a StreamMessage, name: &str) -> Option<&'a str> {
    m.headers.get(name).map(|v| v.as_str())
}

/// The result of `sql`, a `SELECT count(*) …`; panics when the query fails.
pub async fn count(db: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db)
        .await
        .expect("the query runs")
}

/// The result of `sql`, a `SELECT count(*) …`, or `None` while it fails (a service that has not
/// migrated its schema yet): for polls inside [`eventually`].
pub async fn try_count(db: &sqlx::PgPool, sql: &str) -> Option<i64> {
    sqlx::query_scalar(sql).fetch_one(db).await.ok()
}

/// `Some` once the consumer `durable` of the stream `stream` has acked its first `n` messages
/// with none pending and the outbox table `outbox` is empty: all the service will ever do about
/// those messages is done. A poll for [`eventually`], so each crate keeps its own wording.
pub async fn settled(
    js: &async_nats::jetstream::Context,
    stream: &str,
    durable: &str,
    n: u64,
    db: &sqlx::PgPool,
    outbox: &str,
) -> Option<()> {
    let stream = js.get_stream(stream).await.ok()?;
    let info = stream.consumer_info(durable).await.ok()?;
    let outbox = try_count(db, &format!("SELECT count(*) FROM {outbox}")).await?;
    (info.ack_floor.stream_sequence >= n && info.num_ack_pending == 0 && outbox == 0).then_some(())
}

/// A service's `run` future in a task, started the way its launcher starts it (the caller owns
/// the token that stops it) so a test stops it the way SIGTERM does.
pub struct RunningService {
    /// Who runs, as the panic messages name it ("the router stops in time").
    name: String,
    /// Cancelled by [`RunningService::stop`], and on drop so a failed test's service winds down
    /// instead of consuming on after its test.
    shutdown: CancellationToken,
    /// Taken by `stop`, which awaits it to see the service drain and return `Ok`.
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RunningService {
    /// Spawns `run` with a fresh shutdown token.
    pub fn spawn<F, Fut>(name: impl Into<String>, run: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let shutdown = CancellationToken::new();
        let task = run(shutdown.clone());
        Self::spawn_stopped_by(name, shutdown, task)
    }

    /// Spawns `task`, which `shutdown` stops: for a service that takes its token while it starts,
    /// before the future to await exists (the launcher's `Stack::start`, then `wait`).
    pub fn spawn_stopped_by(
        name: impl Into<String>,
        shutdown: CancellationToken,
        task: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            shutdown,
            handle: Some(tokio::spawn(task)),
        }
    }

    /// Asks the service to stop, without waiting for it.
    pub fn cancel(&self) {
        self.shutdown.cancel();
    }

    /// Stops the service and checks it returns `Ok` within `within`.
    pub async fn stop(mut self, within: std::time::Duration) {
        self.shutdown.cancel();
        let handle = self.handle.take().expect("running");
        let name = &self.name;
        let result = tokio::time::timeout(within, handle)
            .await
            .unwrap_or_else(|e| panic!("{name} stops in time: {e:?}"));
        result
            .expect("no panic")
            .unwrap_or_else(|e| panic!("{name} stops cleanly: {e:?}"));
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::RunningService;

    const WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

    #[tokio::test]
    async fn a_service_that_drains_on_its_token_stops_cleanly() {
        let service = RunningService::spawn("the stand-in", |shutdown| async move {
            shutdown.cancelled().await;
            Ok(())
        });
        service.stop(WITHIN).await;
    }

    #[tokio::test]
    #[should_panic(expected = "the stand-in stops cleanly")]
    async fn a_service_that_fails_as_it_stops_fails_the_test() {
        let service = RunningService::spawn("the stand-in", |shutdown| async move {
            shutdown.cancelled().await;
            anyhow::bail!("could not drain")
        });
        service.stop(WITHIN).await;
    }
}
