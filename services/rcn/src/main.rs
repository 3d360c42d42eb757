//! `rcn`: run the whole stack (or one service) in one process. Without NATS_URL / DATABASE_URL
//! it starts its own nats-server and PostgreSQL under the data folder.

mod tokens;
mod users;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rcn::stack::{Prepared, Service, Stack};
use rcn_contracts::dead_letters_api::DeadLetterAction;
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
        /// Run only these services (comma-separated): intake, router, casework, procesregie, gateway, monitor.
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
        /// Provision the services' streams and consumers first, with this process's NATS user
        /// (done anyway on the launcher's own nats-server and on one without authorisation).
        #[arg(long)]
        provision: bool,
    },
    /// Create or update every stream and durable consumer the services need (needs NATS_URL and
    /// the provisioner's NATS credentials). Idempotent; run it before the services start, and
    /// again after an upgrade.
    Provision,
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
        /// Instead: the monitor's figures over this many synthetic cases (schema monitor_scale,
        /// replaced on every run).
        #[arg(long)]
        monitor_scale: Option<u64>,
        /// Instead: "who saw this person" with this many rows in casework's access log (schema
        /// casework_whosaw, kept between runs and topped up).
        #[arg(long)]
        who_saw_scale: Option<u64>,
        /// Instead: the portal's inbox and case pages over HTTP with this many synthetic cases
        /// in the casework schema of DATABASE_URL (a database of its own, kept between runs).
        #[arg(long)]
        pages_scale: Option<u64>,
        #[arg(long, env = "RCN_DATA_DIR", default_value = ".rcn-data")]
        data_dir: PathBuf,
    },
    /// The privacy officer's questions (needs NATS_URL and the identity key).
    Privacy {
        #[command(subcommand)]
        action: PrivacyAction,
    },
    /// Inspect and replay the dead-letter queue (needs NATS_URL; show, replay and discard go
    /// through the monitor's dead-letter desk as an RCN coordinator, and need the identity key).
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Start only the launcher's own nats-server and PostgreSQL, print their URLs (without
    /// secrets) as `NATS_URL=…` and `DATABASE_URL=…` lines and where their secrets are
    /// (`NATS_TOKEN_FILE=…`, `PGPASSFILE=…`, `POSTGRES_PASSWORD_FILE=…`, files of mode 0600), and
    /// keep them running until stopped. The test command uses this on a machine without servers
    /// of its own. For development and demonstration only.
    Servers {
        #[arg(long, env = "RCN_DATA_DIR", default_value = ".rcn-data")]
        data_dir: PathBuf,
    },
    /// Create or update the PostgreSQL roles: one login role per service (`rcn_<service>`, owning
    /// its own schema and nothing else) and the migration role `rcn_migrator`, in the database of
    /// DATABASE_URL (an administrative user). Passwords from `RCN_DB_PASSWORD_<SERVICE>` and
    /// `RCN_DB_PASSWORD_MIGRATOR` when set. Idempotent.
    DbRoles,
    /// Make a new key pair for the identities the gateway signs: prints
    /// `RCN_IDENTITY_SIGNING_KEY=…` (the gateway's alone; keep it secret) and
    /// `RCN_IDENTITY_PUBLIC_KEY=…` (every service's).
    Keys,
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
    /// Retention: run every service's retention job now, show what it would remove
    /// (`--dry-run`, counts per service and record class, nothing removed), or print the
    /// deletion logs (`rcn retention log`). Needs DATABASE_URL (or the services' own URLs).
    Retention {
        /// Only count what the next run would remove; remove nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(subcommand)]
        action: Option<RetentionAction>,
    },
    /// The monitor's read models (needs NATS_URL and DATABASE_URL).
    Monitor {
        #[command(subcommand)]
        action: MonitorAction,
    },
}

#[derive(Subcommand)]
enum MonitorAction {
    /// Replay NOTICES, ROUTING, CASES and DLQ from the start into fresh tables and put them in
    /// place of the live ones (the running monitor goes on with them).
    Rebuild,
}

#[derive(Subcommand)]
enum RetentionAction {
    /// The deletion logs of every service, newest first: record class, rule, count, when.
    Log {
        /// Lines per service.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum DlqAction {
    /// List dead letters, oldest first.
    List {
        /// Only this service's (intake, router, casework, procesregie).
        #[arg(long)]
        service: Option<String>,
    },
    /// Show one dead letter with its payload (which may hold personal data). The monitor's
    /// dead-letter desk logs the read, with who and why, before it answers.
    Show {
        sequence: u64,
        #[command(flatten)]
        desk: DeskFlags,
    },
    /// Publish a dead letter to its original subject again and remove it from the queue
    /// (through the desk, logged with who and why).
    Replay {
        sequence: u64,
        #[command(flatten)]
        desk: DeskFlags,
    },
    /// Remove a dead letter from the queue without handling it (through the desk, logged with
    /// who and why).
    Discard {
        sequence: u64,
        #[command(flatten)]
        desk: DeskFlags,
    },
}

/// Who acts at the dead-letter desk, and why: both kept in its log.
#[derive(clap::Args)]
struct DeskFlags {
    /// The RCN coordinator acting (their account id), logged with the action.
    #[arg(long)]
    user: String,
    /// Why the payload is needed, or why the letter is replayed or discarded; logged with it.
    #[arg(long)]
    why: String,
}

#[derive(Subcommand)]
enum PrivacyAction {
    /// Who saw the person whose BSN is read from standard input (never an argument): every
    /// read and change in every service's access log, by time. The question is logged.
    WhoSaw {
        /// The privacy officer asking (their account id), logged with the question.
        #[arg(long)]
        user: String,
    },
    /// Everything rcn holds about the person (AVG art. 15) as JSON, on standard output (or
    /// `--out`). The BSN is read from `--bsn-file` or standard input, never an argument; every
    /// service logs the question with its reason.
    Export {
        /// The privacy officer asking (their account id), logged with the question.
        #[arg(long)]
        user: String,
        /// Why the export is made (the person's request: date, reference), logged with it.
        #[arg(long)]
        why: String,
        /// A file whose first line is the BSN; without it, standard input.
        #[arg(long)]
        bsn_file: Option<std::path::PathBuf>,
        /// Where to write the JSON; without it, standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::from_env()?;
    // One service per process has that service's name on its spans; several in one process
    // share the launcher's (their spans name the service in their fields).
    let service_name = match &cli.command {
        Command::Run { only, .. } if only.len() == 1 => format!("rcn-{}", only[0].name),
        _ => "rcn".to_owned(),
    };
    let _telemetry = rcn_runtime::telemetry::init(&config, &service_name);
    match cli.command {
        Command::Run {
            only,
            demo,
            demo_rate,
            data_dir,
            provision,
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
            let options = RunOptions {
                demo_rate: demo.then_some(demo_rate),
                provision,
            };
            run(&mut config, &services, prepared, options, &data_dir).await
        }
        Command::Provision => {
            let report = rcn::nats_provision::provision(&config, &Service::all()).await?;
            print!("{}", rcn::nats_provision::describe(&report));
            println!(
                "provisioned {} stream(s) and {} consumer(s) for region {}",
                report.streams.len(),
                report.consumers.len(),
                config.region
            );
            Ok(())
        }
        Command::Bench {
            notices,
            rate,
            latency_seconds,
            growth,
            backfill,
            inbox_scale,
            monitor_scale,
            who_saw_scale,
            pages_scale,
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
            if config.identity_signer.is_none()
                && config.nats_url.is_some()
                && config.database_url.is_some()
            {
                // Nor its signed identities: gateway and services run in this one process.
                config
                    .set_identity_signer(rcn_runtime::signed_identity::IdentitySigner::generate());
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
            let result = match (inbox_scale, monitor_scale) {
                _ if pages_scale == Some(0) => {
                    Err(anyhow::anyhow!("--pages-scale must be at least 1"))
                }
                _ if pages_scale.is_some() => {
                    rcn::pages_bench::run(&config, pages_scale.unwrap_or_default()).await
                }
                _ if who_saw_scale == Some(0) => {
                    Err(anyhow::anyhow!("--who-saw-scale must be at least 1"))
                }
                _ if who_saw_scale.is_some() => {
                    rcn::who_saw_bench::run(&config, who_saw_scale.unwrap_or_default()).await
                }
                (Some(0), _) => Err(anyhow::anyhow!("--inbox-scale must be at least 1")),
                (_, Some(0)) => Err(anyhow::anyhow!("--monitor-scale must be at least 1")),
                (Some(cases), _) => rcn::inbox_bench::run(&config, cases).await,
                (None, Some(cases)) => rcn_monitor::bench::run(&config, cases).await.map(|_| ()),
                (None, None) => rcn::bench::run(&config, &options).await,
            };
            own.stop().await?;
            result
        }
        Command::Privacy {
            action: PrivacyAction::WhoSaw { user },
        } => {
            let bsn = rcn::privacy::read_bsn(&mut std::io::stdin().lock())?;
            let nats = rcn_runtime::nats::connect_as(
                config.nats_url()?,
                &config.nats_auth,
                "rcn-privacy",
                Duration::from_secs(5),
            )
            .await?;
            let answer = rcn::privacy::who_saw(
                &nats,
                &config.region.subjects(),
                config.identity_signer()?,
                &user,
                &bsn,
            )
            .await?;
            rcn::privacy::print(&answer, &bsn);
            Ok(())
        }
        Command::Privacy {
            action:
                PrivacyAction::Export {
                    user,
                    why,
                    bsn_file,
                    out,
                },
        } => {
            let bsn = match &bsn_file {
                Some(path) => rcn::privacy::read_bsn_file(path)?,
                None => rcn::privacy::read_bsn(&mut std::io::stdin().lock())?,
            };
            let nats = rcn_runtime::nats::connect_as(
                config.nats_url()?,
                &config.nats_auth,
                "rcn-privacy",
                Duration::from_secs(5),
            )
            .await?;
            let export = rcn::privacy::export(
                &nats,
                &config.region.subjects(),
                config.identity_signer()?,
                &user,
                &bsn,
                &why,
            )
            .await?;
            let json = serde_json::to_string_pretty(&export)?;
            match &out {
                Some(path) => std::fs::write(path, json + "\n")
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{json}"),
            }
            for m in &export.missing {
                eprintln!("! {m} did not answer: its part is missing, the export is incomplete");
            }
            if !export.complete() {
                anyhow::bail!("the export is incomplete");
            }
            Ok(())
        }
        Command::Dlq { action } => {
            // The desk's flags and the identity key are checked before anything is asked.
            if let DlqAction::Show { sequence, desk }
            | DlqAction::Replay { sequence, desk }
            | DlqAction::Discard { sequence, desk } = &action
            {
                rcn::dlq::check(*sequence, &desk.user, &desk.why)?;
                config.identity_signer()?;
            }
            let nats = rcn_runtime::nats::connect_as(
                config.nats_url()?,
                &config.nats_auth,
                "rcn-dlq",
                Duration::from_secs(5),
            )
            .await?;
            let js = async_nats::jetstream::new(nats.clone());
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
                DlqAction::Show { sequence, desk } => {
                    let signer = config.identity_signer()?;
                    let desk_client = rcn::dlq::Desk::new(&nats, &subjects, signer, &desk.user)?;
                    let shown = desk_client.show(sequence, &desk.why).await?;
                    print!("{}", rcn::dlq::describe(&shown));
                }
                DlqAction::Replay { sequence, desk } => {
                    let signer = config.identity_signer()?;
                    let desk_client = rcn::dlq::Desk::new(&nats, &subjects, signer, &desk.user)?;
                    let done = desk_client
                        .settle(sequence, &desk.why, DeadLetterAction::Replayed)
                        .await?;
                    println!(
                        "replayed dead letter {sequence} (of {}), recorded as {} at {}",
                        done.settled.service, done.settled.by, done.settled.at
                    );
                }
                DlqAction::Discard { sequence, desk } => {
                    let signer = config.identity_signer()?;
                    let desk_client = rcn::dlq::Desk::new(&nats, &subjects, signer, &desk.user)?;
                    let done = desk_client
                        .settle(sequence, &desk.why, DeadLetterAction::Discarded)
                        .await?;
                    println!(
                        "discarded dead letter {sequence} (of {}), recorded as {} at {}",
                        done.settled.service, done.settled.by, done.settled.at
                    );
                }
            }
            Ok(())
        }
        Command::Retention { dry_run, action } => match action {
            Some(RetentionAction::Log { limit }) => {
                let lines = rcn::retention::log(&config, limit.clamp(1, 10_000)).await?;
                print!("{}", rcn::retention::describe_log(&lines));
                Ok(())
            }
            None => {
                let clock = std::sync::Arc::new(rcn_runtime::retention::SystemClock);
                let reports = rcn::retention::run(&config, dry_run, clock).await?;
                print!("{}", rcn::retention::describe(&reports, dry_run));
                Ok(())
            }
        },
        Command::Tokens { action } => tokens::run(&config, action).await,
        Command::DbRoles => {
            use sqlx::Connection as _;
            let mut admin = sqlx::PgConnection::connect(config.database_url()?)
                .await
                .context("connecting to DATABASE_URL")?;
            let env = rcn_runtime::config::process_env;
            let prefix = rcn::db_roles::PREFIX;
            rcn::db_roles::provision(&mut admin, prefix, &|role| {
                rcn::db_roles::password_from(&env, prefix, role)
            })
            .await?;
            for schema in rcn_runtime::db::SERVICE_SCHEMAS {
                println!(
                    "role {} owns schema {schema}",
                    rcn::db_roles::role(prefix, schema)
                );
            }
            println!("role {} runs migrations", rcn::db_roles::migrator(prefix));
            Ok(())
        }
        Command::Keys => {
            let key = rcn_runtime::signed_identity::IdentitySigner::generate();
            println!("RCN_IDENTITY_SIGNING_KEY={}", key.seed_hex());
            println!("RCN_IDENTITY_PUBLIC_KEY={}", key.public_key_hex());
            Ok(())
        }
        Command::Monitor {
            action: MonitorAction::Rebuild,
        } => {
            let report = rcn_monitor::rebuild::run(&config).await?;
            for (feed, n) in &report.replayed {
                println!("{:<22} {n} message(s) replayed", feed.durable());
            }
            if report.skipped > 0 {
                println!(
                    "{} message(s) skipped: the monitor dead-letters them (see rcn dlq list --service monitor)",
                    report.skipped
                );
            }
            println!("the monitor's tables are rebuilt");
            Ok(())
        }
        Command::Users { action } => users::run(&config, action).await,
        Command::Servers { data_dir } => {
            let shutdown = rcn_runtime::shutdown_signal();
            config.nats_url = None;
            config.database_url = None;
            let mut own = rcn::provision::OwnServers::provide(&mut config, &data_dir).await?;
            let mut banner = vec![
                format!("NATS_URL={}", config.nats_url()?),
                format!(
                    "DATABASE_URL={}",
                    rcn_runtime::db::without_password(config.database_url()?)
                ),
            ];
            for (var, file) in own.secret_files() {
                banner.push(format!("{var}={}", file.display()));
            }
            // Runs on, like `rcn run`, when nobody reads stdout any more.
            say(&banner);
            shutdown.cancelled().await;
            own.stop().await
        }
    }
}

/// How `rcn run` runs, besides which services.
struct RunOptions {
    /// Synthetic notices per second, with `--demo`.
    demo_rate: Option<f64>,
    /// `--provision`: provision first even with NATS credentials configured.
    provision: bool,
}

async fn run(
    config: &mut Config,
    chosen: &[&'static Service],
    services: Prepared,
    options: RunOptions,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let RunOptions {
        demo_rate,
        provision,
    } = options;
    let shutdown = rcn_runtime::shutdown_signal();
    let own_nats = config.nats_url.is_none();
    // Its own servers run each service as its own NATS user and PostgreSQL role, as compose does.
    let mut own = rcn::provision::OwnServers::provide_with(
        config,
        data_dir,
        rcn::provision::Access::PerService,
    )
    .await?;
    // A deployment's service users may not provision (compose runs `rcn provision` first); the
    // launcher's own server and one without authorisation are development, where it may.
    if provision || own_nats || config.nats_auth == rcn_runtime::nats_auth::NatsAuth::None {
        let report = rcn::nats_provision::provision(config, chosen).await?;
        tracing::info!(
            streams = report.streams.len(),
            consumers = report.consumers.len(),
            "streams and consumers provisioned"
        );
    }
    rcn_runtime::metrics::serve_configured(config).await?;
    let stack = Stack::start(config, services, shutdown.clone()).await?;

    // The banner is written once, and a stdout nobody reads any more (`rcn run | head`, a
    // supervisor that closed the pipe) must not stop the services: see `say`.
    let mut banner = vec![format!("rcn is running (region {})", config.region)];
    if let Some(addr) = stack.http_addr {
        banner.push(format!("  staff portal     http://{addr}/"));
        banner.push(format!(
            "  partner API      http://{addr}/v1/release-notices"
        ));
        banner.push(format!(
            "  health           http://{addr}/healthz  http://{addr}/readyz"
        ));
    }
    if let Some(addr) = config.metrics_addr {
        banner.push(format!("  metrics          http://{addr}/metrics"));
    }
    banner.push(format!("  NATS             {}", config.nats_url()?));
    if let Some(monitor) = own.nats().and_then(|n| n.monitor_url()) {
        banner.push(format!("  NATS monitoring  {monitor}"));
    }
    banner.push(format!(
        "  PostgreSQL       {}",
        rcn_runtime::db::without_password(config.database_url()?)
    ));
    for (var, file) in own.secret_files() {
        banner.push(format!("  secret           {var}={}", file.display()));
    }
    banner.push(format!(
        "  submit over NATS {}",
        config.region.subjects().intake_submit()
    ));
    if demo_rate.is_some() && stack.http_addr.is_some() {
        // A newcomer trying the partner API needs a token; demo mode hands out one for the
        // example sender. Without --demo, tokens come only from `rcn tokens issue`.
        match demo_token(config).await {
            Ok(token) => banner.push(format!(
                "  demo API token   {token}  (institution PI-HAARLEM)"
            )),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not issue a demo API token"),
        }
        // Demo mode also makes one portal account per role and municipality, with fresh
        // passwords printed here; without --demo, accounts come from `rcn users add`.
        match demo_accounts(config).await {
            Ok(accounts) => {
                banner.push("  demo portal accounts (sign-in name: password):".to_owned());
                for (who, password) in accounts {
                    banner.push(format!("    {who}: {password}"));
                }
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not make the demo accounts"),
        }
    }
    banner.push("Stop with Ctrl-C.".to_owned());
    say(&banner);

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

/// Writes the banner of a command that runs on (`rcn run`, `rcn servers`) to stdout. A stdout
/// that cannot be written (its reader went away) is logged, never a reason to stop: `println!`
/// would panic there and take every service or server down.
fn say(lines: &[String]) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let written = lines
        .iter()
        .try_for_each(|line| writeln!(out, "{line}"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not write the start-up banner to stdout; running on");
    }
}

/// Makes the demo portal accounts, once the gateway's schema exists.
async fn demo_accounts(config: &Config) -> anyhow::Result<Vec<(String, String)>> {
    // As the gateway's own role: the accounts are the gateway's.
    let pool = rcn_gateway::tokens::open(config.database_url_for("gateway")?).await?;
    let accounts = users::demo(config, &pool).await;
    pool.close().await;
    accounts
}

/// Issues an API token for PI-HAARLEM, once the gateway's schema exists.
async fn demo_token(config: &Config) -> anyhow::Result<String> {
    let url = config.database_url_for("gateway")?;
    for _ in 0..100 {
        if let Ok(pool) = rcn_gateway::tokens::open(url).await {
            let issued = rcn_gateway::tokens::issue(
                &pool,
                "PI-HAARLEM",
                Some("demo"),
                rcn_gateway::tokens::Actor::CommandLine,
                None,
            )
            .await?;
            return Ok(issued.token);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the gateway's schema did not appear")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rcn dlq show|replay|discard` cannot be run without saying who acts and why.
    #[test]
    fn the_desk_commands_require_user_and_why() {
        for verb in ["show", "replay", "discard"] {
            let missing = Cli::try_parse_from(["rcn", "dlq", verb, "7", "--user", "rcn"])
                .err()
                .unwrap_or_else(|| panic!("{verb} without --why is refused"))
                .to_string();
            assert!(missing.contains("--why"), "{missing}");
            let missing = Cli::try_parse_from(["rcn", "dlq", verb, "7", "--why", "uitzoeken"])
                .err()
                .unwrap_or_else(|| panic!("{verb} without --user is refused"))
                .to_string();
            assert!(missing.contains("--user"), "{missing}");
            let bad = Cli::try_parse_from([
                "rcn",
                "dlq",
                verb,
                "seven",
                "--user",
                "rcn",
                "--why",
                "uitzoeken",
            ])
            .err()
            .unwrap_or_else(|| panic!("{verb} with a sequence that is no number is refused"))
            .to_string();
            assert!(bad.contains("seven"), "{bad}");
            assert!(
                Cli::try_parse_from([
                    "rcn",
                    "dlq",
                    verb,
                    "7",
                    "--user",
                    "rcn",
                    "--why",
                    "uitzoeken"
                ])
                .is_ok()
            );
        }
        assert!(Cli::try_parse_from(["rcn", "dlq", "list"]).is_ok());
    }
}
