//! `rcn`: run the whole stack (or one service) in one process. Without NATS_URL / DATABASE_URL
//! it starts its own nats-server and PostgreSQL under the data folder.

mod tokens;
mod users;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rcn::stack::{Prepared, Service, Stack};
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
        #[arg(long, value_delimiter = ',', value_parser = Service::named)]
        only: Vec<&'static Service>,
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
    /// Measure notice → case throughput and latency against the raw floor of NATS and
    /// PostgreSQL (own servers unless NATS_URL / DATABASE_URL are set). Not a test: it prints.
    Bench {
        /// Notices per throughput run.
        #[arg(long, default_value_t = 5000)]
        notices: usize,
        /// Offered rate for the latency run (notices per second).
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        /// Length of the latency run in seconds.
        #[arg(long, default_value_t = 20)]
        latency_seconds: u64,
        /// Also measure with 10k and 100k cases already in the database.
        #[arg(long)]
        growth: bool,
        /// Notices for a back-fill run (0: skip).
        #[arg(long, default_value_t = 0)]
        backfill: usize,
        /// Instead: the inbox and the scheduler with this many synthetic cases (5 tasks each),
        /// kept in schema casework_scale between runs.
        #[arg(long)]
        inbox_scale: Option<u64>,
        #[arg(long, env = "RCN_DATA_DIR", default_value = ".rcn-data")]
        data_dir: PathBuf,
    },
    /// Inspect and replay the dead-letter queue (needs NATS_URL).
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Start only the launcher's own nats-server and PostgreSQL, print their URLs as
    /// `NATS_URL=…` and `DATABASE_URL=…` lines, and keep them running until stopped. The test
    /// command uses this on a machine without servers of its own.
    Servers {
        #[arg(long, env = "RCN_DATA_DIR", default_value = ".rcn-data")]
        data_dir: PathBuf,
    },
    /// Issue, list, rotate and revoke the partner API's tokens (needs DATABASE_URL).
    Tokens {
        #[command(subcommand)]
        action: tokens::TokensAction,
    },
    /// Add, list and disable the staff portal's built-in accounts (needs DATABASE_URL).
    Users {
        #[command(subcommand)]
        action: users::UsersAction,
    },
}

#[derive(Subcommand)]
enum DlqAction {
    /// List dead letters, oldest first.
    List {
        /// Only this service's (intake, router, casework).
        #[arg(long)]
        service: Option<String>,
    },
    /// Show one dead letter with its payload (which may hold personal data).
    Show { sequence: u64 },
    /// Publish a dead letter to its original subject again and remove it from the queue.
    Replay { sequence: u64 },
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
                Service::all()
            } else {
                only
            };
            if !(0.01..=10_000.0).contains(&demo_rate) {
                anyhow::bail!("--demo-rate must be between 0.01 and 10000 notices per second");
            }
            // Every service's own settings are checked before anything starts.
            let prepared = Stack::prepare(&services, &rcn_runtime::config::process_env)?;
            run(&mut config, prepared, demo.then_some(demo_rate), &data_dir).await
        }
        Command::Bench {
            notices,
            rate,
            latency_seconds,
            growth,
            backfill,
            inbox_scale,
            data_dir,
        } => {
            if notices == 0 || !(0.1..=100_000.0).contains(&rate) || latency_seconds == 0 {
                anyhow::bail!(
                    "--notices and --latency-seconds must be positive, --rate between 0.1 and 100000"
                );
            }
            if config.pseudonym_key.is_none()
                && config.nats_url.is_some()
                && config.database_url.is_some()
            {
                // The benchmark's region is thrown away; its pseudonyms need no lasting key.
                config.pseudonym_key = Some(rcn_contracts::pseudonym::PseudonymKey::new(
                    uuid::Uuid::new_v4().to_string(),
                ));
            }
            let mut own =
                rcn::provision::OwnServers::provide(&mut config, &data_dir.join("bench")).await?;
            let options = rcn::bench::BenchOptions {
                notices,
                rate,
                latency_seconds,
                growth,
                backfill,
            };
            let result = match inbox_scale {
                Some(0) => Err(anyhow::anyhow!("--inbox-scale must be at least 1")),
                Some(cases) => rcn::inbox_bench::run(&config, cases).await,
                None => rcn::bench::run(&config, &options).await,
            };
            own.stop().await?;
            result
        }
        Command::Dlq { action } => {
            let nats = rcn_runtime::nats::connect_as(
                config.nats_url()?,
                &config.nats_auth,
                "rcn-dlq",
                Duration::from_secs(5),
            )
            .await?;
            let js = async_nats::jetstream::new(nats);
            let subjects = config.region.subjects();
            match action {
                DlqAction::List { service } => {
                    let letters = rcn::dlq::list(&js, &subjects, service.as_deref()).await?;
                    println!(
                        "{:>8}  {:<9}  {:<10}  {:<45}  error",
                        "sequence", "service", "deliveries", "original subject"
                    );
                    for l in &letters {
                        println!(
                            "{:>8}  {:<9}  {:<10}  {:<45}  {}",
                            l.sequence, l.service, l.delivered, l.original_subject, l.error
                        );
                    }
                    println!("{} dead letter(s)", letters.len());
                }
                DlqAction::Show { sequence } => {
                    let l = rcn::dlq::get(&js, &subjects, sequence).await?;
                    println!(
                        "sequence:         {}\nservice:          {}\noriginal subject: {}\noriginal id:      {}\ndeliveries:       {}\ntime:             {}\nerror:            {}\n",
                        l.sequence,
                        l.service,
                        l.original_subject,
                        l.original_msg_id.as_deref().unwrap_or("-"),
                        l.delivered,
                        l.time,
                        l.error
                    );
                    println!("{}", String::from_utf8_lossy(&l.payload));
                }
                DlqAction::Replay { sequence } => {
                    let l = rcn::dlq::replay(&js, &subjects, sequence).await?;
                    println!("replayed dead letter {sequence} to {}", l.original_subject);
                }
            }
            Ok(())
        }
        Command::Tokens { action } => tokens::run(&config, action).await,
        Command::Users { action } => users::run(&config, action).await,
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
    services: Prepared,
    demo_rate: Option<f64>,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let shutdown = rcn_runtime::shutdown_signal();
    let mut own = rcn::provision::OwnServers::provide(config, data_dir).await?;
    let stack = Stack::start(config, services, shutdown.clone()).await?;

    println!("rcn is running (region {})", config.region);
    if let Some(addr) = stack.http_addr {
        println!("  staff portal     http://{addr}/");
        println!("  partner API      http://{addr}/v1/release-notices");
        println!("  health           http://{addr}/healthz  http://{addr}/readyz");
    }
    println!("  NATS             {}", config.nats_url()?);
    println!("  PostgreSQL       {}", config.database_url()?);
    println!(
        "  submit over NATS {}",
        config.region.subjects().intake_submit()
    );
    if demo_rate.is_some() && stack.http_addr.is_some() {
        // A newcomer trying the partner API needs a token; demo mode hands out one for the
        // example sender. Without --demo, tokens come only from `rcn tokens issue`.
        match demo_token(config).await {
            Ok(token) => println!("  demo API token   {token}  (institution PI-HAARLEM)"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not issue a demo API token"),
        }
        // Demo mode also makes one portal account per role and municipality, with fresh
        // passwords printed here; without --demo, accounts come from `rcn users add`.
        match demo_accounts(config).await {
            Ok(accounts) => {
                println!("  demo portal accounts (sign-in name: password):");
                for (who, password) in accounts {
                    println!("    {who}: {password}");
                }
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not make the demo accounts"),
        }
    }
    println!("Stop with Ctrl-C.");

    let demo = demo_rate.map(|rate| {
        let config = config.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            match rcn::feed::run_demo(&config, rate, stop).await {
                Ok(t) => tracing::info!(
                    accepted = t.accepted,
                    rejected = t.rejected,
                    failed = t.failed,
                    "demo feed stopped"
                ),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "demo feed stopped"),
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

/// Makes the demo portal accounts, once the gateway's schema exists.
async fn demo_accounts(config: &Config) -> anyhow::Result<Vec<(String, String)>> {
    let pool = rcn_gateway::tokens::open(config.database_url()?).await?;
    let accounts = users::demo(config, &pool).await;
    pool.close().await;
    accounts
}

/// Issues an API token for PI-HAARLEM, once the gateway's schema exists.
async fn demo_token(config: &Config) -> anyhow::Result<String> {
    let url = config.database_url()?;
    for _ in 0..100 {
        if let Ok(pool) = rcn_gateway::tokens::open(url).await {
            let issued = rcn_gateway::tokens::issue(&pool, "PI-HAARLEM", Some("demo")).await?;
            return Ok(issued.token);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the gateway's schema did not appear")
}
