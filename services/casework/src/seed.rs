//! Synthetic cases for benchmarks at national scale (`rcn bench --inbox-scale N`): a million
//! cases with five tasks each, inserted set-based (`generate_series`) in chunks, so that the
//! benchmark never writes casework's tables itself.
//!
//! The mix is fixed and deterministic (case number `g` decides everything):
//! - 10 % of cases are open with every task open (unknown, needs action or in progress); their
//!   release dates spread from 100 days ago to 300 days ahead, so some are spoed, many tasks are
//!   overdue, and a thousandth were released unexpectedly (urgent tasks);
//! - 1 % are open with every task done, waiting for the release date to pass before the
//!   scheduler closes them;
//! - the rest are closed, their tasks arranged;
//! - the first municipality given gets 40 % of the cases, the others share the rest;
//! - about a third of the open tasks are held, by one of 50 users per municipality
//!   ([`holder`]);
//! - every reminder already due was raised before (the steady state the scheduler finds).
//!
//! Never for production data: the names, dates of birth and BSN are placeholders.

use chrono::NaiveDate;
use rcn_contracts::{Condition, Gemeentecode};
use sqlx::PgPool;

/// Cases inserted per transaction.
const CHUNK: i64 = 50_000;

/// The user id of synthetic holder `n` (0..50) of municipality `gemeente`.
pub fn holder(gemeente: &Gemeentecode, n: u32) -> String {
    format!("seed-{}-{}", gemeente.as_str(), n % 50)
}

/// Adds cases until casework holds `total` synthetic cases; returns how many it added.
/// `municipalities` must not be empty; `today` anchors every date.
pub async fn synthetic_cases(
    pool: &PgPool,
    total: u64,
    municipalities: &[Gemeentecode],
    conditions: &[Condition],
    today: NaiveDate,
    mut progress: impl FnMut(u64),
) -> sqlx::Result<u64> {
    assert!(!municipalities.is_empty() && !conditions.is_empty());
    let present = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM cases WHERE institution_code = 'PI-SEED'"#
    )
    .fetch_one(pool)
    .await?;
    let codes: Vec<&str> = municipalities.iter().map(Gemeentecode::as_str).collect();
    let conditions: Vec<&str> = conditions.iter().map(|c| c.as_str()).collect();
    let mut next = present + 1;
    let end = total as i64;
    while next <= end {
        let last = (next + CHUNK - 1).min(end);
        insert_chunk(pool, next, last, &codes, &conditions, today).await?;
        progress((last - present) as u64);
        next = last + 1;
    }
    // Fresh statistics and visibility maps, as autovacuum would leave them on a live database.
    sqlx::raw_sql("VACUUM (ANALYZE) cases, condition_tasks, reminders")
        .execute(pool)
        .await?;
    Ok((end - present).max(0) as u64)
}

/// How many cases casework holds that are not synthetic: a benchmark that seeds a database
/// refuses one holding real cases.
pub async fn real_case_count(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM cases WHERE institution_code <> 'PI-SEED'"#
    )
    .fetch_one(pool)
    .await
}

/// Cases `first..=last`, their tasks and their past reminders, in one transaction.
///
/// Runtime queries, not `query!`: they read `seed_chunk`, a temporary table this transaction
/// creates, which the compile-time check cannot see. The inbox scale test runs every one.
async fn insert_chunk(
    pool: &PgPool,
    first: i64,
    last: i64,
    codes: &[&str],
    conditions: &[&str],
    today: NaiveDate,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    // kind: 0 closed, 1 open with open tasks, 2 open with every task done.
    sqlx::query(
        "CREATE TEMP TABLE seed_chunk (g bigint, case_id uuid, kind int, gemeentecode text) ON COMMIT DROP",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO seed_chunk
         SELECT g,
                md5('rcn-seed-case-' || g)::uuid,
                CASE WHEN (g * 37) % 100 < 10 THEN 1 WHEN (g * 37) % 100 = 10 THEN 2 ELSE 0 END,
                CASE WHEN g % 5 < 2 THEN ($3::text[])[1]
                     ELSE ($3::text[])[(2 + (g / 5) % greatest(array_length($3::text[], 1) - 1, 1))::int] END
         FROM generate_series($1::bigint, $2::bigint) g",
    )
    .bind(first)
    .bind(last)
    .bind(codes)
    .execute(&mut *tx)
    .await?;
    sqlx::query("ANALYZE seed_chunk").execute(&mut *tx).await?;
    // The first municipality again when it is the only one.
    sqlx::query("UPDATE seed_chunk SET gemeentecode = $1 WHERE gemeentecode IS NULL")
        .bind(codes[0])
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO cases (case_id, episode_key, person_key, gemeentecode, bsn, family_name, given_names,
                            date_of_birth, institution_code, started_on, expected_release_on, released_on,
                            spoed, status, opened_at, opened_by_notice, closed_at, closed_reason, closed_by)
         SELECT s.case_id, 'seed-' || s.g, 'seed-person-' || s.g, s.gemeentecode, '123456782',
                'Seed ' || s.g, 'Synthetic', DATE '1980-01-01' + (s.g % 10000)::int, 'PI-SEED',
                r.release - 200, r.release,
                CASE WHEN s.kind = 1 AND s.g % 1000 = 0 THEN r.release - 10 END,
                false,
                CASE WHEN s.kind = 0 THEN 'closed' ELSE 'open' END,
                now(), 'seed:' || s.g,
                CASE WHEN s.kind = 0 THEN now() END,
                CASE WHEN s.kind = 0 THEN 'completed' END,
                CASE WHEN s.kind = 0 THEN 'system' END
         FROM seed_chunk s
         CROSS JOIN LATERAL (SELECT CASE
             WHEN s.kind = 0 THEN $1::date - 30 - (s.g % 1500)::int
             WHEN s.kind = 1 THEN $1::date - 100 + ((s.g * 7919) % 400)::int
             ELSE $1::date + 1 + (s.g % 300)::int END AS release) r",
    )
    .bind(today)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO condition_tasks (case_id, condition, status, due_on, claimed_by, claimed_at, urgent, updated_at)
         SELECT s.case_id, x.condition,
                CASE WHEN s.kind = 1 THEN (ARRAY['unknown', 'needs_action', 'in_progress'])[(1 + (s.g + x.n) % 3)::int]
                     ELSE 'arranged' END,
                c.expected_release_on - (7 * x.n)::int,
                CASE WHEN s.kind = 1 AND (s.g + x.n) % 3 = 2
                     THEN 'seed-' || s.gemeentecode || '-' || ((s.g / 10 + x.n) % 50) END,
                CASE WHEN s.kind = 1 AND (s.g + x.n) % 3 = 2 THEN now() END,
                c.released_on IS NOT NULL,
                now()
         FROM seed_chunk s
         JOIN cases c ON c.case_id = s.case_id
         CROSS JOIN unnest($1::text[]) WITH ORDINALITY AS x(condition, n)",
    )
    .bind(conditions)
    .execute(&mut *tx)
    .await?;
    // The steady state: every reminder already due was raised on an earlier day.
    sqlx::query(
        "INSERT INTO reminders (case_id, condition, kind, due_on, event_id, raised_at)
         SELECT t.case_id, t.condition, CASE WHEN t.due_on < $1 THEN 'overdue' ELSE 'due_soon' END,
                t.due_on, gen_random_uuid(), now()
         FROM seed_chunk s
         JOIN condition_tasks t ON t.case_id = s.case_id
         WHERE s.kind = 1 AND t.due_on < $1 + 10",
    )
    .bind(today)
    .execute(&mut *tx)
    .await?;
    // Cases opened with open work cannot close: the triggers listed them as any new case.
    sqlx::query(
        "DELETE FROM closing_candidates q USING seed_chunk s WHERE q.case_id = s.case_id AND s.kind = 1",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The person pseudonym of synthetic case `g` (each synthetic case is a person of its own).
pub fn person_key(g: u64) -> String {
    format!("seed-person-{g}")
}

/// Reads logged per transaction when seeding the access log.
const READS_PER_BATCH: usize = 20_000;

/// Adds synthetic reads until casework's access log holds `total` rows, through casework's own
/// [`crate::access::log_reads`]: each read is of a synthetic case picked by a fixed
/// pseudo-random sequence, by one of 50 Haarlem users or the RCN (each row with its case's person
/// pseudonym, as every logged read has); returns how many it added.
/// Needs synthetic cases ([`synthetic_cases`]).
pub async fn synthetic_reads(
    pool: &PgPool,
    total: u64,
    mut progress: impl FnMut(u64),
) -> crate::error::Result<u64> {
    use rcn_contracts::identity::{Identity, Role};
    let present = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM access_log"#)
        .fetch_one(pool)
        .await? as u64;
    let cases = sqlx::query_scalar!(
        "SELECT case_id FROM cases WHERE institution_code = 'PI-SEED' ORDER BY opened_by_notice"
    )
    .fetch_all(pool)
    .await?;
    assert!(!cases.is_empty(), "seed cases before reads");
    let haarlem = Gemeentecode::parse("GM0392").expect("a code");
    let mut added = 0u64;
    let mut state = present.wrapping_mul(6364136223846793005).wrapping_add(1);
    while present + added < total {
        let n = READS_PER_BATCH.min((total - present - added) as usize);
        let picked: Vec<uuid::Uuid> = (0..n)
            .map(|_| {
                // A linear congruential sequence: the same reads on every run, spread over all cases.
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                cases[(state >> 33) as usize % cases.len()]
            })
            .collect();
        let who = if added.is_multiple_of(3) {
            Identity {
                user_id: "seed-rcn".into(),
                role: Role::RcnCoordinator,
                gemeentecode: None,
            }
        } else {
            Identity {
                user_id: holder(&haarlem, (added / READS_PER_BATCH as u64) as u32),
                role: Role::MunicipalStaff,
                gemeentecode: Some(haarlem.clone()),
            }
        };
        let mut tx = pool.begin().await?;
        let what = rcn_contracts::access_log::What::new(rcn_contracts::access_log::Read::InboxRow);
        crate::access::log_reads(&mut tx, &who, &picked, &what.to_log()).await?;
        tx.commit().await?;
        added += n as u64;
        progress(present + added);
    }
    sqlx::raw_sql("VACUUM (ANALYZE) access_log, cases")
        .execute(pool)
        .await?;
    Ok(added)
}
