//! The launcher's own servers: a `nats-server -js` and a PostgreSQL cluster started from the
//! locally installed binaries under one data folder (`<root>/nats`, `<root>/postgres`).
//!
//! The launcher uses this when `NATS_URL` / `DATABASE_URL` are not set, so a newcomer needs
//! nothing configured; crash tests use the same handles to SIGKILL and restart a server under a
//! running stack. It is for development and tests: production gets its servers from compose or
//! the platform.
//!
//! It must never touch a server it did not start (the machine's own NATS on 4222 and PostgreSQL
//! on 5432 included: it refuses a port that is already taken instead of talking to whoever holds
//! it), never initialise over or delete a folder that holds data, and never leave a server
//! running after the launcher is gone.

use std::future::Future;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};
use tracing::{debug, info, warn};

/// JetStream restores every stream from disk before it accepts clients, so a big store is slow.
const NATS_START_TIMEOUT: Duration = Duration::from_secs(30);
/// Crash recovery replays WAL before the first connection is accepted.
const POSTGRES_START_TIMEOUT: Duration = Duration::from_secs(60);
const NATS_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// A fast shutdown still writes a checkpoint.
const POSTGRES_STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// `Drop` blocks its thread, so it waits less than an orderly `stop()` before it kills.
const DROP_GRACE: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// After a kill, the dead server's children can hold its listening socket for a moment.
const PORT_RELEASE_WAIT: Duration = Duration::from_secs(5);
const LOG_TAIL_LINES: usize = 30;
/// `sun_path` holds 108 bytes including the NUL; longer socket paths make PostgreSQL refuse to start.
const MAX_UNIX_SOCKET_PATH: usize = 107;

/// The sub-folders of the launcher's data root, one per server.
const NATS_DIR: &str = "nats";
const POSTGRES_DIR: &str = "postgres";

/// Both local servers of the launcher, laid out under one data root.
pub struct LocalServers {
    pub nats: NatsProcess,
    pub postgres: PostgresProcess,
}

impl LocalServers {
    /// Starts NATS in `<root>/nats` and PostgreSQL in `<root>/postgres`, each on a free port.
    /// If one fails, the other is stopped again (by its `Drop`).
    pub async fn start(root: &Path) -> Result<Self> {
        let (nats_dir, postgres_dir) = (root.join(NATS_DIR), root.join(POSTGRES_DIR));
        let (nats, postgres) = tokio::try_join!(
            NatsProcess::start(&nats_dir, None),
            PostgresProcess::start(&postgres_dir, None),
        )?;
        Ok(Self { nats, postgres })
    }

    /// Stops both servers gracefully; call it after the services have drained.
    pub async fn stop(&mut self) -> Result<()> {
        let (nats, postgres) = tokio::join!(self.nats.stop(), self.postgres.stop());
        nats.and(postgres)
    }
}

/// A `nats-server -js` started by the launcher, with its JetStream store in a folder of ours.
pub struct NatsProcess {
    /// Where the server binary was found; a restart must use the same one.
    binary: PathBuf,
    /// Kept across restarts so clients can reconnect to the same URL.
    port: u16,
    /// JetStream's file store; what must survive a kill.
    store_dir: PathBuf,
    /// The server's stdout and stderr, appended across restarts; its tail goes into start errors.
    log_path: PathBuf,
    /// `None` after `kill` / `stop` until the next `restart`.
    child: Option<Child>,
}

impl NatsProcess {
    /// Starts `nats-server -js -a 127.0.0.1 -p PORT -sd STORE_DIR` and waits until it greets a
    /// client with JetStream enabled. `port: None` picks a free one.
    pub async fn start(store_dir: &Path, port: Option<u16>) -> Result<Self> {
        let binary = find_binary("nats-server").ok_or_else(|| {
            anyhow!(
                "nats-server not found on PATH or in /usr/sbin: install it with \
                 `apt-get install nats-server`, or set NATS_URL to use a running server"
            )
        })?;
        let store_dir = std::path::absolute(store_dir)
            .with_context(|| format!("invalid NATS store folder {}", store_dir.display()))?;
        std::fs::create_dir_all(&store_dir).with_context(|| {
            format!("could not create NATS store folder {}", store_dir.display())
        })?;
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let mut nats = Self {
            binary,
            port,
            log_path: store_dir.join("nats-server.log"),
            store_dir,
            child: None,
        };
        nats.launch(Duration::ZERO).await?;
        Ok(nats)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id while it runs; crash tests use it to signal the server directly.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(is_alive)
    }

    /// SIGKILL, as a crash would: nothing is flushed or closed. Waits until the process is gone.
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            kill_child(&mut child)
                .await
                .context("could not SIGKILL nats-server")?;
        }
        Ok(())
    }

    /// SIGTERM, then SIGKILL if the server has not exited within a bounded wait.
    pub async fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, "TERM", NATS_STOP_TIMEOUT, "nats-server").await?;
        }
        Ok(())
    }

    /// Starts the server again on the same port and store (stopping it first if it still runs).
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        self.launch(PORT_RELEASE_WAIT).await
    }

    /// `port_wait`: how long a taken port may take to come free (a restart reuses its port).
    async fn launch(&mut self, port_wait: Duration) -> Result<()> {
        wait_for_free_port(self.port, "nats-server", port_wait).await?;
        let (log, log_file) = ServerLog::open(&self.log_path)?;
        let mut command = server_command(&self.binary);
        command
            .arg("-js")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.store_dir)
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        let mut child = spawn_child(command)
            .await
            .with_context(|| format!("could not start {}", self.binary.display()))?;

        let port = self.port;
        match wait_for_startup(&mut child, NATS_START_TIMEOUT, || nats_greeting(port)).await? {
            Startup::Ready(info) if info.contains("\"jetstream\":true") => {}
            Startup::Ready(_) => {
                kill_child(&mut child).await.ok();
                bail!(
                    "nats-server on port {port} started without JetStream; {}",
                    log.tail()
                );
            }
            Startup::Exited(status) => bail!(
                "nats-server exited ({status}) before it accepted clients on port {port}; {}",
                log.tail()
            ),
            Startup::TimedOut => {
                kill_child(&mut child).await.ok();
                bail!(
                    "nats-server did not accept clients on port {port} within {NATS_START_TIMEOUT:?}; {}",
                    log.tail()
                );
            }
        }
        info!(url = %self.url(), pid = child.id(), store = %self.store_dir.display(), "nats-server is up");
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for NatsProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            stop_child_blocking(child, "TERM", DROP_GRACE);
        }
    }
}

/// A PostgreSQL cluster started by the launcher, listening on 127.0.0.1 with trust auth.
pub struct PostgresProcess {
    /// PGDATA; it also holds the unix socket and our log, so one folder is the whole server.
    data_dir: PathBuf,
    /// Kept across restarts so pools can reconnect to the same URL.
    port: u16,
    /// The server binaries of the major version that created (or will create) the cluster.
    bin_dir: PathBuf,
    /// PostgreSQL refuses to run as root; when we are root it runs as the `postgres` OS user.
    run_as: Option<OsUser>,
    /// The postmaster's stdout and stderr, appended across restarts.
    log_path: PathBuf,
    /// `None` after `kill` / `stop` until the next `restart`.
    child: Option<Child>,
}

impl PostgresProcess {
    /// Creates the cluster if `data_dir` is missing or empty (`initdb -U postgres --auth=trust
    /// -E UTF8`), then starts the postmaster on `127.0.0.1:PORT` and waits until it answers a
    /// query. `port: None` picks a free one.
    pub async fn start(data_dir: &Path, port: Option<u16>) -> Result<Self> {
        let data_dir = std::path::absolute(data_dir)
            .with_context(|| format!("invalid PostgreSQL data folder {}", data_dir.display()))?;
        let run_as = postgres_os_user()?;
        let bin_dir = postgres_bin_dir(&data_dir)?;
        ensure_cluster(&bin_dir, &data_dir, run_as).await?;
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let mut postgres = Self {
            log_path: data_dir.join("postmaster.log"),
            data_dir,
            port,
            bin_dir,
            run_as,
            child: None,
        };
        postgres.launch(Duration::ZERO).await?;
        Ok(postgres)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(is_alive)
    }

    /// SIGKILL of the postmaster, as a crash would. Its backends notice and exit on their own;
    /// `restart` waits for them.
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            kill_child(&mut child)
                .await
                .context("could not SIGKILL the postmaster")?;
        }
        Ok(())
    }

    /// Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit), SIGKILL after a
    /// bounded wait.
    pub async fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, "INT", POSTGRES_STOP_TIMEOUT, "PostgreSQL").await?;
        }
        Ok(())
    }

    /// Starts the server again on the same port and data (stopping it first if it still runs).
    pub async fn restart(&mut self) -> Result<()> {
        self.stop().await?;
        self.launch(PORT_RELEASE_WAIT).await
    }

    /// `port_wait`: how long a taken port may take to come free (a restart reuses its port).
    async fn launch(&mut self, port_wait: Duration) -> Result<()> {
        if let Some(user) = self.run_as {
            check_reachable(&self.data_dir, user)?;
        }
        let socket_dir = unix_socket_setting(&self.data_dir, self.port);
        let deadline = Instant::now() + POSTGRES_START_TIMEOUT;
        loop {
            wait_for_free_port(self.port, "PostgreSQL", port_wait).await?;
            let (log, log_file) = ServerLog::open(&self.log_path)?;
            if let Some(user) = self.run_as {
                // Everything in PGDATA belongs to the server's user, or its tools trip over it.
                std::os::unix::fs::chown(&self.log_path, Some(user.uid), Some(user.gid))
                    .with_context(|| {
                        format!("could not hand {} to postgres", self.log_path.display())
                    })?;
            }
            let mut command = server_command(&self.bin_dir.join("postgres"));
            command
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-p", &self.port.to_string()])
                .args(["-c", "listen_addresses=127.0.0.1"])
                .args(["-c", &format!("unix_socket_directories={socket_dir}")])
                // Command-line settings beat postgresql.conf: durability cannot be edited away.
                .args(["-c", "fsync=on", "-c", "synchronous_commit=on"])
                .args(["-c", "full_page_writes=on"])
                // English messages, because `launch` recognises one of them below.
                .args(["-c", "lc_messages=C"])
                .args([
                    "-c",
                    "logging_collector=off",
                    "-c",
                    "log_destination=stderr",
                ])
                // Every service has its own pool, and tests run many stacks against one server.
                .args(["-c", "max_connections=200"])
                .current_dir(&self.data_dir)
                .stdout(log_file.try_clone()?)
                .stderr(log_file);
            if let Some(user) = self.run_as {
                command.uid(user.uid).gid(user.gid);
            }
            let mut child = spawn_child(command).await.with_context(|| {
                format!(
                    "could not start {}",
                    self.bin_dir.join("postgres").display()
                )
            })?;

            let port = self.port;
            let left = deadline.saturating_duration_since(Instant::now());
            match wait_for_startup(&mut child, left, || postgres_answers(port)).await? {
                Startup::Ready(()) => {
                    info!(url = %self.url(), pid = child.id(), data = %self.data_dir.display(), "PostgreSQL is up");
                    self.child = Some(child);
                    return Ok(());
                }
                Startup::Exited(status) => {
                    // After a SIGKILL the old backends hold the shared memory until they have
                    // noticed their postmaster is gone; the new postmaster refuses to start
                    // until then, which takes moments.
                    if log
                        .since_start()
                        .contains("pre-existing shared memory block")
                        && Instant::now() < deadline
                    {
                        debug!("old PostgreSQL backends still attached; retrying");
                        sleep(Duration::from_millis(250)).await;
                        continue;
                    }
                    bail!(
                        "PostgreSQL exited ({status}) before it accepted connections on port {port}; {}",
                        log.tail()
                    );
                }
                Startup::TimedOut => {
                    kill_child(&mut child).await.ok();
                    bail!(
                        "PostgreSQL did not accept connections on port {port} within {POSTGRES_START_TIMEOUT:?}; {}",
                        log.tail()
                    );
                }
            }
        }
    }
}

impl Drop for PostgresProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            stop_child_blocking(child, "INT", DROP_GRACE);
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago (the OS picks it; nothing holds it after).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("could not find a free TCP port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// Finds an executable on PATH, then in the sbin folders (Debian puts nats-server in
/// /usr/sbin, which a normal user's PATH lacks), then in the newest
/// /usr/lib/postgresql/<version>/bin (Debian keeps the PostgreSQL server binaries off PATH).
pub fn find_binary(name: &str) -> Option<PathBuf> {
    // PATH is the operating system's program search path, not configuration of ours.
    let path_dirs = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let sbin_dirs = ["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from);
    path_dirs
        .into_iter()
        .filter(|dir| dir.is_absolute())
        .chain(sbin_dirs)
        .chain(postgres_version_dirs())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// `/usr/lib/postgresql/<version>/bin`, newest version first.
fn postgres_version_dirs() -> Vec<PathBuf> {
    let mut versions: Vec<((u32, u32), PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let mut parts = name.split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next().map_or(Some(0), |minor| minor.parse().ok())?;
            Some(((major, minor), entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The folder holding `postgres` and `initdb` for this data folder.
fn postgres_bin_dir(data_dir: &Path) -> Result<PathBuf> {
    // A cluster only runs under the major version that created it; prefer that one when
    // several are installed.
    if let Ok(version) = std::fs::read_to_string(data_dir.join("PG_VERSION")) {
        let dir = Path::new("/usr/lib/postgresql")
            .join(version.trim())
            .join("bin");
        if is_executable(&dir.join("postgres")) {
            return Ok(dir);
        }
    }
    let missing = || {
        anyhow!(
            "PostgreSQL server binaries (postgres, initdb) not found on PATH or in \
             /usr/lib/postgresql/*/bin: install them with `apt-get install postgresql`, \
             or set DATABASE_URL to use a running server"
        )
    };
    let postgres = find_binary("postgres").ok_or_else(missing)?;
    // /usr/local/bin/postgres may be a symlink; initdb sits beside the real binary.
    let dir = std::fs::canonicalize(&postgres)
        .ok()
        .and_then(|real| real.parent().map(Path::to_path_buf))
        .ok_or_else(missing)?;
    if !is_executable(&dir.join("initdb")) {
        return Err(missing());
    }
    Ok(dir)
}

/// An OS account to run a server as.
#[derive(Clone, Copy)]
struct OsUser {
    uid: u32,
    gid: u32,
}

/// `Some(postgres)` when we run as root, because PostgreSQL refuses to.
fn postgres_os_user() -> Result<Option<OsUser>> {
    if effective_uid()? != 0 {
        return Ok(None);
    }
    let id = |flag: &str| -> Option<u32> {
        let output = std::process::Command::new("id")
            .args([flag, "postgres"])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        String::from_utf8(output.stdout).ok()?.trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(Some(OsUser { uid, gid })),
        _ => bail!(
            "PostgreSQL refuses to run as root and there is no `postgres` OS user to run it as: \
             install the `postgresql` package (it creates that user) or run the launcher as a \
             normal user"
        ),
    }
}

fn effective_uid() -> Result<u32> {
    // Without libc, /proc is the safe way to ask; the line is "Uid: real effective saved fs".
    let status = std::fs::read_to_string("/proc/self/status")
        .context("could not read /proc/self/status to learn our user id")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|euid| euid.parse().ok())
        .context("no effective user id in /proc/self/status")
}

/// Refuses early, with advice, when the `postgres` OS user cannot reach the data folder (for
/// example a project under /root); PostgreSQL's own error would only say "permission denied".
fn check_reachable(data_dir: &Path, user: OsUser) -> Result<()> {
    for dir in data_dir.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(dir) else {
            continue;
        };
        let mode = meta.mode();
        // Only one class of bits applies: owner, else group, else other. Supplementary groups
        // do not count because dropping root clears them.
        let can_enter = if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !can_enter {
            bail!(
                "the `postgres` OS user cannot enter {} (mode {:o}), so PostgreSQL cannot use \
                 {}: choose a data folder elsewhere or make that folder traversable (chmod o+x)",
                dir.display(),
                mode & 0o7777,
                data_dir.display()
            );
        }
    }
    Ok(())
}

/// Creates the cluster unless `data_dir` already holds one.
async fn ensure_cluster(bin_dir: &Path, data_dir: &Path, run_as: Option<OsUser>) -> Result<()> {
    if data_dir.join("PG_VERSION").is_file() {
        return Ok(());
    }
    let is_empty = match std::fs::read_dir(data_dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => true,
        Err(error) => {
            return Err(error)
                .with_context(|| format!("could not read data folder {}", data_dir.display()));
        }
    };
    if !is_empty {
        bail!(
            "{} is not empty but holds no PostgreSQL cluster (no PG_VERSION); refusing to \
             initialise over it: remove it or choose another data folder",
            data_dir.display()
        );
    }
    let parent = data_dir
        .parent()
        .context("the PostgreSQL data folder cannot be the file system root")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("could not create {}", parent.display()))?;
    if let Some(user) = run_as {
        check_reachable(data_dir, user)?;
    }

    // initdb works in a staging folder that is renamed into place when complete, so a launcher
    // killed during initdb leaves no half-made cluster that would later look like a real one.
    let mut staging = data_dir.as_os_str().to_owned();
    staging.push(".initdb");
    let staging = PathBuf::from(staging);
    let mut failure = String::new();
    // C.UTF-8 gives upper()/lower() on accented names; plain C is the fallback for systems
    // without that locale.
    for locale in ["C.UTF-8", "C"] {
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("could not clear {}", staging.display()))?;
        }
        std::fs::create_dir(&staging)
            .with_context(|| format!("could not create {}", staging.display()))?;
        std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))?;
        let mut initdb = Command::new(bin_dir.join("initdb"));
        initdb
            .arg("-D")
            .arg(&staging)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .arg(format!("--locale={locale}"))
            .arg("--no-instructions")
            .current_dir(&staging)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(user) = run_as {
            std::os::unix::fs::chown(&staging, Some(user.uid), Some(user.gid))
                .with_context(|| format!("could not hand {} to postgres", staging.display()))?;
            initdb.uid(user.uid).gid(user.gid);
        }
        let output = initdb.output().await.context("could not run initdb")?;
        if output.status.success() {
            if data_dir.exists() {
                std::fs::remove_dir(data_dir)
                    .with_context(|| format!("could not replace {}", data_dir.display()))?;
            }
            std::fs::rename(&staging, data_dir).with_context(|| {
                format!("could not move the new cluster to {}", data_dir.display())
            })?;
            info!(data = %data_dir.display(), locale, "created a PostgreSQL cluster");
            return Ok(());
        }
        failure = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !failure.contains("locale") {
            break;
        }
        warn!(locale, "initdb rejected the locale; trying the next one");
    }
    std::fs::remove_dir_all(&staging).ok();
    bail!(
        "initdb failed for {}:\n{}",
        data_dir.display(),
        last_lines(&failure)
    )
}

/// The value for `unix_socket_directories`: the data folder itself, or none at all when its
/// path is too long for a socket address (clients of ours use TCP anyway).
fn unix_socket_setting(data_dir: &Path, port: u16) -> String {
    let socket = data_dir.join(format!(".s.PGSQL.{port}"));
    if socket.as_os_str().len() > MAX_UNIX_SOCKET_PATH {
        warn!(data = %data_dir.display(), "data folder path too long for a unix socket; TCP only");
        return "''".to_owned();
    }
    // Quoted, so commas or spaces in the path are not taken as list separators.
    format!("\"{}\"", data_dir.to_string_lossy().replace('"', "\"\""))
}

/// Refuses a port that stays taken: a probe on it would otherwise reach someone else's server.
async fn wait_for_free_port(port: u16, server: &str, patience: Duration) -> Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => return Ok(()),
            Err(_) if Instant::now() < deadline => sleep(POLL_INTERVAL).await,
            Err(error) => {
                return Err(error).with_context(|| {
                    format!("cannot start {server} on 127.0.0.1:{port}: the port is already in use")
                });
            }
        }
    }
}

/// The first line a NATS server sends to a client, if it sends one now.
async fn nats_greeting(port: u16) -> Option<String> {
    let read_info = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let mut buffer = vec![0_u8; 4096];
        let mut filled = 0;
        while !buffer[..filled].ends_with(b"\r\n") && filled < buffer.len() {
            let read = stream.read(&mut buffer[filled..]).await.ok()?;
            if read == 0 {
                return None;
            }
            filled += read;
        }
        let line = String::from_utf8_lossy(&buffer[..filled]).into_owned();
        line.starts_with("INFO ").then_some(line)
    };
    timeout(Duration::from_secs(2), read_info)
        .await
        .ok()
        .flatten()
}

/// `Some(())` once PostgreSQL accepts a connection and runs a query (not merely the TCP
/// handshake: during recovery it accepts sockets and then refuses the session).
async fn postgres_answers(port: u16) -> Option<()> {
    let options = PgConnectOptions::new()
        .host("127.0.0.1")
        .port(port)
        .username("postgres")
        .database("postgres")
        .ssl_mode(PgSslMode::Disable)
        .application_name("rcn-launcher-probe");
    let query = async {
        let mut connection = PgConnection::connect_with(&options).await?;
        sqlx::query("SELECT 1").execute(&mut connection).await?;
        connection.close().await
    };
    matches!(timeout(Duration::from_secs(5), query).await, Ok(Ok(()))).then_some(())
}

enum Startup<T> {
    Ready(T),
    Exited(ExitStatus),
    TimedOut,
}

/// Polls `probe` until it answers, the child exits, or `limit` passes.
async fn wait_for_startup<T, F, Fut>(
    child: &mut Child,
    limit: Duration,
    mut probe: F,
) -> Result<Startup<T>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child
            .try_wait()
            .context("could not watch the server process")?
        {
            return Ok(Startup::Exited(status));
        }
        if let Some(answer) = probe().await {
            // Only our own live child counts as ready, not whoever else answered on the port.
            if let Some(status) = child
                .try_wait()
                .context("could not watch the server process")?
            {
                return Ok(Startup::Exited(status));
            }
            return Ok(Startup::Ready(answer));
        }
        if Instant::now() >= deadline {
            return Ok(Startup::TimedOut);
        }
        sleep(POLL_INTERVAL).await;
    }
}

/// A server's log file and where this start began writing to it.
struct ServerLog {
    path: PathBuf,
    start: u64,
}

impl ServerLog {
    fn open(path: &Path) -> Result<(Self, std::fs::File)> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("could not open log file {}", path.display()))?;
        let start = file.metadata()?.len();
        let log = Self {
            path: path.to_path_buf(),
            start,
        };
        Ok((log, file))
    }

    /// What the server wrote since this start, so old runs' messages are not mistaken for news.
    fn since_start(&self) -> String {
        let bytes = std::fs::read(&self.path).unwrap_or_default();
        let start = usize::try_from(self.start)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    }

    fn tail(&self) -> String {
        format!(
            "last lines of {}:\n{}",
            self.path.display(),
            last_lines(&self.since_start())
        )
    }
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// A command for a server binary, in the launcher's care.
fn server_command(program: &Path) -> Command {
    // `setpriv --pdeathsig KILL` execs the server (same pid) with the kernel set to SIGKILL it
    // when the launcher dies, even by SIGKILL, which no Drop can catch.
    let mut command = match setpriv_with_pdeathsig() {
        Some(setpriv) => {
            let mut command = Command::new(setpriv);
            command.args(["--pdeathsig", "KILL", "--"]).arg(program);
            command
        }
        None => Command::new(program),
    };
    command
        .stdin(Stdio::null())
        .kill_on_drop(true)
        // Its own process group, so a Ctrl-C in the terminal reaches only the launcher, which
        // drains the services before it stops the servers they depend on.
        .process_group(0);
    command
}

/// setpriv learned `--pdeathsig` in util-linux 2.33; older ones would refuse to start anything.
fn setpriv_with_pdeathsig() -> Option<&'static Path> {
    static SETPRIV: OnceLock<Option<PathBuf>> = OnceLock::new();
    SETPRIV
        .get_or_init(|| {
            let setpriv = find_binary("setpriv")?;
            let help = std::process::Command::new(&setpriv)
                .arg("--help")
                .stderr(Stdio::null())
                .output()
                .ok()?;
            let supported = String::from_utf8_lossy(&help.stdout).contains("--pdeathsig");
            if !supported {
                warn!("setpriv lacks --pdeathsig; servers may outlive a killed launcher");
            }
            supported.then_some(setpriv)
        })
        .as_deref()
}

struct SpawnJob {
    command: Command,
    runtime: tokio::runtime::Handle,
    reply: tokio::sync::oneshot::Sender<io::Result<Child>>,
}

/// Spawns from one thread that lives as long as the process. Linux sends the parent-death
/// signal when the *thread* that forked the child ends, and tokio threads can retire (a worker
/// after `block_in_place`, an idle blocking-pool thread), which would kill a healthy server.
async fn spawn_child(command: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Option<std::sync::mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, queue) = std::sync::mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("rcn-infra-spawner".to_owned())
            .spawn(move || {
                for SpawnJob {
                    mut command,
                    runtime,
                    reply,
                } in queue
                {
                    // The child registers with the caller's runtime, which reaps it.
                    let _entered = runtime.enter();
                    reply.send(command.spawn()).ok();
                }
            })
            .ok()
            .map(|_| jobs)
    });
    let gone = || io::Error::other("the launcher's spawner thread is gone");
    let Some(spawner) = spawner else {
        let mut command = command;
        return command.spawn();
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    spawner
        .send(SpawnJob {
            command,
            runtime: tokio::runtime::Handle::current(),
            reply,
        })
        .map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

fn is_alive(child: &mut Child) -> bool {
    matches!(child.try_wait(), Ok(None))
}

/// Sends a named signal. tokio can only send SIGKILL; graceful stops need TERM or INT. The
/// shell's built-in `kill` is used because `sh` is always there, procps' `kill` is not.
fn send_signal(pid: u32, signal: &str) -> Result<()> {
    let status = std::process::Command::new("sh")
        .args(["-c", r#"kill -s "$1" "$2""#, "rcn-signal", signal])
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("could not run sh to send a signal")?;
    if !status.success() {
        bail!("could not send SIG{signal} to process {pid}");
    }
    Ok(())
}

async fn kill_child(child: &mut Child) -> io::Result<()> {
    if child.try_wait()?.is_some() {
        return Ok(());
    }
    child.kill().await
}

/// Signals the child to stop, waits up to `grace`, then SIGKILLs it.
async fn stop_child(child: &mut Child, signal: &str, grace: Duration, server: &str) -> Result<()> {
    if child.try_wait()?.is_some() {
        return Ok(());
    }
    if let Some(pid) = child.id()
        && let Err(error) = send_signal(pid, signal)
    {
        warn!(%error, server, "graceful stop failed; killing instead");
    }
    match timeout(grace, child.wait()).await {
        Ok(status) => {
            status.with_context(|| format!("could not wait for {server} to exit"))?;
        }
        Err(_) => {
            warn!(server, ?grace, "did not stop in time; killing it");
            kill_child(child)
                .await
                .with_context(|| format!("could not SIGKILL {server}"))?;
        }
    }
    Ok(())
}

/// `stop_child` for `Drop`, which cannot await: polls with short sleeps.
fn stop_child_blocking(child: &mut Child, signal: &str, grace: Duration) {
    let Some(pid) = child.id() else {
        return;
    };
    if !is_alive(child) {
        return;
    }
    send_signal(pid, signal).ok();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if !is_alive(child) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.start_kill().ok();
    // Reap it, so the pid is not left as a zombie of ours.
    for _ in 0..50 {
        if !is_alive(child) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
