//! The launcher's PostgreSQL cluster: created by `initdb` in a folder of ours when that folder is
//! missing or empty, started on 127.0.0.1 (as the `postgres` OS user when we are root) with
//! password authentication (SCRAM) for a generated password kept in `<data>.password` (mode
//! 0600), and killable and restartable on the same port and data for crash tests. Only the unix
//! socket, inside the data folder of mode 0700, trusts its (one possible) user.
//!
//! It must never initialise over or delete a folder that holds data, never let durability be
//! configured away (fsync, synchronous commit and full page writes are forced on), and never
//! talk to a server it did not start (a taken port is refused, not probed).

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use tokio::process::Command;
use tokio::time::{Instant, sleep, timeout};
use tracing::{debug, info, warn};

use super::process::{
    PORT_RELEASE_WAIT, ServerChild, ServerLog, Startup, kill_child, last_lines, server_command,
    spawn_child, wait_for_free_port, wait_for_startup,
};
use super::{find_binary, free_port, is_executable};

/// Crash recovery replays WAL before the first connection is accepted.
const POSTGRES_START_TIMEOUT: Duration = Duration::from_secs(60);
/// A fast shutdown still writes a checkpoint.
const POSTGRES_STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// `sun_path` holds 108 bytes including the NUL; longer socket paths make PostgreSQL refuse to start.
const MAX_UNIX_SOCKET_PATH: usize = 107;

/// A PostgreSQL cluster started by the launcher, listening on 127.0.0.1 with password auth.
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
    process: ServerChild,
    /// The `postgres` superuser's password (`<data>.password`, mode 0600).
    password: String,
    /// Where the password is kept, and the same as a pgpass line (`PGPASSFILE`) for clients.
    password_file: PathBuf,
    pgpass_file: PathBuf,
}

/// The first line of the pg_hba.conf rcn writes: a cluster without it is still on trust auth.
const HBA_MARKER: &str = "# rcn: password authentication over TCP";

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
        let password_file = data_dir.with_extension("password");
        let password = super::secret_file(&password_file)?;
        let pgpass_file = data_dir.with_extension("pgpass");
        super::private_file(
            &pgpass_file,
            &format!("127.0.0.1:*:*:postgres:{password}\nlocalhost:*:*:postgres:{password}\n"),
        )?;
        require_password(&bin_dir, &data_dir, run_as, &password).await?;
        let mut postgres = Self {
            password,
            password_file,
            pgpass_file,
            log_path: data_dir.join("postmaster.log"),
            data_dir,
            port,
            bin_dir,
            run_as,
            process: ServerChild::new("PostgreSQL", "INT", POSTGRES_STOP_TIMEOUT),
        };
        postgres.launch(Duration::ZERO).await?;
        Ok(postgres)
    }

    /// The administrator's URL, password included: for connecting, never for printing (see
    /// [`Self::public_url`]).
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/postgres",
            self.password, self.port
        )
    }

    /// The administrator's URL without the password (clients find it in [`Self::pgpass_file`]).
    pub fn public_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Where the password is kept (mode 0600).
    pub fn password_file(&self) -> &Path {
        &self.password_file
    }

    /// The password as a pgpass file (mode 0600), for `PGPASSFILE`.
    pub fn pgpass_file(&self) -> &Path {
        &self.pgpass_file
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// SIGKILL of the postmaster, as a crash would. Its backends notice and exit on their own;
    /// `restart` waits for them.
    pub async fn kill(&mut self) -> Result<()> {
        self.process.kill().await
    }

    /// Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit), SIGKILL after a
    /// bounded wait.
    pub async fn stop(&mut self) -> Result<()> {
        self.process.stop().await
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
            let password = self.password.clone();
            match wait_for_startup(&mut child, left, || {
                postgres_answers(port, password.clone())
            })
            .await?
            {
                Startup::Ready(()) => {
                    info!(url = %self.public_url(), pid = child.id(), data = %self.data_dir.display(), "PostgreSQL is up");
                    self.process.set(child);
                    return Ok(());
                }
                Startup::Exited(status) => {
                    // After a SIGKILL the old backends hold the shared memory until they have
                    // noticed their postmaster is gone; the new postmaster refuses to start
                    // until then, which takes moments.
                    let said = log.since_start();
                    if said.contains("pre-existing shared memory block")
                        && Instant::now() < deadline
                    {
                        debug!("old PostgreSQL backends still attached; retrying");
                        sleep(Duration::from_millis(250)).await;
                        continue;
                    }
                    // A launcher killed a moment ago leaves its postmaster's lock file, and the
                    // postmaster itself may not have been reaped yet: wait until it is gone.
                    if said.contains("lock file \"postmaster.pid\" already exists")
                        && Instant::now() < deadline
                        && self.clear_lock_of_a_gone_server()?
                    {
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

impl PostgresProcess {
    /// After PostgreSQL refused to start because `postmaster.pid` exists: `true` when the
    /// server named in it is gone or going (no such process, or a zombie nobody has reaped yet),
    /// so starting again is worth it; a zombie's lock file is removed, because PostgreSQL's own
    /// check counts a zombie as alive. `false` while that server really runs.
    ///
    /// Safe to remove: PostgreSQL still refuses to start while any old backend holds the
    /// shared memory ("pre-existing shared memory block"), which `launch` waits out.
    fn clear_lock_of_a_gone_server(&self) -> Result<bool> {
        let lock = self.data_dir.join("postmaster.pid");
        let Ok(text) = std::fs::read_to_string(&lock) else {
            return Ok(true); // removed meanwhile
        };
        let Some(pid) = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse::<u32>().ok())
        else {
            return Ok(true); // half-written by a server that is starting or died starting
        };
        match process_state(pid) {
            None => Ok(true),
            Some('Z') => {
                warn!(
                    pid,
                    "removing the lock file of a PostgreSQL that was killed"
                );
                match std::fs::remove_file(&lock) {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
                    Err(e) => {
                        Err(e).with_context(|| format!("could not remove {}", lock.display()))
                    }
                }
            }
            Some(_) => Ok(false),
        }
    }
}

/// The state letter of a process (`R`, `S`, `Z`, …) from `/proc/<pid>/stat`, `None` if it is gone.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S …": the command may hold spaces and parentheses, so read after the last ')'.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
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

/// Makes the cluster ask a password over TCP, once: sets the `postgres` role's password in
/// single-user mode (the password goes in on stdin, never on a command line) and writes a
/// pg_hba.conf that trusts only the unix socket inside the data folder (mode 0700, so only the
/// server's own OS user reaches it) and asks SCRAM on 127.0.0.1 and ::1. A cluster made by an
/// earlier launcher with trust auth is converted the same way.
async fn require_password(
    bin_dir: &Path,
    data_dir: &Path,
    run_as: Option<OsUser>,
    password: &str,
) -> Result<()> {
    use tokio::io::AsyncWriteExt as _;
    let hba = data_dir.join("pg_hba.conf");
    let current = std::fs::read_to_string(&hba).unwrap_or_default();
    let wanted = format!(
        "{HBA_MARKER}; the password is in {}\n\
         local all all trust\n\
         host  all all 127.0.0.1/32 scram-sha-256\n\
         host  all all ::1/128      scram-sha-256\n",
        data_dir.with_extension("password").display()
    );
    if current == wanted {
        return Ok(());
    }
    let mut single = Command::new(bin_dir.join("postgres"));
    single
        .arg("--single")
        .arg("-D")
        .arg(data_dir)
        .args(["-c", "password_encryption=scram-sha-256", "postgres"])
        .current_dir(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(user) = run_as {
        single.uid(user.uid).gid(user.gid);
    }
    let mut child = single
        .spawn()
        .context("could not start PostgreSQL in single-user mode to set its password")?;
    let mut stdin = child.stdin.take().context("single-user stdin")?;
    stdin
        .write_all(format!("ALTER ROLE postgres PASSWORD '{password}';\n").as_bytes())
        .await?;
    drop(stdin);
    let output = timeout(POSTGRES_START_TIMEOUT, child.wait_with_output())
        .await
        .context("PostgreSQL in single-user mode did not finish")??;
    // Its log may quote the statement: the password never goes further.
    let said = String::from_utf8_lossy(&output.stderr).replace(password, "<password>");
    if !output.status.success() || said.contains("ERROR") {
        bail!(
            "could not set the PostgreSQL password in single-user mode:\n{}",
            last_lines(&said)
        );
    }
    std::fs::write(&hba, wanted).with_context(|| format!("could not write {}", hba.display()))?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(&hba, Some(user.uid), Some(user.gid))
            .with_context(|| format!("could not hand {} to postgres", hba.display()))?;
    }
    info!(data = %data_dir.display(), "PostgreSQL asks a password over TCP");
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

/// `Some(())` once PostgreSQL accepts a connection and runs a query (not merely the TCP
/// handshake: during recovery it accepts sockets and then refuses the session).
async fn postgres_answers(port: u16, password: String) -> Option<()> {
    let options = PgConnectOptions::new_without_pgpass()
        .host("127.0.0.1")
        .port(port)
        .username("postgres")
        .password(&password)
        .database("postgres")
        .ssl_mode(PgSslMode::Disable)
        .application_name("rcn-launcher-probe");
    let query = async {
        let mut connection = PgConnection::connect_with(&options).await?;
        sqlx::query_scalar!("SELECT 1 AS ready")
            .fetch_one(&mut connection)
            .await?;
        connection.close().await
    };
    matches!(timeout(Duration::from_secs(5), query).await, Ok(Ok(()))).then_some(())
}
