//! Starts rcn's services inside this process, each with its own NATS connection and database
//! pool, exactly as separate processes would run, and stops them together.

use std::net::SocketAddr;
use std::str::FromStr;

use anyhow::Context as _;
use rcn_runtime::{CancellationToken, Config, Ctx};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// A service the launcher can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Intake,
    Router,
    Casework,
    Gateway,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::Intake,
        Service::Router,
        Service::Casework,
        Service::Gateway,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Intake => "intake",
            Service::Router => "router",
            Service::Casework => "casework",
            Service::Gateway => "gateway",
        }
    }
}

impl FromStr for Service {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Service::ALL
            .into_iter()
            .find(|svc| svc.name() == s)
            .ok_or_else(|| {
                format!("unknown service {s:?}; choose from intake, router, casework, gateway")
            })
    }
}

/// Running services.
pub struct Stack {
    tasks: JoinSet<(Service, anyhow::Result<()>)>,
    shutdown: CancellationToken,
    /// Where the gateway listens, when it runs.
    pub http_addr: Option<SocketAddr>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("http_addr", &self.http_addr)
            .finish_non_exhaustive()
    }
}

impl Stack {
    /// Connects and starts `services`; they run until `shutdown` is cancelled.
    pub async fn start(
        config: &Config,
        services: &[Service],
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let mut tasks = JoinSet::new();
        let mut http_addr = None;
        for &service in services {
            let ctx = Ctx::connect(config.clone(), &format!("rcn-{}", service.name()))
                .await
                .with_context(|| format!("starting {}", service.name()))?;
            let stop = shutdown.clone();
            match service {
                Service::Intake => {
                    tasks.spawn(async move { (service, rcn_intake::run(ctx, stop).await) })
                }
                Service::Router => {
                    tasks.spawn(async move { (service, rcn_router::run(ctx, stop).await) })
                }
                Service::Casework => {
                    tasks.spawn(async move { (service, rcn_casework::run(ctx, stop).await) })
                }
                Service::Gateway => {
                    let listener =
                        TcpListener::bind(config.http_addr).await.with_context(|| {
                            format!("cannot listen on {} (RCN_HTTP_ADDR)", config.http_addr)
                        })?;
                    http_addr = Some(listener.local_addr()?);
                    tasks.spawn(
                        async move { (service, rcn_gateway::serve(ctx, listener, stop).await) },
                    )
                }
            };
        }
        Ok(Self {
            tasks,
            shutdown,
            http_addr,
        })
    }

    /// Waits until every service has stopped. A service that fails stops the others, and its
    /// error is returned.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            let (service, result) = match joined {
                Ok(r) => r,
                Err(e) => {
                    self.shutdown.cancel();
                    first_error.get_or_insert(anyhow::anyhow!("a service task panicked: {e}"));
                    continue;
                }
            };
            match result {
                Ok(()) if self.shutdown.is_cancelled() => {
                    tracing::info!(service = service.name(), "stopped")
                }
                Ok(()) => {
                    tracing::error!(
                        service = service.name(),
                        "stopped on its own; stopping the others"
                    );
                    self.shutdown.cancel();
                    first_error
                        .get_or_insert(anyhow::anyhow!("{} stopped unexpectedly", service.name()));
                }
                Err(e) => {
                    tracing::error!(service = service.name(), error = %format!("{e:#}"), "failed; stopping the others");
                    self.shutdown.cancel();
                    first_error.get_or_insert(e.context(format!("{} failed", service.name())));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
