//! The launcher's `nats-server -js`: started on a port that is free, with its JetStream store in a
//! folder of ours, and killable and restartable on the same port and store for crash tests.
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
use super::{find_binary, free_port, private_file, secret_file};

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
    /// The only credential the server accepts (`<store>.token`, mode 0600).
    token: String,
    /// Where the token is kept, for clients started elsewhere (`rcn servers` prints it).
    token_file: PathBuf,
    /// The server's configuration (`<store>.conf`, mode 0600): the token is given there, not
    /// on the command line where every local user could read it.
    config_file: PathBuf,
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
        let token_file = store_dir.with_extension("token");
        let token = secret_file(&token_file)?;
        let config_file = store_dir.with_extension("conf");
        private_file(
            &config_file,
            &format!(
                "# Written by rcn: clients present the token in {}.\nauthorization {{\n  token: \"{token}\"\n}}\n",
                token_file.display()
            ),
        )?;
        let mut nats = Self {
            binary,
            port,
            log_path: store_dir.join("nats-server.log"),
            store_dir,
            process: ServerChild::new("nats-server", "TERM", NATS_STOP_TIMEOUT),
            token,
            token_file,
            config_file,
        };
        nats.launch(Duration::ZERO).await?;
        Ok(nats)
    }

    /// The address, without the token (see [`Self::auth`]).
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The credential clients present.
    pub fn auth(&self) -> rcn_runtime::nats_auth::NatsAuth {
        rcn_runtime::nats_auth::NatsAuth::Token(rcn_runtime::config::Secret::new(&self.token))
    }

    /// The token, for clients this process starts (an environment variable of a child).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Where the token is kept (mode 0600).
    pub fn token_file(&self) -> &Path {
        &self.token_file
    }

    /// A client of this server, named `name`.
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
        command
            .arg("-c")
            .arg(&self.config_file)
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
        self.process.set(child);
        Ok(())
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
