//! `rcn bench`: how fast a notice goes from a partner to an open case, measured against the raw
//! floor of NATS and PostgreSQL on the same machine in the same run.
//!
//! - **floor**: notices published to a bare JetStream stream, pulled by 8 workers that each
//!   insert one case row and five task rows in one transaction per message, then ack;
//! - **rcn end to end**: notices submitted over NATS (and over HTTP) until each one's case is
//!   committed: sustained throughput, and latency percentiles at a fixed offered rate;
//! - **growth**: the same with 10k and 100k cases already in the database, seeded by casework's
//!   own library ([`rcn_casework::seed::synthetic_cases`]);
//! - **footprint**: peak RSS and idle CPU of this process (which runs the whole stack).
//!
//! The benchmark reads casework's figures through [`rcn_casework::stats`] and issues its partner
//! token through [`rcn_gateway::tokens`]: it names no service's tables. The floor's tables live in
//! a schema of the benchmark's own (`bench_floor_…`), dropped after the run.
//!
//! It prints a table and, last, one line:
//! `e2e_notices_per_s=… floor_per_s=… ratio=… p99_ms=…`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rcn_contracts::notice::NoticeKind;
use rcn_contracts::region::RegionTable;
use rcn_contracts::{Gemeentecode, Region, ReleaseNotice};
use rcn_runtime::{CancellationToken, Config};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::stack::{Service, Stack};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Notices per throughput run.
    pub notices: usize,
    /// Offered rate for the latency run, notices per second.
    pub rate: f64,
    /// Seconds of the latency run.
    pub latency_seconds: u64,
    /// Also measure with 10k and 100k cases already present.
    pub growth: bool,
    /// Notices for the back-fill run (0 to skip).
    pub backfill: usize,
}

/// One measured line of the table.
#[derive(Debug, Clone)]
struct Row {
    what: String,
    notices: usize,
    per_second: f64,
    p50_ms: Option<f64>,
    p95_ms: Option<f64>,
    p99_ms: Option<f64>,
}

/// Runs every measurement against `config`'s NATS and PostgreSQL and prints the results.
pub async fn run(config: &Config, options: &BenchOptions) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let nats = rcn_runtime::nats::connect(config.nats_url()?, "rcn-bench", Duration::from_secs(10))
        .await?;
    let admin = PgPoolOptions::new()
        .max_connections(10)
        .connect(config.database_url()?)
        .await?;

    let floor = floor(&nats, &admin, options.notices)
        .await
        .context("floor")?;
    rows.push(floor.clone());

    let (e2e_nats, latency, http) = {
        let bench = BenchStack::start(config).await?;
        let e2e = bench
            .throughput("rcn over NATS (saturation)", options.notices, Submit::Nats)
            .await?;
        let http = bench
            .throughput(
                "rcn over HTTP (saturation)",
                options.notices.min(5000),
                Submit::Http,
            )
            .await?;
        let latency = bench.latency(options.rate, options.latency_seconds).await?;
        let mut growth_rows = Vec::new();
        if options.growth {
            for size in [10_000usize, 100_000] {
                bench.seed_cases(size).await?;
                growth_rows.push(
                    bench
                        .throughput(
                            &format!("rcn over NATS with {size} cases"),
                            options.notices,
                            Submit::Nats,
                        )
                        .await?,
                );
            }
        }
        let mut backfill_rows = Vec::new();
        if options.backfill > 0 {
            backfill_rows.push(
                bench
                    .throughput(
                        "back-fill (historical notices)",
                        options.backfill,
                        Submit::Nats,
                    )
                    .await?,
            );
        }
        bench.stop().await?;
        rows.extend(growth_rows);
        rows.extend(backfill_rows);
        (e2e, latency, http)
    };
    rows.insert(1, e2e_nats.clone());
    rows.insert(2, http);
    rows.insert(3, latency.clone());
    let idle_cpu = idle_cpu(Duration::from_secs(3)).await;

    println!();
    println!(
        "{:<42} {:>8} {:>12} {:>8} {:>8} {:>8}",
        "measurement", "notices", "notices/s", "p50 ms", "p95 ms", "p99 ms"
    );
    for r in &rows {
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        println!(
            "{:<42} {:>8} {:>12.0} {:>8} {:>8} {:>8}",
            r.what,
            r.notices,
            r.per_second,
            ms(r.p50_ms),
            ms(r.p95_ms),
            ms(r.p99_ms)
        );
    }
    println!(
        "peak RSS {:.0} MiB; idle CPU {:.1}% of one core",
        peak_rss_mib(),
        idle_cpu * 100.0
    );
    let ratio = e2e_nats.per_second / floor.per_second;
    println!(
        "e2e_notices_per_s={:.0} floor_per_s={:.0} ratio={:.2} p99_ms={:.1}",
        e2e_nats.per_second,
        floor.per_second,
        ratio,
        latency.p99_ms.unwrap_or(f64::NAN)
    );
    Ok(())
}

/// The floor: the least work a notice can cost, done naively.
async fn floor(nats: &async_nats::Client, admin: &PgPool, n: usize) -> anyhow::Result<Row> {
    const WORKERS: usize = 8;
    let js = jetstream::new(nats.clone());
    let name = format!(
        "BENCH_FLOOR_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let subject = format!("bench.floor.{}", name.to_lowercase());
    js.create_stream(jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![subject.clone()],
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    let schema = name.to_lowercase();
    // Runtime SQL on purpose: a scratch schema named per run (an identifier cannot be a bind
    // parameter), with tables of its own that no service owns.
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(admin)
        .await?;
    sqlx::query(&format!("CREATE TABLE {schema}.cases (case_id uuid PRIMARY KEY, episode_key text UNIQUE, gemeentecode text, opened_at timestamptz)"))
        .execute(admin)
        .await?;
    sqlx::query(&format!("CREATE TABLE {schema}.tasks (case_id uuid, condition text, status text, PRIMARY KEY (case_id, condition))"))
        .execute(admin)
        .await?;

    let notices = notices(n, 11);
    let mut acks = Vec::with_capacity(n);
    for notice in &notices {
        acks.push(
            js.publish(subject.clone(), serde_json::to_vec(notice)?.into())
                .await?,
        );
    }
    for ack in acks {
        ack.await?;
    }
    let stream = js.get_stream(&name).await?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("floor".into()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            max_ack_pending: 10_000,
            ..Default::default()
        })
        .await?;
    let started = Instant::now();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (consumer, pool, schema, done) = (
            consumer.clone(),
            admin.clone(),
            schema.clone(),
            done.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut messages = consumer.messages().await?;
            while done.load(std::sync::atomic::Ordering::Relaxed) < n {
                let Ok(Some(Ok(m))) =
                    tokio::time::timeout(Duration::from_millis(500), messages.next()).await
                else {
                    continue;
                };
                let notice: ReleaseNotice = serde_json::from_slice(&m.payload)?;
                let mut tx = pool.begin().await?;
                let case_id = uuid::Uuid::now_v7();
                sqlx::query(&format!(
                    "INSERT INTO {schema}.cases VALUES ($1, $2, $3, now())"
                ))
                .bind(case_id)
                .bind(&notice.notice_id)
                .bind("GM0392")
                .execute(&mut *tx)
                .await?;
                for c in ["id", "housing", "income", "debts", "care"] {
                    sqlx::query(&format!(
                        "INSERT INTO {schema}.tasks VALUES ($1, $2, 'unknown')"
                    ))
                    .bind(case_id)
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                m.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let elapsed = started.elapsed();
    js.delete_stream(&name).await?;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin)
        .await?;
    Ok(Row {
        what: "floor: raw JetStream + 8 workers, 1 tx/notice".into(),
        notices: n,
        per_second: n as f64 / elapsed.as_secs_f64(),
        p50_ms: None,
        p95_ms: None,
        p99_ms: None,
    })
}

/// `n` notices that each open a new case in the region (BRP registration of a member).
fn notices(n: usize, seed: u64) -> Vec<ReleaseNotice> {
    let region = RegionTable::kennemerland();
    let codes: Vec<Gemeentecode> = region
        .municipalities
        .iter()
        .map(|m| m.code.clone())
        .collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut base = rcn_contracts::examples::release_notice();
    base.kind = NoticeKind::DetentionStarted;
    (0..n)
        .map(|i| {
            let mut notice = base.clone();
            notice.notice_id = format!("bench-{}-{i}", &run[..8]);
            notice.person.bsn = crate::demo::random_bsn(&mut rng);
            notice.person.brp_municipality = Some(codes[i % codes.len()].clone());
            notice
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Submit {
    Nats,
    Http,
}

/// The whole stack in this process, in its own region.
struct BenchStack {
    config: Config,
    shutdown: CancellationToken,
    stack: tokio::task::JoinHandle<anyhow::Result<()>>,
    http: std::net::SocketAddr,
    nats: async_nats::Client,
    /// Casework's schema, read only through [`rcn_casework::stats`] and seeded only through
    /// [`rcn_casework::seed`].
    casework: PgPool,
    /// The conditions casework gives every case (its settings from the environment).
    conditions: Vec<rcn_contracts::Condition>,
    client: reqwest::Client,
    /// The partner API token the HTTP runs submit with (as PI-HAARLEM, the example sender).
    token: String,
}

impl BenchStack {
    async fn start(config: &Config) -> anyhow::Result<Self> {
        let mut config = config.clone();
        config.region = Region::parse(&format!(
            "bench{}",
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        ))?;
        // The services' own settings from the environment, the gateway on a free port.
        let env = |var: &str| match var {
            "RCN_HTTP_ADDR" => Some("127.0.0.1:0".to_owned()),
            _ => rcn_runtime::config::process_env(var),
        };
        let prepared = Stack::prepare(&Service::all(), &env)?;
        let conditions = rcn_casework::Settings::from_env()?.conditions;
        let shutdown = CancellationToken::new();
        crate::nats_provision::provision(&config, &Service::all()).await?;
        let stack = Stack::start(&config, prepared, shutdown.clone()).await?;
        let http = stack.http_addr.context("the gateway runs")?;
        let nats = rcn_runtime::nats::connect(
            config.nats_url()?,
            "rcn-bench-partner",
            Duration::from_secs(10),
        )
        .await?;
        // Opening the schemas through the services' libraries migrates them as the services do.
        let casework = rcn_casework::stats::open(config.database_url()?, 4).await?;
        let tokens = rcn_gateway::tokens::open(config.database_url()?).await?;
        let mut this = Self {
            config,
            shutdown,
            stack: tokio::spawn(stack.wait()),
            http,
            nats,
            casework,
            conditions,
            client: reqwest::Client::new(),
            token: String::new(),
        };
        // Wait until intake answers (casework's and the gateway's schemas are migrated above).
        for _ in 0..200 {
            let ready = this
                .nats
                .request(this.config.region.subjects().intake_submit(), "{}".into())
                .await
                .is_ok();
            if ready {
                this.token = rcn_gateway::tokens::issue(
                    &tokens,
                    "PI-HAARLEM",
                    Some("benchmark"),
                    rcn_gateway::tokens::Actor::CommandLine,
                    None,
                )
                .await?
                .token;
                return Ok(this);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the stack did not become ready")
    }

    async fn submit(&self, notice: &ReleaseNotice, how: Submit) -> anyhow::Result<()> {
        let body = serde_json::to_vec(notice)?;
        match how {
            Submit::Nats => {
                let reply = self
                    .nats
                    .request(self.config.region.subjects().intake_submit(), body.into())
                    .await?;
                anyhow::ensure!(
                    reply.payload.starts_with(br#"{"result":"accepted""#),
                    "not accepted: {}",
                    String::from_utf8_lossy(&reply.payload)
                );
            }
            Submit::Http => {
                let r = self
                    .client
                    .post(format!("http://{}/v1/release-notices", self.http))
                    .bearer_auth(&self.token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 202, "HTTP {}", r.status());
            }
        }
        Ok(())
    }

    async fn applied(&self) -> anyhow::Result<i64> {
        Ok(rcn_casework::stats::applied_notice_count(&self.casework).await?)
    }

    /// Submits `n` notices as fast as 64 concurrent senders can, until every case is committed.
    async fn throughput(&self, what: &str, n: usize, how: Submit) -> anyhow::Result<Row> {
        let before = self.applied().await?;
        let batch = notices(n, rand::random());
        let started = Instant::now();
        let results: Vec<anyhow::Result<()>> = futures::stream::iter(batch.iter())
            .map(|notice| self.submit(notice, how))
            .buffer_unordered(64)
            .collect()
            .await;
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        while self.applied().await? < before + n as i64 {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "cases not committed within 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed();
        Ok(Row {
            what: what.into(),
            notices: n,
            per_second: n as f64 / elapsed.as_secs_f64(),
            p50_ms: None,
            p95_ms: None,
            p99_ms: None,
        })
    }

    /// Offers `rate` notices per second for `seconds`; latency is submit → case committed.
    async fn latency(&self, rate: f64, seconds: u64) -> anyhow::Result<Row> {
        let n = (rate * seconds as f64).round() as usize;
        let batch = notices(n, rand::random());
        let started = Instant::now();
        let sent: Vec<anyhow::Result<(String, DateTime<Utc>)>> =
            futures::stream::iter(batch.iter().enumerate())
                .map(|(i, notice)| async move {
                    tokio::time::sleep_until(
                        (started + Duration::from_secs_f64(i as f64 / rate)).into(),
                    )
                    .await;
                    let at = Utc::now();
                    self.submit(notice, Submit::Nats).await?;
                    Ok((notice.notice_key(), at))
                })
                .buffer_unordered(256)
                .collect()
                .await;
        let sent: HashMap<String, DateTime<Utc>> =
            sent.into_iter().collect::<anyhow::Result<_>>()?;
        let keys: Vec<String> = sent.keys().cloned().collect();
        let mut applied: Vec<(String, DateTime<Utc>)> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while applied.len() < n && Instant::now() < deadline {
            applied = rcn_casework::stats::applied_at(&self.casework, &keys).await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::ensure!(
            applied.len() == n,
            "only {} of {n} cases committed",
            applied.len()
        );
        let mut ms: Vec<f64> = applied
            .iter()
            .map(|(k, at)| (*at - sent[k]).num_microseconds().unwrap_or(0) as f64 / 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        let pct = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
        Ok(Row {
            what: format!("rcn latency at {rate}/s over NATS"),
            notices: n,
            per_second: n as f64 / started.elapsed().as_secs_f64(),
            p50_ms: Some(pct(0.50)),
            p95_ms: Some(pct(0.95)),
            p99_ms: Some(pct(0.99)),
        })
    }

    /// Tops casework up to `total` synthetic cases (most closed, a tenth open with open tasks),
    /// as history already in the database, through casework's own seeding.
    async fn seed_cases(&self, total: usize) -> anyhow::Result<()> {
        let codes: Vec<Gemeentecode> = RegionTable::kennemerland()
            .municipalities
            .iter()
            .map(|m| m.code.clone())
            .collect();
        let started = Instant::now();
        let added = rcn_casework::seed::synthetic_cases(
            &self.casework,
            total as u64,
            &codes,
            &self.conditions,
            rcn_casework::state::today(),
            |_| {},
        )
        .await
        .context("seeding synthetic cases")?;
        eprintln!(
            "seeded {added} synthetic cases ({} cases in casework) in {:.1} s",
            rcn_casework::stats::case_count(&self.casework).await?,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.stack.await??;
        Ok(())
    }
}

/// Peak resident memory of this process (the whole stack), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU used by this process while idle over `window`, as a fraction of one core.
async fn idle_cpu(window: Duration) -> f64 {
    fn cpu_ticks() -> Option<u64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    }
    let before = cpu_ticks();
    tokio::time::sleep(window).await;
    match (before, cpu_ticks()) {
        // Linux reports 100 ticks per second.
        (Some(a), Some(b)) => (b - a) as f64 / 100.0 / window.as_secs_f64(),
        _ => f64::NAN,
    }
}
