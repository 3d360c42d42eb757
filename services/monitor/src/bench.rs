//! `rcn bench --monitor-scale N`: the dashboard's figures over N synthetic cases.
//!
//! Fills schema `monitor_scale` (replaced on every run) with N cases spread over the last year
//! and the municipalities of Kennemerland: per case a notice, a routing decision, five task
//! statuses at opening and one change, a claim for most, due dates, and some closures; then
//! computes the figures for the whole region and for one municipality, by month, a number of
//! times each, and reports p50 and p95 of the time one figures request takes (the database work
//! and the aggregation, without the NATS hop).

use std::time::{Duration, Instant};

use chrono::Utc;
use rcn_contracts::Gemeentecode;
use rcn_contracts::monitor_api::Granularity;
use rcn_contracts::region::RegionTable;
use rcn_runtime::Config;

use crate::figures::{self, Period, Scope};
use crate::{MIGRATIONS, Settings};

/// The schema the synthetic read models live in.
const SCHEMA: &str = "monitor_scale";
/// Figures requests measured per variant, unless the patience runs out first.
const ROUNDS: usize = 20;
const PATIENCE: Duration = Duration::from_secs(60);

/// What one variant measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub what: &'static str,
    pub calls: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// Seeds `cases` synthetic cases and measures the figures requests.
pub async fn run(config: &Config, cases: u64) -> anyhow::Result<Vec<Measured>> {
    let url = config.database_url()?;
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    // DDL naming a schema: an identifier cannot be a bind parameter.
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        .execute(&admin)
        .await?;
    admin.close().await;
    let pool = rcn_runtime::db::open(url, SCHEMA, 4, &MIGRATIONS, Duration::from_secs(10)).await?;
    let started = Instant::now();
    seed(&pool, i32::try_from(cases).unwrap_or(i32::MAX)).await?;
    println!(
        "monitor_scale: seeded {cases} cases ({} rows) in {:.1} s",
        cases * 12,
        started.elapsed().as_secs_f64()
    );
    let region = RegionTable::kennemerland();
    let settings = Settings::default();
    let now = Utc::now();
    let today = figures::today(now);
    let period = Period {
        granularity: Granularity::Month,
        from: today - chrono::Days::new(365),
        to: today,
    };
    let haarlem = Gemeentecode::parse("GM0392").ok();
    let variants = [
        (
            "region, 12 months",
            Scope {
                gemeentecode: None,
                regional: true,
            },
        ),
        (
            "one municipality, 12 months",
            Scope {
                gemeentecode: haarlem,
                regional: false,
            },
        ),
    ];
    let mut out = Vec::new();
    for (what, scope) in variants {
        let mut ms = Vec::new();
        let began = Instant::now();
        while ms.len() < ROUNDS && (ms.len() < 3 || began.elapsed() < PATIENCE) {
            let t = Instant::now();
            figures::compute(&pool, &region, &settings, period, &scope, now).await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        let pct = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
        let m = Measured {
            what,
            calls: ms.len(),
            p50_ms: pct(0.5),
            p95_ms: pct(0.95),
        };
        println!(
            "{:<30} {:>4} calls  p50 {:>8.1} ms  p95 {:>8.1} ms",
            m.what, m.calls, m.p50_ms, m.p95_ms
        );
        out.push(m);
    }
    let worst = out.iter().map(|m| m.p95_ms).fold(0.0, f64::max);
    println!("monitor_scale_cases={cases} worst_figures_p95_ms={worst:.1}");
    pool.close().await;
    Ok(out)
}

/// Set-based inserts: every row of case `i` is a function of `i`. Runtime SQL on purpose: the
/// statements share their column expressions (`codes`, `received`, `case_id`) as fragments, and
/// fill a scratch schema with synthetic rows, never the service's own reads and writes.
async fn seed(pool: &sqlx::PgPool, n: i32) -> Result<(), sqlx::Error> {
    let codes = "(ARRAY['GM0392','GM0392','GM0392','GM0453','GM0375','GM0396','GM0397','GM0377','GM0473','GM0450'])[1 + i % 10]";
    let received = "now() - (i % 365) * interval '1 day' - (i % 600) * interval '1 minute'";
    let case_id = "md5('case' || i)::uuid";
    let statements = [
        format!(
            "INSERT INTO notices SELECT 'PI-' || (i % 30) || ':' || i,
                 (ARRAY['release_planned','update','detention_started','release_date_changed'])[1 + i % 4],
                 'PI-' || (i % 30), {received}, NULL
             FROM generate_series(1, $1::int) i"
        ),
        format!(
            "INSERT INTO routing SELECT 'PI-' || (i % 30) || ':' || i, {received},
                 CASE WHEN i % 50 = 0 THEN {received} + interval '1 minute' END,
                 CASE WHEN i % 500 <> 0 THEN {received} + (i % 7200) * interval '1 second' END,
                 md5('decision' || i)::uuid, CASE WHEN i % 500 <> 0 THEN 'routed' END,
                 CASE WHEN i % 500 <> 0 THEN {codes} END, 'brp_registration', NULL
             FROM generate_series(1, $1::int) i"
        ),
        format!(
            "INSERT INTO cases SELECT {case_id}, {codes}, {received}, md5('open' || i)::uuid,
                 {received} + interval '1 hour', {received},
                 {received} + interval '1 hour', i % 20 = 0,
                 CASE WHEN i % 20 = 0 THEN 'completed' END,
                 {received} + interval '1 hour', md5('open' || i)::uuid,
                 ({received})::date + (i % 60)::int, i % 9 = 0, {received}, md5('open' || i)::uuid
             FROM generate_series(1, $1::int) i"
        ),
        format!(
            "INSERT INTO task_statuses
             SELECT md5('open' || i)::uuid, c, {case_id},
                    (ARRAY['unknown','needs_action','in_progress','arranged','not_applicable'])[1 + (i + k) % 5],
                    {received} + interval '1 hour'
             FROM generate_series(1, $1::int) i,
                  unnest(ARRAY['id','housing','income','debts','care']) WITH ORDINALITY AS t(c, k)"
        ),
        format!(
            "INSERT INTO task_statuses
             SELECT md5('status' || i)::uuid, 'housing', {case_id}, 'arranged',
                    {received} + (i % 40) * interval '1 day'
             FROM generate_series(1, $1::int) i WHERE i % 3 = 0"
        ),
        format!(
            "INSERT INTO task_claims
             SELECT md5('claim' || i)::uuid, {case_id}, 'id', 'claimed', true,
                    {received} + (i % 96) * interval '1 hour'
             FROM generate_series(1, $1::int) i WHERE i % 7 <> 0"
        ),
        format!(
            "INSERT INTO task_dues
             SELECT md5('due' || i)::uuid, c, {case_id}, ({received})::date + (i % 60)::int - 7,
                    {received} + interval '2 hours'
             FROM generate_series(1, $1::int) i, unnest(ARRAY['income','debts','care']) AS c"
        ),
    ];
    for sql in statements {
        sqlx::query(&sql).bind(n).execute(pool).await?;
    }
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}
