//! Starts rcn's services inside this process, each with its own NATS connection and database
//! pool, exactly as separate processes would run, and stops them together.
//!
//! The services the launcher knows are listed in [`REGISTRY`]: adding a service is its crate and
//! one line there. Starting goes in two steps, so a bad setting stops the launcher before any
//! service runs: [`Stack::prepare`] reads and checks every chosen service's own settings, then
//! [`Stack::start`] connects and starts them.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context as _;
use futures::future::BoxFuture;
use rcn_runtime::provision::Resources;
use rcn_runtime::retention::Job;
use rcn_runtime::{CancellationToken, Config, Ctx};
use sqlx::migrate::Migrator;
use tokio::task::JoinSet;

/// Where settings are read from: a variable's name to its value (the process environment for
/// `rcn run`, a map in tests).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How to start a service whose settings have been read and checked.
pub type Launch =
    Box<dyn FnOnce(Ctx, CancellationToken) -> BoxFuture<'static, anyhow::Result<Started>> + Send>;

/// A service that has started: its work until shutdown, and the HTTP address it listens on, if
/// it serves HTTP.
pub struct Started {
    pub task: BoxFuture<'static, anyhow::Result<()>>,
    pub http_addr: Option<SocketAddr>,
}

/// A service the launcher can run.
#[derive(Debug)]
pub struct Service {
    /// What `rcn run --only` and the logs call it.
    pub name: &'static str,
    /// Reads and checks the service's own settings (no I/O), and says how to start it.
    pub load: fn(Lookup) -> anyhow::Result<Launch>,
    /// The streams and durable consumers it needs on JetStream, which `rcn provision` makes
    /// ([`crate::nats_provision`]); the service itself only binds to them.
    pub resources: fn(&Config) -> anyhow::Result<Resources>,
    /// Its migrations (of its schema, which is its name), which `rcn run` runs as the migration
    /// role before the services start ([`crate::provision`]).
    pub migrations: fn() -> &'static Migrator,
    /// Its retention job over its own schema (`rcn retention`), when it keeps personal data;
    /// `None` for the gateway (no data about the people in aftercare). The monitor's job removes
    /// only its dead-letter desk's log and privacy questions (its aggregates stay). The services
    /// with one also answer `retention_log`
    /// (`rcn_contracts::retention::retention_log_subjects` lists them).
    pub retention: Option<RetentionJob>,
}

/// Opens a service's retention job on a pool of its own.
pub type RetentionJob = for<'a> fn(&'a Config) -> BoxFuture<'a, anyhow::Result<Job>>;

/// Every service `rcn run` starts, in this order.
pub static REGISTRY: &[Service] = &[
    Service {
        name: "intake",
        load: |_| Ok(launch((), |ctx, (), stop| rcn_intake::run(ctx, stop))),
        resources: rcn_intake::nats_resources,
        migrations: || &rcn_intake::MIGRATIONS,
        retention: Some(rcn_intake::retention_job),
    },
    Service {
        name: "router",
        load: |env| {
            Ok(launch(
                rcn_router::Settings::from_lookup(env)?,
                rcn_router::run,
            ))
        },
        resources: rcn_router::nats_resources,
        migrations: || &rcn_router::MIGRATIONS,
        retention: Some(rcn_router::retention_job),
    },
    Service {
        name: "casework",
        load: |env| {
            Ok(launch(
                rcn_casework::Settings::from_lookup(env)?,
                rcn_casework::run,
            ))
        },
        resources: rcn_casework::nats_resources,
        migrations: || rcn_casework::migrations(),
        retention: Some(rcn_casework::retention_job),
    },
    Service {
        name: "procesregie",
        load: |env| {
            Ok(launch(
                rcn_procesregie::Settings::from_lookup(env)?,
                rcn_procesregie::run,
            ))
        },
        resources: rcn_procesregie::nats_resources,
        migrations: || &rcn_procesregie::MIGRATIONS,
        retention: Some(rcn_procesregie::retention_job),
    },
    Service {
        name: "gateway",
        load: gateway,
        // The gateway only asks; it reads and writes no stream.
        resources: |_| Ok(Resources::new("gateway")),
        migrations: || &rcn_gateway::tokens::MIGRATIONS,
        retention: None,
    },
    Service {
        name: "monitor",
        load: |env| {
            Ok(launch(
                rcn_monitor::Settings::from_lookup(env)?,
                rcn_monitor::run,
            ))
        },
        resources: rcn_monitor::nats_resources,
        migrations: || &rcn_monitor::MIGRATIONS,
        retention: Some(rcn_monitor::retention_job),
    },
];

impl Service {
    /// Every registered service.
    pub fn all() -> Vec<&'static Service> {
        REGISTRY.iter().collect()
    }

    /// The registered service called `name`; otherwise an error listing the valid names.
    pub fn named(name: &str) -> Result<&'static Service, String> {
        REGISTRY.iter().find(|s| s.name == name).ok_or_else(|| {
            let names: Vec<&str> = REGISTRY.iter().map(|s| s.name).collect();
            format!("unknown service {name:?}; choose from {}", names.join(", "))
        })
    }
}

/// The start of a service that runs as `run(ctx, settings, shutdown)` and serves no HTTP.
fn launch<S, F, Fut>(settings: S, run: F) -> Launch
where
    S: Send + 'static,
    F: FnOnce(Ctx, S, CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    Box::new(move |ctx, shutdown| {
        Box::pin(async move {
            Ok(Started {
                task: Box::pin(run(ctx, settings, shutdown)),
                http_addr: None,
            })
        })
    })
}

/// The gateway binds its address (`RCN_HTTP_ADDR`) when it starts, so the launcher can report the
/// real one (port 0 picks a free port).
fn gateway(env: Lookup) -> anyhow::Result<Launch> {
    let settings = rcn_gateway::Settings::from_lookup(env)?;
    Ok(Box::new(move |ctx, shutdown| {
        Box::pin(async move {
            // Without its key the gateway could pass on no identity: refuse before listening.
            ctx.config.identity_signer()?;
            let listener = rcn_gateway::bind(&settings).await?;
            let addr = listener.local_addr()?;
            Ok(Started {
                task: Box::pin(rcn_gateway::serve_with(ctx, settings, listener, shutdown)),
                http_addr: Some(addr),
            })
        })
    }))
}

/// Services whose settings have been read and checked, ready to start.
pub struct Prepared(Vec<(&'static str, Launch)>);

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// Running services.
pub struct Stack {
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
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
    /// Reads and checks the settings of every one of `services` through `env`, before any starts:
    /// the first bad one is the error, naming its variable.
    pub fn prepare(services: &[&'static Service], env: Lookup) -> anyhow::Result<Prepared> {
        services
            .iter()
            .map(|service| Ok((service.name, (service.load)(env)?)))
            .collect::<anyhow::Result<_>>()
            .map(Prepared)
    }

    /// Connects and starts the `prepared` services; they run until `shutdown` is cancelled.
    pub async fn start(
        config: &Config,
        prepared: Prepared,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let mut tasks = JoinSet::new();
        let mut http_addr = None;
        for (name, launch) in prepared.0 {
            // Each service on its own NATS user when it has one (`rcn run` on its own server).
            let mut config = config.clone();
            config.nats_auth = config.nats_auth_for(name).clone();
            let ctx = Ctx::connect(config, &format!("rcn-{name}"))
                .await
                .with_context(|| format!("starting {name}"))?;
            let started = launch(ctx, shutdown.clone())
                .await
                .with_context(|| format!("starting {name}"))?;
            http_addr = http_addr.or(started.http_addr);
            let task = started.task;
            tasks.spawn(async move { (name, task.await) });
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
                    tracing::info!(service, "stopped")
                }
                Ok(()) => {
                    tracing::error!(service, "stopped on its own; stopping the others");
                    self.shutdown.cancel();
                    first_error.get_or_insert(anyhow::anyhow!("{service} stopped unexpectedly"));
                }
                Err(e) => {
                    tracing::error!(service, error = %format!("{e:#}"), "failed; stopping the others");
                    self.shutdown.cancel();
                    first_error.get_or_insert(e.context(format!("{service} failed")));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare(names: &[&str], vars: &[(&str, &str)]) -> anyhow::Result<Prepared> {
        let services: Vec<_> = names.iter().map(|n| Service::named(n).unwrap()).collect();
        let env = |k: &str| {
            vars.iter()
                .find(|(var, _)| *var == k)
                .map(|(_, v)| v.to_string())
        };
        Stack::prepare(&services, &env)
    }

    /// Two migration files with one version number (two branches each adding "0002") pass the
    /// compiler and fail only when a database is migrated: catch it here.
    #[test]
    fn no_service_has_two_migrations_with_one_version() {
        for service in Service::all() {
            let mut versions: Vec<i64> = (service.migrations)().iter().map(|m| m.version).collect();
            let all = versions.len();
            versions.sort_unstable();
            versions.dedup();
            assert_eq!(
                versions.len(),
                all,
                "{} has two migrations with one version",
                service.name
            );
        }
    }

    #[test]
    fn the_registry_names_every_service_once() {
        let names: Vec<_> = Service::all().iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "intake",
                "router",
                "casework",
                "procesregie",
                "gateway",
                "monitor"
            ]
        );
        assert_eq!(
            Service::named("gatway").unwrap_err(),
            "unknown service \"gatway\"; choose from intake, router, casework, procesregie, gateway, monitor"
        );
    }

    /// `rcn retention` runs the registry's jobs; the portal's *Verwijderlogboek* asks
    /// `retention_log_subjects`: the same services, or a deletion log is missing from one.
    #[test]
    fn every_service_with_a_retention_job_answers_its_deletion_log() {
        let mut with_job: Vec<_> = Service::all()
            .iter()
            .filter(|s| s.retention.is_some())
            .map(|s| s.name)
            .collect();
        let subjects = rcn_contracts::Region::parse("kennemerland")
            .unwrap()
            .subjects();
        let mut answering: Vec<_> = rcn_contracts::retention::retention_log_subjects(&subjects)
            .iter()
            .map(|(name, _)| *name)
            .collect();
        with_job.sort_unstable();
        answering.sort_unstable();
        assert_eq!(answering, with_job);
        assert!(
            with_job.contains(&"monitor"),
            "the monitor keeps a desk log"
        );
    }

    #[test]
    fn every_chosen_service_has_its_settings_checked_before_any_starts() {
        let all = [
            "intake",
            "router",
            "casework",
            "procesregie",
            "gateway",
            "monitor",
        ];
        assert_eq!(
            format!("{:?}", prepare(&all, &[]).unwrap()),
            format!("{all:?}")
        );
        let bad = |names: &[&str], var, value| {
            prepare(names, &[(var, value)])
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        let e = bad(&all, "RCN_CASEWORK_DEADLINES", "housing=soon");
        assert!(e.starts_with("RCN_CASEWORK_DEADLINES is invalid"), "{e}");
        let e = bad(&all, "RCN_ADDRESS_REGISTER_URL", "bag.example.nl");
        assert!(e.starts_with("RCN_ADDRESS_REGISTER_URL is invalid"), "{e}");
        let e = bad(&all, "RCN_PROCESREGIE_CUTOFF", "monday noon");
        assert!(e.starts_with("RCN_PROCESREGIE_CUTOFF is invalid"), "{e}");
        let e = bad(&all, "RCN_HTTP_ADDR", "localhost");
        assert!(e.starts_with("RCN_HTTP_ADDR is invalid"), "{e}");
        let e = bad(&all, "RCN_MONITOR_UNCLAIMED_WORKING_DAYS", "soon");
        assert!(
            e.starts_with("RCN_MONITOR_UNCLAIMED_WORKING_DAYS is invalid"),
            "{e}"
        );
        // A service not chosen does not read its settings.
        assert!(
            prepare(
                &["intake", "gateway"],
                &[("RCN_CASEWORK_DEADLINES", "housing=soon")]
            )
            .is_ok()
        );
    }
}
