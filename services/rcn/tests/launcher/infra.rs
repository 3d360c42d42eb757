//! Tests of `rcn::infra`: the launcher's own NATS and PostgreSQL start, serve, keep their data
//! through a SIGKILL, and stop. Every test runs its own servers on free ports in a fresh temp
//! folder; none may touch the machine's servers on 4222 / 5432.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use futures::StreamExt;
use rcn::infra::{LocalServers, NatsProcess, PostgresProcess, find_binary};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// A fresh folder under the system temp dir, removed when the test ends. Not `tempfile`:
/// that makes folders mode 0700, which the `postgres` OS user (used when tests run as root)
/// could not enter.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("rcn-launcher-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("scratch folder can be created");
        Self(dir)
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

async fn pool(postgres: &PostgresProcess) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&postgres.url())
        .await
        .expect("the pool connects")
}

async fn nats_refuses_connections(port: u16) -> bool {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
}

async fn postgres_refuses_connections(url: &str) -> bool {
    let attempt = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url)).await;
    matches!(attempt, Ok(Err(_)))
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn find_binary_finds_the_installed_servers_and_nothing_else() {
    assert!(find_binary("nats-server").is_some());
    let postgres = find_binary("postgres").expect("postgres is installed");
    assert!(postgres.is_absolute());
    assert!(find_binary("rcn-no-such-binary").is_none());
}

#[tokio::test]
async fn nats_relays_a_message_between_clients() {
    let scratch = Scratch::new();
    let nats = NatsProcess::start(&scratch.join("nats"), None)
        .await
        .expect("nats starts");
    assert_ne!(nats.port(), 4222, "never the machine's own server");
    assert!(nats.url().starts_with("nats://127.0.0.1:"));

    let client = nats.connect("test").await.expect("client connects");
    let mut inbox = client.subscribe("rcn.test.ping").await.expect("subscribes");
    client
        .publish("rcn.test.ping", "hallo".into())
        .await
        .expect("publishes");
    client.flush().await.expect("flushes");
    let message = tokio::time::timeout(Duration::from_secs(5), inbox.next())
        .await
        .expect("the message arrives in time")
        .expect("the subscription is open");
    assert_eq!(message.payload.as_ref(), b"hallo");
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("the file exists")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_launchers_servers_let_in_only_who_holds_their_generated_secrets() {
    let scratch = Scratch::new();
    let servers = LocalServers::start(&scratch.0).await.expect("both start");
    let (nats, postgres) = (&servers.nats, &servers.postgres);
    for file in [
        nats.secret_path(),
        postgres.password_file(),
        postgres.pgpass_file(),
    ] {
        assert_eq!(mode(file), 0o600, "{}", file.display());
        assert!(file.starts_with(&scratch.0));
    }
    assert!(!nats.url().contains(nats.token().expect("a token server")));
    assert!(
        !postgres.public_url().contains(
            std::fs::read_to_string(postgres.password_file())
                .unwrap()
                .trim()
        )
    );

    // NATS: no token, or a wrong one, is not let in.
    assert!(async_nats::connect(nats.url()).await.is_err());
    let wrong = async_nats::ConnectOptions::with_token("guessed".into())
        .connect(nats.url())
        .await;
    assert!(wrong.is_err());
    nats.connect("test").await.expect("the token lets in");

    // PostgreSQL: no password, or a wrong one, is not let in over TCP.
    let port = postgres.port();
    let without = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let options: sqlx::postgres::PgConnectOptions = without.parse().unwrap();
    let refused = PgConnection::connect_with(&options.clone().password("")).await;
    assert!(refused.is_err(), "no password, no entry");
    let refused = PgConnection::connect_with(&options.password("guessed")).await;
    let Err(sqlx::Error::Database(e)) = refused else {
        panic!("a wrong password is refused by the server: {refused:?}")
    };
    assert_eq!(
        e.code().as_deref(),
        Some("28P01"),
        "password authentication failed"
    );
    pool(postgres).await;
}

#[tokio::test]
async fn postgres_answers_a_query_with_durable_settings() {
    let scratch = Scratch::new();
    let postgres = PostgresProcess::start(&scratch.join("postgres"), None)
        .await
        .expect("postgres starts");
    assert_ne!(postgres.port(), 5432, "never the machine's own server");
    assert!(scratch.join("postgres").join("PG_VERSION").is_file());

    let pool = pool(&postgres).await;
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .expect("queries");
    assert_eq!(one, 1);
    let fsync: String = sqlx::query_scalar("SHOW fsync")
        .fetch_one(&pool)
        .await
        .expect("shows fsync");
    assert_eq!(fsync, "on");
    let encoding: String = sqlx::query_scalar("SHOW server_encoding")
        .fetch_one(&pool)
        .await
        .expect("shows the encoding");
    assert_eq!(encoding, "UTF8");
}

#[tokio::test]
async fn jetstream_messages_survive_a_nats_kill() {
    let scratch = Scratch::new();
    let mut nats = NatsProcess::start(&scratch.join("nats"), None)
        .await
        .expect("nats starts");
    let client = nats.connect("test").await.expect("client connects");
    let js = jetstream::new(client);
    js.create_stream(stream::Config {
        name: "SURVIVAL".to_owned(),
        subjects: vec!["rcn.test.survival.>".to_owned()],
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .expect("creates a file-backed stream");
    for n in 0..3 {
        js.publish(format!("rcn.test.survival.{n}"), "bewaard".into())
            .await
            .expect("publishes")
            .await
            .expect("the server acknowledges");
    }
    drop(js);

    nats.kill().await.expect("kills nats");
    assert!(!nats.is_running());
    assert!(
        nats_refuses_connections(nats.port()).await,
        "the server is really gone"
    );

    nats.restart().await.expect("nats restarts");
    let client = nats.connect("test").await.expect("client reconnects");
    let js = jetstream::new(client);
    let mut stream = js
        .get_stream("SURVIVAL")
        .await
        .expect("the stream survived");
    let info = stream.info().await.expect("stream info");
    assert_eq!(info.state.messages, 3);
}

#[tokio::test]
async fn committed_rows_survive_a_postgres_kill_and_open_transactions_do_not() {
    let scratch = Scratch::new();
    let mut postgres = PostgresProcess::start(&scratch.join("postgres"), None)
        .await
        .expect("postgres starts");
    let pool = pool(&postgres).await;
    sqlx::query("CREATE TABLE survival (note text NOT NULL)")
        .execute(&pool)
        .await
        .expect("creates a table");
    sqlx::query("INSERT INTO survival VALUES ('kept')")
        .execute(&pool)
        .await
        .expect("commits a row");
    // A backend in the middle of a transaction at the moment of the kill, as in a real crash.
    let mut open = pool.begin().await.expect("begins");
    sqlx::query("INSERT INTO survival VALUES ('lost')")
        .execute(&mut *open)
        .await
        .expect("inserts without commit");

    let old_pid = postgres.pid().expect("the postmaster runs");
    postgres.kill().await.expect("kills postgres");
    assert!(!postgres.is_running());
    assert!(!process_exists(old_pid), "the postmaster is really gone");
    assert!(postgres_refuses_connections(&postgres.url()).await);
    drop(open);
    pool.close().await;

    postgres
        .restart()
        .await
        .expect("postgres restarts after a kill");
    let pool = self::pool(&postgres).await;
    let notes: Vec<String> = sqlx::query_scalar("SELECT note FROM survival")
        .fetch_all(&pool)
        .await
        .expect("reads the table");
    assert_eq!(notes, vec!["kept".to_owned()]);
}

#[tokio::test]
async fn stopped_servers_free_their_ports_and_restart_on_them() {
    let scratch = Scratch::new();
    let mut servers = LocalServers::start(&scratch.0).await.expect("both start");
    assert!(scratch.join("nats").join("jetstream").is_dir());
    assert!(scratch.join("postgres").join("PG_VERSION").is_file());

    servers.stop().await.expect("both stop");
    let (nats_port, postgres_port) = (servers.nats.port(), servers.postgres.port());
    std::net::TcpListener::bind(("127.0.0.1", nats_port)).expect("the NATS port is free");
    std::net::TcpListener::bind(("127.0.0.1", postgres_port)).expect("the PostgreSQL port is free");

    servers.nats.restart().await.expect("nats restarts");
    servers.postgres.restart().await.expect("postgres restarts");
    assert_eq!(servers.nats.port(), nats_port);
    servers
        .nats
        .connect("test")
        .await
        .expect("nats serves again");
    let pool = pool(&servers.postgres).await;
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("postgres serves again");
}

#[tokio::test]
async fn a_taken_port_is_refused_instead_of_shared() {
    let scratch = Scratch::new();
    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("binds");
    let port = taken.local_addr().expect("has an address").port();

    let error = NatsProcess::start(&scratch.join("nats"), Some(port))
        .await
        .err()
        .expect("nats refuses the taken port");
    assert!(
        format!("{error:#}").contains("already in use"),
        "unclear error: {error:#}"
    );
    let error = PostgresProcess::start(&scratch.join("postgres"), Some(port))
        .await
        .err()
        .expect("postgres refuses the taken port");
    assert!(
        format!("{error:#}").contains("already in use"),
        "unclear error: {error:#}"
    );
}

#[tokio::test]
async fn dropping_a_handle_ends_its_server() {
    let scratch = Scratch::new();
    let nats = NatsProcess::start(&scratch.join("nats"), None)
        .await
        .expect("nats starts");
    let postgres = PostgresProcess::start(&scratch.join("postgres"), None)
        .await
        .expect("postgres starts");
    let nats_pid = nats.pid().expect("nats runs");
    let postgres_pid = postgres.pid().expect("postgres runs");

    drop(nats);
    drop(postgres);
    assert!(!process_exists(nats_pid));
    assert!(!process_exists(postgres_pid));
}

#[tokio::test]
async fn a_folder_with_foreign_files_is_not_initialised_over() {
    let scratch = Scratch::new();
    let data = scratch.join("postgres");
    std::fs::create_dir_all(&data).expect("creates the folder");
    std::fs::write(data.join("notes.txt"), "not a cluster").expect("writes a file");

    let error = PostgresProcess::start(&data, None)
        .await
        .err()
        .expect("refuses the folder");
    assert!(
        format!("{error:#}").contains("PG_VERSION"),
        "unclear error: {error:#}"
    );
    assert!(data.join("notes.txt").is_file(), "the file is untouched");
}
