//! The launcher's `nats-server -js`: started on a port that is free, with its JetStream store in a
//! folder of ours, and killable and restartable on the same port and store for crash tests.
//!
//! Two kinds: one that lets in a single generated token with every right (`rcn servers` for the
//! tests, the benchmark, the crash tests), and one on the configuration shipped for production
//! (`deploy/nats/`, see [`super::shipped_nats`]) with a generated password per user, on which
//! `rcn run` runs each service as its own user.
//!
//! It must never talk to a NATS server it did not start (a taken port is refused, not probed)
//! and never remove the store: the store is what must survive a kill.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::AsyncReadExt;
use tokio::time::timeout;
use tracing::info;

use super::process::{
    PORT_RELEASE_WAIT, ServerChild, ServerLog, Startup, kill_child, server_command, spawn_child,
    wait_for_free_port, wait_for_startup,
};
use super::{find_binary, free_port, private_file, secret_file, shipped_nats};
use rcn_runtime::config::Secret;
use rcn_runtime::nats_auth::NatsAuth;

/// JetStream restores every stream from disk before it accepts clients, so a big store is slow.
const NATS_START_TIMEOUT: Duration = Duration::from_secs(30);
const NATS_STOP_TIMEOUT: Duration = Duration::from_secs(10);

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
    process: ServerChild,
    /// Who the server lets in.
    access: Access,
    /// The server's configuration: `<store>.conf` for a token server, the shipped
    /// `nats-server.conf` in `<store>.config/` for one on the shipped accounts.
    config_file: PathBuf,
}

/// Who a server of the launcher's lets in.
enum Access {
    /// One token with every right (`rcn servers`, the benchmark, the crash tests: they make
    /// streams in regions of their own, which a per-region accounts file cannot name).
    Token {
        /// The only credential the server accepts (`<store>.token`, mode 0600).
        token: String,
        /// Where the token is kept, for clients started elsewhere (`rcn servers` prints it).
        file: PathBuf,
    },
    /// The shipped accounts file for one region (`rcn run`): every user of it with a generated
    /// password (`<store>.users/<user>`, mode 0600), given to the server in its environment.
    Accounts {
        /// (user, the variable the accounts file reads its password from, the password).
        users: Vec<(String, String, String)>,
        /// The folder of the password files.
        dir: PathBuf,
        /// The monitoring port (`/connz?auth=1` shows which user each connection is).
        monitor_port: u16,
    },
}

impl NatsProcess {
    /// Starts `nats-server -js -a 127.0.0.1 -p PORT -sd STORE_DIR` with a generated token and
    /// waits until it greets a client with JetStream enabled. `port: None` picks a free one.
    pub async fn start(store_dir: &Path, port: Option<u16>) -> Result<Self> {
        let (binary, store_dir, port) = prepare(store_dir, port)?;
        let file = store_dir.with_extension("token");
        let token = secret_file(&file)?;
        let config_file = store_dir.with_extension("conf");
        private_file(
            &config_file,
            &format!(
                "# Written by rcn: clients present the token in {}.\nauthorization {{\n  token: \"{token}\"\n}}\n",
                file.display()
            ),
        )?;
        let mut nats = Self::new(
            binary,
            port,
            store_dir,
            Access::Token { token, file },
            config_file,
        );
        nats.launch(Duration::ZERO).await?;
        Ok(nats)
    }

    /// Starts nats-server on the shipped configuration (`deploy/nats/nats-server.conf` and
    /// `accounts.conf` for `region`, see [`super::shipped_nats`]) with a generated password per
    /// user, kept in `<store>.users/<user>` (mode 0600), and waits until it accepts clients.
    pub async fn start_with_accounts(
        store_dir: &Path,
        port: Option<u16>,
        region: &rcn_contracts::Region,
    ) -> Result<Self> {
        use std::os::unix::fs::PermissionsExt as _;
        let (binary, store_dir, port) = prepare(store_dir, port)?;
        let version = shipped_nats::Version::of(&binary)?;
        let config_file = shipped_nats::write(
            &store_dir.with_extension("config"),
            region,
            &store_dir,
            version,
        )?;
        let dir = store_dir.with_extension("users");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("could not make {} private", dir.display()))?;
        let users = shipped_nats::users()
            .into_iter()
            .map(|u| {
                let password = secret_file(&dir.join(&u.user))?;
                Ok((u.user, u.password_var, password))
            })
            .collect::<Result<_>>()?;
        let access = Access::Accounts {
            users,
            dir,
            monitor_port: free_port()?,
        };
        let mut nats = Self::new(binary, port, store_dir, access, config_file);
        nats.launch(Duration::ZERO).await?;
        Ok(nats)
    }

    fn new(
        binary: PathBuf,
        port: u16,
        store_dir: PathBuf,
        access: Access,
        config_file: PathBuf,
    ) -> Self {
        Self {
            binary,
            port,
            log_path: store_dir.join("nats-server.log"),
            store_dir,
            process: ServerChild::new("nats-server", "TERM", NATS_STOP_TIMEOUT),
            access,
            config_file,
        }
    }

    /// The address, without any secret (see [`Self::auth`]).
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The administrative credential: the token, or the shipped `provisioner` user (who may
    /// create streams and consumers, and nothing a service does).
    pub fn auth(&self) -> NatsAuth {
        match &self.access {
            Access::Token { token, .. } => NatsAuth::Token(Secret::new(token)),
            Access::Accounts { .. } => self
                .user_auth("provisioner")
                .expect("the shipped accounts have a provisioner"),
        }
    }

    /// The credential of `user` of the shipped accounts (`intake`, `gateway`, …); `None` on a
    /// token server or for a user the accounts do not have.
    pub fn user_auth(&self, user: &str) -> Option<NatsAuth> {
        match &self.access {
            Access::Token { .. } => None,
            Access::Accounts { users, .. } => {
                users
                    .iter()
                    .find(|(u, ..)| u == user)
                    .map(|(user, _, password)| NatsAuth::UserPassword {
                        user: user.clone(),
                        password: Secret::new(password),
                    })
            }
        }
    }

    /// The token of a token server, for clients this process starts (an environment variable
    /// of a child).
    pub fn token(&self) -> Option<&str> {
        match &self.access {
            Access::Token { token, .. } => Some(token),
            Access::Accounts { .. } => None,
        }
    }

    /// Where the secrets are kept: the token file (mode 0600), or the folder of the users'
    /// password files (mode 0700, each file 0600).
    pub fn secret_path(&self) -> &Path {
        match &self.access {
            Access::Token { file, .. } => file,
            Access::Accounts { dir, .. } => dir,
        }
    }

    /// The monitoring address of a server on the shipped accounts (`/connz?auth=1`, `/varz`).
    pub fn monitor_url(&self) -> Option<String> {
        match &self.access {
            Access::Token { .. } => None,
            Access::Accounts { monitor_port, .. } => {
                Some(format!("http://127.0.0.1:{monitor_port}"))
            }
        }
    }

    /// A client of this server with the administrative credential, named `name`.
    pub async fn connect(&self, name: &str) -> Result<async_nats::Client> {
        Ok(
            rcn_runtime::nats::connect_as(&self.url(), &self.auth(), name, Duration::from_secs(10))
                .await?,
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id while it runs; crash tests use it to signal the server directly.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// SIGKILL, as a crash would: nothing is flushed or closed. Waits until the process is gone.
    pub async fn kill(&mut self) -> Result<()> {
        self.process.kill().await
    }

    /// SIGTERM, then SIGKILL if the server has not exited within a bounded wait.
    pub async fn stop(&mut self) -> Result<()> {
        self.process.stop().await
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
        command.arg("-c").arg(&self.config_file).arg("-js").args([
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
        ]);
        match &self.access {
            // The store folder is the shipped configuration's `store_dir` (our storage.conf);
            // the passwords are read from the environment, which other users cannot see.
            Access::Accounts {
                users,
                monitor_port,
                ..
            } => {
                command
                    .args(["-m", &monitor_port.to_string()])
                    .envs(users.iter().map(|(_, var, password)| (var, password)));
            }
            Access::Token { .. } => {
                command.arg("-sd").arg(&self.store_dir);
            }
        }
        command.stdout(log_file.try_clone()?).stderr(log_file);
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
        self.process.set(child);
        Ok(())
    }
}

/// The binary, the store folder (absolute, created) and the port (a free one when `None`).
fn prepare(store_dir: &Path, port: Option<u16>) -> Result<(PathBuf, PathBuf, u16)> {
    let binary = find_binary("nats-server").ok_or_else(|| {
        anyhow!(
            "nats-server not found on PATH or in /usr/sbin: install it with \
             `apt-get install nats-server`, or set NATS_URL to use a running server"
        )
    })?;
    let store_dir = std::path::absolute(store_dir)
        .with_context(|| format!("invalid NATS store folder {}", store_dir.display()))?;
    std::fs::create_dir_all(&store_dir)
        .with_context(|| format!("could not create NATS store folder {}", store_dir.display()))?;
    let port = match port {
        Some(port) => port,
        None => free_port()?,
    };
    Ok((binary, store_dir, port))
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
