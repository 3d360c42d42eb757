//! The launcher's own servers: a `nats-server -js` and a PostgreSQL cluster started from the
//! locally installed binaries under one data folder (`<root>/nats`, `<root>/postgres`).
//!
//! The launcher uses this when `NATS_URL` / `DATABASE_URL` are not set, so a newcomer needs
//! nothing configured; crash tests use the same handles to SIGKILL and restart a server under a
//! running stack. It is for development and tests: production gets its servers from compose or
//! the platform.
//!
//! Each server gets a generated secret, kept in a file of mode 0600 beside its folder
//! (`<root>/nats.token`, `<root>/postgres.password`, with `<root>/postgres.pgpass` for libpq-style
//! clients), so no other local user gets in: NATS takes only that token, PostgreSQL asks a
//! password (SCRAM) over TCP, and its socket lies in its own folder of mode 0700. These servers are
//! for development and demonstration only.
//!
//! It must never touch a server it did not start (the machine's own NATS on 4222 and PostgreSQL
//! on 5432 included: it refuses a port that is already taken instead of talking to whoever holds
//! it), never initialise over or delete a folder that holds data, and never leave a server
//! running after the launcher is gone.
//!
//! `nats` and `postgres` each own one server's handle; `process` holds the child-process
//! plumbing both share.

mod nats;
mod postgres;
mod process;
pub mod shipped_nats;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use nats::NatsProcess;
pub use postgres::PostgresProcess;

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

/// The secret kept in `path`: read when the file exists (and made private again if it was not),
/// otherwise generated and written to a new file of mode 0600.
pub fn secret_file(path: &Path) -> Result<String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Ok(existing) = std::fs::read_to_string(path) {
        let secret = existing.trim().to_owned();
        if !secret.is_empty() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("could not make {} private", path.display()))?;
            return Ok(secret);
        }
    }
    // It starts with a letter: nats-server reads a password given through a variable as a config
    // value, and one starting with a digit (`3e5…`) is taken for a number and refused.
    let secret = format!(
        "rcn{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(secret.as_bytes())
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(secret)
}

/// Writes `contents` to `path` with mode 0600 (replacing what was there).
pub fn private_file(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("could not write {}", path.display()))
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
