//! `rcn`: run the whole stack (or one service) in one process. Without NATS_URL / DATABASE_URL
//! it starts its own nats-server and PostgreSQL under the data folder.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rcn::stack::{Service, Stack};
use rcn_runtime::Config;

#[derive(Parser)]
#[command(
    name = "rcn",
    version,
    about = "Regionaal Coördinatiepunt Nazorg: release notices to municipal aftercare"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the stack until Ctrl-C or SIGTERM.
    Run {
        /// Run only these services (comma-separated): intake, router, casework, gateway.
        #[arg(long, value_delimiter = ',')]
        only: Vec<Service>,
        /// Feed a steady stream of synthetic notices (for trying it out; never in production).
        #[arg(long)]
        demo: bool,
        /// Synthetic notices per second with --demo.
        #[arg(long, default_value_t = 1.0)]
        demo_rate: f64,
        /// Where the launcher keeps its own NATS and PostgreSQL data when it starts them.
        #[arg(long, env = "RCN_DATA_DIR", default_value = ".rcn-data")]
        data_dir: PathBuf,
    },
    /// Start only the launcher's own nats-server and PostgreSQL, print their URLs as
    /// `NATS_URL=…` and `DATABASE_URL=…` lines, and keep them running until stopped. The test
    /// command uses this on a machine without servers of its own.
    Servers {
        #[arg(long, env = "RCN_DATA_DIR", default_value = ".rcn-data")]
        data_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::from_env()?;
    rcn_runtime::telemetry::init(config.log_json);
    match cli.command {
        Command::Run {
            only,
            demo,
            demo_rate,
            data_dir,
        } => {
            let services = if only.is_empty() {
                Service::ALL.to_vec()
            } else {
                only
            };
            if !(0.01..=10_000.0).contains(&demo_rate) {
                anyhow::bail!("--demo-rate must be between 0.01 and 10000 notices per second");
            }
            run(&mut config, &services, demo.then_some(demo_rate), &data_dir).await
        }
        Command::Servers { data_dir } => {
            let shutdown = rcn_runtime::shutdown_signal();
            config.nats_url = None;
            config.database_url = None;
            let mut own = rcn::provision::OwnServers::provide(&mut config, &data_dir).await?;
            println!("NATS_URL={}", config.nats_url()?);
            println!("DATABASE_URL={}", config.database_url()?);
            shutdown.cancelled().await;
            own.stop().await
        }
    }
}

async fn run(
    config: &mut Config,
    services: &[Service],
    demo_rate: Option<f64>,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let shutdown = rcn_runtime::shutdown_signal();
    let mut own = rcn::provision::OwnServers::provide(config, data_dir).await?;
    let stack = Stack::start(config, services, shutdown.clone()).await?;

    println!("rcn is running (region {})", config.region);
    if let Some(addr) = stack.http_addr {
        println!("  partner API      http://{addr}/v1/release-notices");
        println!("  health           http://{addr}/healthz  http://{addr}/readyz");
    }
    println!("  NATS             {}", config.nats_url()?);
    println!("  PostgreSQL       {}", config.database_url()?);
    println!(
        "  submit over NATS {}",
        config.region.subjects().intake_submit()
    );
    println!("Stop with Ctrl-C.");

    let demo = demo_rate.map(|rate| {
        let config = config.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            if let Err(e) = rcn::feed::run_demo(&config, rate, stop).await {
                tracing::error!(error = %format!("{e:#}"), "demo feed stopped");
            }
        })
    });
    let result = stack.wait().await;
    if let Some(d) = demo {
        let _ = tokio::time::timeout(Duration::from_secs(5), d).await;
    }
    own.stop()
        .await
        .context("stopping the launcher's own servers")?;
    result
}
