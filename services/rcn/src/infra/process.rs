//! The child-process plumbing both servers share: spawning a server in the launcher's care (its
//! own process group, SIGKILLed by the kernel when the launcher dies), waiting for its port to be
//! free and for it to answer, quoting its log's tail in errors, and stopping or killing it.
//!
//! It must never signal a process it did not spawn (only our own children's pids), and never
//! spawn a server from a thread that may end: the parent-death signal follows the forking thread.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};
use tracing::warn;

use super::find_binary;

/// `Drop` blocks its thread, so it waits less than an orderly `stop()` before it kills.
const DROP_GRACE: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// After a kill, the dead server's children can hold its listening socket for a moment.
pub(super) const PORT_RELEASE_WAIT: Duration = Duration::from_secs(5);
const LOG_TAIL_LINES: usize = 30;

/// Refuses a port that stays taken: a probe on it would otherwise reach someone else's server.
pub(super) async fn wait_for_free_port(port: u16, server: &str, patience: Duration) -> Result<()> {
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

pub(super) enum Startup<T> {
    Ready(T),
    Exited(ExitStatus),
    TimedOut,
}

/// Polls `probe` until it answers, the child exits, or `limit` passes.
pub(super) async fn wait_for_startup<T, F, Fut>(
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
pub(super) struct ServerLog {
    path: PathBuf,
    start: u64,
}

impl ServerLog {
    pub(super) fn open(path: &Path) -> Result<(Self, std::fs::File)> {
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
    pub(super) fn since_start(&self) -> String {
        let bytes = std::fs::read(&self.path).unwrap_or_default();
        let start = usize::try_from(self.start)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    }

    pub(super) fn tail(&self) -> String {
        format!(
            "last lines of {}:\n{}",
            self.path.display(),
            last_lines(&self.since_start())
        )
    }
}

pub(super) fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// A command for a server binary, in the launcher's care.
pub(super) fn server_command(program: &Path) -> Command {
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
pub(super) async fn spawn_child(command: Command) -> io::Result<Child> {
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

pub(super) async fn kill_child(child: &mut Child) -> io::Result<()> {
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

/// The running process of one server and how it is stopped: what the NATS and PostgreSQL
/// handles share. Dropping it stops the server gracefully (bounded by [`DROP_GRACE`]).
pub(super) struct ServerChild {
    /// For messages: `nats-server`, `PostgreSQL`.
    name: &'static str,
    /// The signal that asks the server to shut down cleanly (`TERM`, `INT`).
    stop_signal: &'static str,
    /// How long a graceful stop may take before the server is killed.
    stop_timeout: Duration,
    child: Option<Child>,
}

impl ServerChild {
    pub(super) fn new(
        name: &'static str,
        stop_signal: &'static str,
        stop_timeout: Duration,
    ) -> Self {
        Self {
            name,
            stop_signal,
            stop_timeout,
            child: None,
        }
    }

    /// Takes over a started server.
    pub(super) fn set(&mut self, child: Child) {
        self.child = Some(child);
    }

    pub(super) fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub(super) fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(is_alive)
    }

    /// SIGKILL, as a crash would; waits until the process is gone.
    pub(super) async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            kill_child(&mut child)
                .await
                .with_context(|| format!("could not SIGKILL {}", self.name))?;
        }
        Ok(())
    }

    /// The stop signal, then SIGKILL if the server has not exited within its stop timeout.
    pub(super) async fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, self.stop_signal, self.stop_timeout, self.name).await?;
        }
        Ok(())
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            stop_child_blocking(child, self.stop_signal, DROP_GRACE);
        }
    }
}
