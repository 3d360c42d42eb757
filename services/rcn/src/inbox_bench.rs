//! `rcn bench --inbox-scale N`: the inbox and the deadline scheduler at national scale.
//!
//! Casework's own seeding ([`rcn_casework::seed::synthetic_cases`]) fills a schema of its own
//! (`casework_scale`, kept between runs, topped up to N cases) with N cases and 5·N tasks; then
//! each inbox variant is asked [`ROUNDS`] times, directly through casework's inbox function (the
//! database work a request costs, without the NATS hop), and the scheduler ticks [`TICKS`] times.
//! It prints p50/p95/p99 per variant and, last, one line:
//! `inbox_scale_cases=… worst_inbox_p95_ms=… tick_p95_ms=…`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use rcn_casework::state::{Casework, today};
use rcn_contracts::casework_api::{CaseRequest, InboxQuery, InboxScope};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::region::RegionTable;
use rcn_contracts::{Gemeentecode, Region};
use rcn_runtime::Config;
use uuid::Uuid;

/// Requests measured per inbox variant, unless [`PATIENCE`] runs out first.
const ROUNDS: usize = 200;
/// Scheduler ticks measured (after one catching-up tick), unless [`PATIENCE`] runs out first.
const TICKS: usize = 30;
/// How long one variant is measured at most (slow variants get fewer calls, at least [`FEWEST`]).
const PATIENCE: Duration = Duration::from_secs(20);
const FEWEST: usize = 10;
/// The schema the synthetic cases live in.
const SCHEMA: &str = "casework_scale";
/// Haarlem: 40 % of the synthetic cases.
const HAARLEM: &str = "GM0392";

/// An inbox variant: its name, and who asks what on the i-th call.
type Variant<'a> = (&'a str, Box<dyn Fn(usize) -> (Identity, InboxQuery) + 'a>);

/// One measured variant.
struct Measured {
    what: String,
    calls: usize,
    rows: usize,
    ms: Vec<f64>,
}

impl Measured {
    fn pct(&self, p: f64) -> f64 {
        let mut ms = self.ms.clone();
        ms.sort_by(f64::total_cmp);
        ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1]
    }
}

/// Seeds up to `cases` cases and measures every inbox variant and the scheduler's tick.
pub async fn run(config: &Config, cases: u64) -> anyhow::Result<()> {
    let pool = rcn_runtime::db::open(
        config.database_url()?,
        SCHEMA,
        8,
        rcn_casework::migrations(),
        Duration::from_secs(10),
    )
    .await
    .context("opening the casework_scale schema (migrations included)")?;
    let mut config = config.clone();
    config.region = Region::parse("benchscale")?;
    let settings = rcn_casework::Settings::from_env()?;
    let cw = Casework::new(pool.clone(), config.region.subjects(), &settings);
    let today = today();

    let haarlem = Gemeentecode::parse(HAARLEM)?;
    let mut codes: Vec<Gemeentecode> = RegionTable::kennemerland()
        .municipalities
        .iter()
        .map(|m| m.code.clone())
        .filter(|c| *c != haarlem)
        .collect();
    codes.insert(0, haarlem.clone());

    let started = Instant::now();
    let added =
        rcn_casework::seed::synthetic_cases(&pool, cases, &codes, &cw.conditions, today, |done| {
            eprintln!(
                "seeded {done} cases ({:.0} s)",
                started.elapsed().as_secs_f64()
            )
        })
        .await
        .context("seeding synthetic cases")?;
    eprintln!(
        "{added} cases added; {cases} present; seeding and vacuum took {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let staff = |n: u32| Identity {
        user_id: rcn_casework::seed::holder(&haarlem, n),
        role: Role::MunicipalStaff,
        gemeentecode: Some(haarlem.clone()),
    };
    let rcn = Identity {
        user_id: "bench-rcn".into(),
        role: Role::RcnCoordinator,
        gemeentecode: None,
    };
    let query = |scope: InboxScope| InboxQuery {
        scope,
        ..Default::default()
    };
    let variants: Vec<Variant> = vec![
        (
            "mine (Haarlem staff)",
            Box::new(|i| (staff(i as u32), query(InboxScope::Mine))),
        ),
        (
            "municipality unclaimed (Haarlem)",
            Box::new(|i| (staff(i as u32), query(InboxScope::Unclaimed))),
        ),
        (
            "municipality all, page 4 (Haarlem)",
            Box::new(|i| {
                (
                    staff(i as u32),
                    InboxQuery {
                        page: Some(4),
                        ..query(InboxScope::All)
                    },
                )
            }),
        ),
        (
            "spoed (Haarlem)",
            Box::new(|i| {
                (
                    staff(i as u32),
                    InboxQuery {
                        spoed: Some(true),
                        ..query(InboxScope::All)
                    },
                )
            }),
        ),
        (
            "not spoed (Haarlem)",
            Box::new(|i| {
                (
                    staff(i as u32),
                    InboxQuery {
                        spoed: Some(false),
                        ..query(InboxScope::All)
                    },
                )
            }),
        ),
        (
            "overdue (Haarlem)",
            Box::new(|i| {
                (
                    staff(i as u32),
                    InboxQuery {
                        overdue: Some(true),
                        ..query(InboxScope::All)
                    },
                )
            }),
        ),
        (
            "region-wide (RCN)",
            Box::new(|_| (rcn.clone(), query(InboxScope::All))),
        ),
        (
            "region-wide unclaimed (RCN)",
            Box::new(|_| (rcn.clone(), query(InboxScope::Unclaimed))),
        ),
    ];

    let mut measured = Vec::new();
    let mut seen_cases: Vec<Uuid> = Vec::new();
    for (what, make) in &variants {
        let mut m = Measured {
            what: (*what).to_owned(),
            calls: ROUNDS,
            rows: 0,
            ms: Vec::with_capacity(ROUNDS),
        };
        let began = Instant::now();
        for i in 0..ROUNDS + 5 {
            if m.ms.len() >= FEWEST && began.elapsed() > PATIENCE {
                break;
            }
            let (who, q) = make(i);
            let t = Instant::now();
            let page = rcn_casework::inbox::inbox(&cw, &who, &q, today)
                .await
                .with_context(|| format!("inbox {what}"))?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            // The first five warm the caches and the connection's statements.
            if i >= 5 {
                m.ms.push(ms);
                m.rows += page.rows.len();
            }
            if seen_cases.len() < ROUNDS {
                seen_cases.extend(page.rows.iter().map(|r| r.case_id));
            }
        }
        m.calls = m.ms.len();
        m.rows /= m.calls.max(1);
        eprintln!("{what}: p95 {:.1} ms", m.pct(0.95));
        measured.push(m);
    }

    anyhow::ensure!(!seen_cases.is_empty(), "the inbox showed no case to read");
    let mut single = Measured {
        what: "single case read (RCN)".into(),
        calls: ROUNDS,
        rows: 1,
        ms: Vec::with_capacity(ROUNDS),
    };
    for i in 0..ROUNDS {
        let case_id = seen_cases[i % seen_cases.len()];
        let t = Instant::now();
        let read = rcn_casework::case_detail::case_detail(
            &cw,
            &rcn,
            &CaseRequest { case_id, why: None },
            today,
        )
        .await;
        single.ms.push(t.elapsed().as_secs_f64() * 1000.0);
        read.context("single case read")?;
    }
    measured.push(single);

    let t = Instant::now();
    let first = rcn_casework::scheduler::tick(&cw, today).await?;
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut tick = Measured {
        what: "scheduler tick (steady)".into(),
        calls: TICKS,
        rows: 0,
        ms: Vec::with_capacity(TICKS),
    };
    let began = Instant::now();
    for _ in 0..TICKS {
        if tick.ms.len() >= FEWEST && began.elapsed() > PATIENCE {
            break;
        }
        let t = Instant::now();
        tick.rows += rcn_casework::scheduler::tick(&cw, today).await?;
        tick.ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    tick.calls = tick.ms.len();
    measured.push(tick);

    println!();
    println!("{cases} synthetic cases, {} tasks", cases * 5);
    println!(
        "{:<40} {:>6} {:>6} {:>8} {:>8} {:>8}",
        "measurement", "calls", "rows", "p50 ms", "p95 ms", "p99 ms"
    );
    for m in &measured {
        println!(
            "{:<40} {:>6} {:>6} {:>8.1} {:>8.1} {:>8.1}",
            m.what,
            m.calls,
            m.rows,
            m.pct(0.50),
            m.pct(0.95),
            m.pct(0.99)
        );
    }
    println!("first scheduler tick after seeding: {first_ms:.1} ms ({first} reminders raised)");
    let worst = measured
        .iter()
        .filter(|m| !m.what.starts_with("scheduler") && !m.what.starts_with("single"))
        .map(|m| m.pct(0.95))
        .fold(0.0, f64::max);
    let tick_p95 = measured.last().map_or(f64::NAN, |m| m.pct(0.95));
    println!("inbox_scale_cases={cases} worst_inbox_p95_ms={worst:.1} tick_p95_ms={tick_p95:.1}");
    pool.close().await;
    Ok(())
}
