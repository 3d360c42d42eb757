//! `rcn bench --who-saw-scale N`: the privacy officer's "who saw this person" with N rows in
//! casework's access log.
//!
//! Casework's own seeding fills a schema of its own (`casework_whosaw`, kept between runs) with
//! [`CASES`] synthetic cases ([`rcn_casework::seed::synthetic_cases`]) and tops its access log up
//! to N reads of them ([`rcn_casework::seed::synthetic_reads`], through casework's
//! `access::log_reads`, so each row carries its case's person pseudonym; rows seeded before
//! casework's migration 0010 got it from that migration's back-fill). Then the question is asked
//! [`ROUNDS`] times for persons picked across the seeded ones, directly through casework's
//! `privacy::who_saw_person` (the question logged and the answer read in one transaction: the
//! database work a request costs, without the NATS hop), which finds the rows by that pseudonym.
//!
//! Two baselines put the figure in proportion: the *floor*, one person's access-log rows read by
//! their pseudonym's index alone (the least any answer costs), and *unindexed*, the same answer
//! with index scans switched off (what the indexes buy). The last line is
//! `who_saw_access_rows=… who_saw_p50_ms=… who_saw_p95_ms=… floor_p95_ms=… ratio_to_floor=…
//! unindexed_p95_ms=…`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use rcn_casework::state::{Casework, today};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::region::RegionTable;
use rcn_contracts::{Gemeentecode, Region};
use rcn_runtime::Config;

/// Synthetic cases (each a person of its own) the reads are spread over.
pub const CASES: u64 = 50_000;
/// Questions measured.
const ROUNDS: usize = 300;
/// Questions measured with index scans off (each scans the whole log).
const UNINDEXED_ROUNDS: usize = 5;
/// The schema the synthetic cases and reads live in.
const SCHEMA: &str = "casework_whosaw";

fn pct(ms: &[f64], p: f64) -> f64 {
    let mut ms = ms.to_vec();
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1]
}

/// The `i`-th person asked about: spread over every seeded case.
fn person(i: usize) -> u64 {
    (i as u64 * 7919) % CASES + 1
}

/// Seeds up to `rows` access-log rows and measures "who saw this person".
pub async fn run(config: &Config, rows: u64) -> anyhow::Result<()> {
    let pool = rcn_runtime::db::open(
        config.database_url()?,
        SCHEMA,
        4,
        rcn_casework::migrations(),
        Duration::from_secs(10),
    )
    .await
    .context("opening the casework_whosaw schema (migrations included)")?;
    let settings = rcn_casework::Settings::from_env()?;
    let cw = Casework::new(
        pool.clone(),
        Region::parse("benchwhosaw")?.subjects(),
        &settings,
    );
    let codes: Vec<Gemeentecode> = RegionTable::kennemerland()
        .municipalities
        .iter()
        .map(|m| m.code.clone())
        .collect();
    let started = Instant::now();
    rcn_casework::seed::synthetic_cases(&pool, CASES, &codes, &cw.conditions, today(), |_| {})
        .await
        .context("seeding synthetic cases")?;
    let added = rcn_casework::seed::synthetic_reads(&pool, rows, |done| {
        if done.is_multiple_of(200_000) {
            eprintln!(
                "access log at {done} rows ({:.0} s)",
                started.elapsed().as_secs_f64()
            )
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("seeding synthetic reads: {e}"))?;
    let present: i64 = sqlx::query_scalar("SELECT count(*) FROM access_log")
        .fetch_one(&pool)
        .await?;
    eprintln!(
        "{added} reads added; {present} in the access log; seeding took {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let officer = Identity {
        user_id: "bench-privacy-officer".into(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    };
    // Warm the cache the way a live database is: a few questions first.
    for i in 0..10 {
        rcn_casework::privacy::who_saw_person(
            &cw,
            &officer,
            &rcn_casework::seed::person_key(person(i)),
        )
        .await
        .map_err(|e| anyhow::anyhow!("who saw: {e}"))?;
    }
    let mut ms = Vec::with_capacity(ROUNDS);
    let (mut entries, mut reads) = (0usize, 0usize);
    for i in 0..ROUNDS {
        let key = rcn_casework::seed::person_key(person(i + 10));
        let t = Instant::now();
        let reply = rcn_casework::privacy::who_saw_person(&cw, &officer, &key)
            .await
            .map_err(|e| anyhow::anyhow!("who saw: {e}"))?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        entries += reply.entries.len();
        reads += reply.entries.iter().filter(|e| e.case_id.is_some()).count();
    }
    // An answer of questions alone is fast and wrong: the rows were not found by the person.
    anyhow::ensure!(
        reads > 0,
        "no question found a single read: the access-log rows carry no person pseudonym"
    );
    println!(
        "who saw (question logged + answer, 1 tx): {ROUNDS} questions, {:.1} entries each, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        entries as f64 / ROUNDS as f64,
        pct(&ms, 0.5),
        pct(&ms, 0.95),
        pct(&ms, 0.99)
    );

    // The floor: one person's reads by their pseudonym's index, nothing else.
    let mut floor = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let key = rcn_casework::seed::person_key(person(i + 10));
        let t = Instant::now();
        let _: Vec<(chrono::DateTime<chrono::Utc>,)> =
            sqlx::query_as("SELECT at FROM access_log WHERE person_key = $1")
                .bind(key)
                .fetch_all(&pool)
                .await?;
        floor.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "floor (one person's reads by index): p50 {:.2} ms, p95 {:.2} ms",
        pct(&floor, 0.5),
        pct(&floor, 0.95)
    );

    // Unindexed: the same answer with index scans off, in a transaction rolled back. A custom
    // plan is forced: the connections' prepared statement may hold a generic plan made with the
    // indexes, which a changed setting does not replan (the baseline then measured the index).
    let mut unindexed = Vec::with_capacity(UNINDEXED_ROUNDS);
    for i in 0..UNINDEXED_ROUNDS {
        let mut tx = pool.begin().await?;
        sqlx::raw_sql("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off")
            .execute(&mut *tx)
            .await?;
        let t = Instant::now();
        rcn_casework::privacy::entries(&mut tx, &rcn_casework::seed::person_key(person(i + 10)))
            .await
            .map_err(|e| anyhow::anyhow!("who saw: {e}"))?;
        unindexed.push(t.elapsed().as_secs_f64() * 1000.0);
        tx.rollback().await?;
    }
    let (p50, p95, floor95, slow95) = (
        pct(&ms, 0.5),
        pct(&ms, 0.95),
        pct(&floor, 0.95),
        pct(&unindexed, 0.95),
    );
    println!(
        "unindexed (same answer, index scans off): p95 {slow95:.1} ms ({:.0}x the indexed answer)",
        slow95 / p95
    );
    println!(
        "who_saw_access_rows={present} who_saw_p50_ms={p50:.2} who_saw_p95_ms={p95:.2} floor_p95_ms={floor95:.2} ratio_to_floor={:.1} unindexed_p95_ms={slow95:.1}",
        p95 / floor95
    );
    pool.close().await;
    Ok(())
}
