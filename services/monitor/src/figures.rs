//! The figures, computed from the read models: what the dashboard and the CSV export show.
//!
//! Figures over time are grouped by the first day of the week or month in Europe/Amsterdam;
//! each has a row per municipality and one for the region (`gemeentecode: None`), or only the
//! municipality's rows when the scope is one municipality. Ages and overdue tiers count working
//! days with the region's holiday calendar. Only counts and durations leave this module.
//!
//! The figures of the cases and notices read the pre-aggregated counters ([`crate::counters`]);
//! procesregie's (triage, ICOs) aggregate its read models directly, which hold one row per
//! application or ICO (tens a year per region).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;
use rcn_contracts::events::RoutingOutcomeKind;
use rcn_contracts::monitor_api::{
    AgeCount, Backlog, CasesOpened, ConditionAtRelease, DeadLetterCount, DurationFigure, Figures,
    ForwardBacklog, Granularity, IcoClosures, IcoFlow, MunicipalCount, NoticeCount, OverdueTasks,
    ReleaseSummary, TriageBacklog, TriageOutcomes, UnclaimedCases, percentile,
};
use rcn_contracts::procesregie_api::{IcoCloseReason, TriageOutcome};
use rcn_contracts::region::RegionTable;
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, NoticeKind};
use sqlx::PgPool;

use crate::settings::Settings;
use crate::working_days;

/// Whose figures: the region (optionally one municipality of it), or one municipality's staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Only this municipality's rows (no region totals).
    pub gemeentecode: Option<Gemeentecode>,
    /// Whether the RCN-only sections (manual routing, forwards, dead letters) are included.
    pub regional: bool,
}

/// What to compute: the range (inclusive days, Europe/Amsterdam) and its grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub granularity: Granularity,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Today's date where the RCN works.
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Amsterdam).date_naive()
}

/// Every figure, as of `now`.
pub async fn compute(
    pool: &PgPool,
    region: &RegionTable,
    settings: &Settings,
    period: Period,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Figures, sqlx::Error> {
    let today = today(now);
    let mut tx = pool.begin().await?;
    // One snapshot for every figure, read-only.
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let c = &mut *tx;
    let figures = Figures {
        region: region.slug.clone(),
        generated_at: now,
        granularity: period.granularity,
        from: period.from,
        to: period.to,
        gemeentecode: scope.gemeentecode.clone(),
        notices_received: notices_received(c, period, scope).await?,
        time_to_routing: time_to_routing(c, period, scope).await?,
        time_to_first_claim: time_to_first_claim(c, period, scope).await?,
        conditions_at_release: Vec::new(),
        releases: Vec::new(),
        unclaimed_cases: unclaimed(c, settings, scope, today).await?,
        overdue_tasks: overdue(c, settings, scope, today).await?,
        cases_opened: cases_opened(c, period, scope).await?,
        open_spoed_cases: open_spoed(c, scope).await?,
        manual_routing: None,
        forwards_unacknowledged: None,
        forwards_by_hand: None,
        dead_letters: None,
        triage_backlog: triage_backlog(c, scope, now).await?,
        triage_outcomes: triage_outcomes(c, period, scope).await?,
        icos: icos(c, period, scope).await?,
        ico_closures: ico_closures(c, period, scope).await?,
        icos_open: icos_open(c, scope).await?,
    };
    let (conditions_at_release, releases) = at_release(c, period, scope, today).await?;
    let mut figures = Figures {
        conditions_at_release,
        releases,
        ..figures
    };
    if scope.regional && scope.gemeentecode.is_none() {
        figures.manual_routing = Some(manual_routing(c, now).await?);
        let (waiting, by_hand) = forwards(c, region, now).await?;
        figures.forwards_unacknowledged = Some(waiting);
        figures.forwards_by_hand = Some(by_hand);
        figures.dead_letters = Some(dead_letters(c, period).await?);
    }
    tx.commit().await?;
    Ok(figures)
}

/// Each query of [`compute`] on its own, timed: what `rcn bench --monitor-scale` reports per
/// dashboard query.
pub async fn time_each(
    pool: &PgPool,
    region: &RegionTable,
    settings: &Settings,
    period: Period,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<(&'static str, std::time::Duration)>, sqlx::Error> {
    use std::time::Instant;
    let today = today(now);
    let mut c = pool.acquire().await?;
    let c = &mut *c;
    let mut out = Vec::new();
    macro_rules! timed {
        ($what:literal, $e:expr) => {{
            let t = Instant::now();
            $e.await?;
            out.push(($what, t.elapsed()));
        }};
    }
    timed!("notices received", notices_received(c, period, scope));
    timed!("time to routing", time_to_routing(c, period, scope));
    timed!("time to first claim", time_to_first_claim(c, period, scope));
    timed!("conditions at release", at_release(c, period, scope, today));
    timed!("unclaimed cases", unclaimed(c, settings, scope, today));
    timed!("overdue tasks", overdue(c, settings, scope, today));
    timed!("cases opened", cases_opened(c, period, scope));
    timed!("open spoed cases", open_spoed(c, scope));
    timed!("triage backlog", triage_backlog(c, scope, now));
    timed!("triage outcomes", triage_outcomes(c, period, scope));
    timed!("ICOs opened and closed", icos(c, period, scope));
    timed!("ICO closures", ico_closures(c, period, scope));
    timed!("ICOs open", icos_open(c, scope));
    if scope.regional && scope.gemeentecode.is_none() {
        timed!("manual routing", manual_routing(c, now));
        timed!("forwards", forwards(c, region, now));
        timed!("dead letters", dead_letters(c, period));
    }
    Ok(out)
}

type Conn = sqlx::PgConnection;

/// Rows keyed by `(key, municipality)`, where `None` is the region's total.
struct Buckets<K, V> {
    scope: Scope,
    rows: BTreeMap<(K, Option<Gemeentecode>), V>,
}

impl<K: Ord + Clone, V: Default> Buckets<K, V> {
    fn new(scope: &Scope) -> Self {
        Self {
            scope: scope.clone(),
            rows: BTreeMap::new(),
        }
    }

    /// Adds to the row of `gm` (when there is one) and to the region's; within a municipality's
    /// scope, only to that municipality's row.
    fn add(&mut self, key: K, gm: Option<Gemeentecode>, f: impl Fn(&mut V)) {
        match &self.scope.gemeentecode {
            Some(only) => {
                if gm.as_ref() == Some(only) {
                    f(self.rows.entry((key, gm)).or_default());
                }
            }
            None => {
                if gm.is_some() {
                    f(self.rows.entry((key.clone(), gm)).or_default());
                }
                f(self.rows.entry((key, None)).or_default());
            }
        }
    }
}

/// The first day of the week or month of `d`.
fn period_start(g: Granularity, d: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    match g {
        Granularity::Week => d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday())),
        Granularity::Month => d.with_day(1).unwrap_or(d),
    }
}

fn next_period(g: Granularity, start: NaiveDate) -> NaiveDate {
    match g {
        Granularity::Week => start + chrono::Days::new(7),
        Granularity::Month => start
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(start),
    }
}

/// How a request reads a counter table kept per day, week and month (`level`, `start`): the
/// whole weeks or months inside the range from their own rows (`level` = `$1`, `whole_from` ≤
/// start < `whole_to`), the partial ones at its ends from the day rows (`head_*` and `tail_*`,
/// inclusive), so a request reads a few rows per period and never a year of days. Each counter
/// query binds these seven as `$1`..`$7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Levels {
    level: &'static str,
    whole_from: NaiveDate,
    whole_to: NaiveDate,
    head_from: NaiveDate,
    head_to: NaiveDate,
    tail_from: NaiveDate,
    tail_to: NaiveDate,
}

impl Levels {
    /// The days `from..=to`, grouped by `g`.
    fn new(g: Granularity, from: NaiveDate, to: NaiveDate) -> Self {
        let first = period_start(g, from);
        let whole_from = if first == from {
            from
        } else {
            next_period(g, first)
        };
        let whole_to = to.succ_opt().map_or(to, |after| period_start(g, after));
        let day = chrono::Days::new(1);
        if whole_from < whole_to {
            Self {
                level: g.as_str(),
                whole_from,
                whole_to,
                head_from: from,
                head_to: whole_from - day,
                tail_from: whole_to,
                tail_to: to,
            }
        } else {
            // No whole period inside: every day from its own row (the tail range is empty).
            Self {
                level: g.as_str(),
                whole_from: from,
                whole_to: from,
                head_from: from,
                head_to: to,
                tail_from: to,
                tail_to: from - day,
            }
        }
    }
}

async fn notices_received(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<NoticeCount>, sqlx::Error> {
    let l = Levels::new(p.granularity, p.from, p.to);
    let rows = sqlx::query!(
        r#"SELECT start AS "period!", NULLIF(gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  kind AS "kind!: NoticeKind", institution_code AS "institution_code!",
                  sum(n)::bigint AS "n!"
           FROM n_notices
           WHERE level = $1 AND start >= $2 AND start < $3
           GROUP BY 1, 2, 3, 4
           UNION ALL
           SELECT date_trunc($1, start::timestamp)::date, NULLIF(gemeentecode, ''), kind,
                  institution_code, sum(n)::bigint
           FROM n_notices
           WHERE level = 'day' AND (start BETWEEN $4 AND $5 OR start BETWEEN $6 AND $7)
           GROUP BY 1, 2, 3, 4"#,
        l.level,
        l.whole_from,
        l.whole_to,
        l.head_from,
        l.head_to,
        l.tail_from,
        l.tail_to,
    )
    .fetch_all(&mut *c)
    .await?;
    // Ordered by the kind's word, as the export lists them.
    let mut b: Buckets<(NaiveDate, &'static str, String), u64> = Buckets::new(scope);
    for r in rows {
        if r.n > 0 {
            b.add(
                (r.period, r.kind.as_str(), r.institution_code),
                r.gemeentecode,
                |v| *v += r.n as u64,
            );
        }
    }
    Ok(b.rows
        .into_iter()
        .filter_map(
            |(((period, kind, institution_code), gemeentecode), count)| {
                Some(NoticeCount {
                    period,
                    gemeentecode,
                    kind: NoticeKind::from_stored(kind)?,
                    institution_code,
                    count,
                })
            },
        )
        .collect())
}

/// One row of a duration figure as the database computes it: period, municipality (`None`: the
/// region), count, p50 and p90.
type DurationRow = (NaiveDate, Option<Gemeentecode>, i64, i64, i64);

fn durations(rows: Vec<DurationRow>) -> Vec<DurationFigure> {
    rows.into_iter()
        .map(|(period, gemeentecode, count, p50, p90)| DurationFigure {
            period,
            gemeentecode,
            count: u64::try_from(count).unwrap_or(0),
            p50_seconds: p50,
            p90_seconds: p90,
        })
        .collect()
}

/// Notice → routing decision, per period and municipality, with its p50 and p90.
///
/// The duration figures are histograms (`monitor_bucket`) and their percentiles are computed in
/// the database, so a request receives one row per period and municipality instead of every
/// bucket: the counts are summed per bucket over the range (whole periods from their own rows,
/// the partial ends from day rows, see [`Levels`]), per municipality and for the region
/// (`GROUPING SETS`; a notice without a municipality counts for the region only; a
/// municipality's scope, `$8`, reads only its rows and gets no region row); a running sum in
/// bucket order finds the nearest rank `ceil(p × count)`, and the answer is the lower bound of
/// the first bucket whose running sum reaches it. A period without any duration has no row.
async fn time_to_routing(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<DurationFigure>, sqlx::Error> {
    let l = Levels::new(p.granularity, p.from, p.to);
    let rows = sqlx::query!(
        r#"WITH counted AS (
                  SELECT start AS period, gemeentecode, bucket, n
                  FROM n_routing_time
                  WHERE level = $1 AND start >= $2 AND start < $3 AND n > 0
                    AND ($8::text IS NULL OR gemeentecode = $8)
                  UNION ALL
                  SELECT date_trunc($1, start::timestamp)::date, gemeentecode, bucket, n
                  FROM n_routing_time
                  WHERE level = 'day' AND (start BETWEEN $4 AND $5 OR start BETWEEN $6 AND $7)
                    AND n > 0 AND ($8::text IS NULL OR gemeentecode = $8)),
              histogram AS (
                  SELECT period, CASE WHEN GROUPING(gemeentecode) = 0 THEN gemeentecode END AS gm,
                         bucket, sum(n) AS n
                  FROM counted
                  GROUP BY GROUPING SETS ((period, gemeentecode, bucket), (period, bucket))
                  HAVING CASE WHEN GROUPING(gemeentecode) = 0 THEN gemeentecode <> ''
                              ELSE $8::text IS NULL END),
              running AS (
                  SELECT period, gm, bucket,
                         sum(n) OVER (PARTITION BY period, gm ORDER BY bucket) AS seen,
                         sum(n) OVER (PARTITION BY period, gm) AS total
                  FROM histogram)
           SELECT period AS "period!", gm AS "gemeentecode: Gemeentecode",
                  max(total)::bigint AS "count!",
                  min(bucket) FILTER (WHERE seen >= greatest(ceil(0.5 * total), 1)) AS "p50!",
                  min(bucket) FILTER (WHERE seen >= greatest(ceil(0.9 * total), 1)) AS "p90!"
           FROM running
           GROUP BY period, gm
           ORDER BY period, gm COLLATE "C" NULLS FIRST"#,
        l.level,
        l.whole_from,
        l.whole_to,
        l.head_from,
        l.head_to,
        l.tail_from,
        l.tail_to,
        scope.gemeentecode.as_ref().map(Gemeentecode::as_str),
    )
    .fetch_all(&mut *c)
    .await?;
    Ok(durations(
        rows.into_iter()
            .map(|r| (r.period, r.gemeentecode, r.count, r.p50, r.p90))
            .collect(),
    ))
}

/// Notice → first claim: the statement of [`time_to_routing`], over `n_claim_time`.
async fn time_to_first_claim(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<DurationFigure>, sqlx::Error> {
    let l = Levels::new(p.granularity, p.from, p.to);
    let rows = sqlx::query!(
        r#"WITH counted AS (
                  SELECT start AS period, gemeentecode, bucket, n
                  FROM n_claim_time
                  WHERE level = $1 AND start >= $2 AND start < $3 AND n > 0
                    AND ($8::text IS NULL OR gemeentecode = $8)
                  UNION ALL
                  SELECT date_trunc($1, start::timestamp)::date, gemeentecode, bucket, n
                  FROM n_claim_time
                  WHERE level = 'day' AND (start BETWEEN $4 AND $5 OR start BETWEEN $6 AND $7)
                    AND n > 0 AND ($8::text IS NULL OR gemeentecode = $8)),
              histogram AS (
                  SELECT period, CASE WHEN GROUPING(gemeentecode) = 0 THEN gemeentecode END AS gm,
                         bucket, sum(n) AS n
                  FROM counted
                  GROUP BY GROUPING SETS ((period, gemeentecode, bucket), (period, bucket))
                  HAVING CASE WHEN GROUPING(gemeentecode) = 0 THEN gemeentecode <> ''
                              ELSE $8::text IS NULL END),
              running AS (
                  SELECT period, gm, bucket,
                         sum(n) OVER (PARTITION BY period, gm ORDER BY bucket) AS seen,
                         sum(n) OVER (PARTITION BY period, gm) AS total
                  FROM histogram)
           SELECT period AS "period!", gm AS "gemeentecode: Gemeentecode",
                  max(total)::bigint AS "count!",
                  min(bucket) FILTER (WHERE seen >= greatest(ceil(0.5 * total), 1)) AS "p50!",
                  min(bucket) FILTER (WHERE seen >= greatest(ceil(0.9 * total), 1)) AS "p90!"
           FROM running
           GROUP BY period, gm
           ORDER BY period, gm COLLATE "C" NULLS FIRST"#,
        l.level,
        l.whole_from,
        l.whole_to,
        l.head_from,
        l.head_to,
        l.tail_from,
        l.tail_to,
        scope.gemeentecode.as_ref().map(Gemeentecode::as_str),
    )
    .fetch_all(&mut *c)
    .await?;
    Ok(durations(
        rows.into_iter()
            .map(|r| (r.period, r.gemeentecode, r.count, r.p50, r.p90))
            .collect(),
    ))
}

/// Per condition: where it stood at the end of the release day, for the cases released within
/// the period and before today; and per period the cases released with open conditions.
async fn at_release(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
    today: NaiveDate,
) -> Result<(Vec<ConditionAtRelease>, Vec<ReleaseSummary>), sqlx::Error> {
    // Releases of today and later have not happened yet.
    let Some(last) = today.pred_opt().map(|d| d.min(p.to)) else {
        return Ok((Vec::new(), Vec::new()));
    };
    if last < p.from {
        return Ok((Vec::new(), Vec::new()));
    }
    let l = Levels::new(p.granularity, p.from, last);
    let rows = sqlx::query!(
        r#"SELECT start AS "period!", NULLIF(gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  condition AS "condition!: Condition", status AS "status!: ConditionStatus",
                  sum(n)::bigint AS "n!"
           FROM n_at_release
           WHERE level = $1 AND start >= $2 AND start < $3
           GROUP BY 1, 2, 3, 4
           UNION ALL
           SELECT date_trunc($1, start::timestamp)::date, NULLIF(gemeentecode, ''), condition,
                  status, sum(n)::bigint
           FROM n_at_release
           WHERE level = 'day' AND (start BETWEEN $4 AND $5 OR start BETWEEN $6 AND $7)
           GROUP BY 1, 2, 3, 4"#,
        l.level,
        l.whole_from,
        l.whole_to,
        l.head_from,
        l.head_to,
        l.tail_from,
        l.tail_to,
    )
    .fetch_all(&mut *c)
    .await?;
    #[derive(Default)]
    struct Tally {
        cases: u64,
        arranged: u64,
        not_applicable: u64,
        open: u64,
    }
    let mut per_condition: Buckets<(NaiveDate, Condition), Tally> = Buckets::new(scope);
    for r in rows {
        if r.n <= 0 {
            continue;
        }
        let n = r.n as u64;
        per_condition.add((r.period, r.condition), r.gemeentecode, |t| {
            t.cases += n;
            match r.status {
                ConditionStatus::Arranged => t.arranged += n,
                ConditionStatus::NotApplicable => t.not_applicable += n,
                _ => t.open += n,
            }
        });
    }
    let conditions = per_condition
        .rows
        .into_iter()
        .map(|(((period, condition), gemeentecode), t)| {
            let applies = t.cases - t.not_applicable;
            ConditionAtRelease {
                period,
                gemeentecode,
                condition,
                cases: t.cases,
                arranged: t.arranged,
                not_applicable: t.not_applicable,
                open: t.open,
                arranged_percent: (applies > 0)
                    .then(|| (t.arranged as f64 * 1000.0 / applies as f64).round() / 10.0),
            }
        })
        .collect();
    let rows = sqlx::query!(
        r#"SELECT start AS "period!", NULLIF(gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  sum(released)::bigint AS "released!", sum(with_open)::bigint AS "with_open!",
                  sum(open_conditions)::bigint AS "open_conditions!"
           FROM n_releases
           WHERE level = $1 AND start >= $2 AND start < $3
           GROUP BY 1, 2
           UNION ALL
           SELECT date_trunc($1, start::timestamp)::date, NULLIF(gemeentecode, ''),
                  sum(released)::bigint, sum(with_open)::bigint, sum(open_conditions)::bigint
           FROM n_releases
           WHERE level = 'day' AND (start BETWEEN $4 AND $5 OR start BETWEEN $6 AND $7)
           GROUP BY 1, 2"#,
        l.level,
        l.whole_from,
        l.whole_to,
        l.head_from,
        l.head_to,
        l.tail_from,
        l.tail_to,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut per_case: Buckets<NaiveDate, (u64, u64, u64)> = Buckets::new(scope);
    for r in rows {
        if r.released > 0 {
            per_case.add(r.period, r.gemeentecode, |t| {
                t.0 += r.released as u64;
                t.1 += r.with_open as u64;
                t.2 += r.open_conditions as u64;
            });
        }
    }
    let releases = per_case
        .rows
        .into_iter()
        .map(|((period, gemeentecode), t)| ReleaseSummary {
            period,
            gemeentecode,
            cases_released: t.0,
            with_open_conditions: t.1,
            open_conditions: t.2,
        })
        .collect();
    Ok((conditions, releases))
}

/// Open cases without a claim since they were (last) opened, at least the configured number of
/// working days old: counted per day of opening, aged here.
async fn unclaimed(
    c: &mut Conn,
    settings: &Settings,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<UnclaimedCases>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT NULLIF(gemeentecode, '') AS "gemeentecode: Gemeentecode", opened_on, n
           FROM n_unclaimed WHERE n > 0"#
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(), BTreeMap<u32, u64>> = Buckets::new(scope);
    for r in rows {
        let age = working_days::between(&settings.calendar, r.opened_on, today);
        if age >= settings.unclaimed_after_working_days {
            b.add((), r.gemeentecode, |ages| {
                *ages.entry(age).or_default() += r.n as u64
            });
        }
    }
    Ok(b.rows
        .into_iter()
        .map(|(((), gemeentecode), ages)| UnclaimedCases {
            gemeentecode,
            count: ages.values().sum(),
            oldest_working_days: ages.keys().next_back().copied().unwrap_or(0),
            by_age: ages
                .into_iter()
                .map(|(working_days, count)| AgeCount {
                    working_days,
                    count,
                })
                .collect(),
        })
        .collect())
}

/// Open tasks of open cases whose current due date has passed, by working days overdue.
async fn overdue(
    c: &mut Conn,
    settings: &Settings,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<OverdueTasks>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT NULLIF(gemeentecode, '') AS "gemeentecode: Gemeentecode", due_on, n
           FROM n_overdue WHERE n > 0 AND due_on < $1"#,
        today,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(), [u64; 3]> = Buckets::new(scope);
    for r in rows {
        let late = working_days::between(&settings.calendar, r.due_on, today);
        let tier = match late {
            0..=2 => 0,
            3..=5 => 1,
            _ => 2,
        };
        b.add((), r.gemeentecode, |t| t[tier] += r.n as u64);
    }
    Ok(b.rows
        .into_iter()
        .map(|(((), gemeentecode), t)| OverdueTasks {
            gemeentecode,
            up_to_2_working_days: t[0],
            from_3_to_5_working_days: t[1],
            over_5_working_days: t[2],
        })
        .collect())
}

async fn cases_opened(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<CasesOpened>, sqlx::Error> {
    let l = Levels::new(p.granularity, p.from, p.to);
    let rows = sqlx::query!(
        r#"SELECT start AS "period!", NULLIF(gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  sum(opened)::bigint AS "opened!", sum(spoed)::bigint AS "spoed!"
           FROM n_opened
           WHERE level = $1 AND start >= $2 AND start < $3
           GROUP BY 1, 2
           UNION ALL
           SELECT date_trunc($1, start::timestamp)::date, NULLIF(gemeentecode, ''),
                  sum(opened)::bigint, sum(spoed)::bigint
           FROM n_opened
           WHERE level = 'day' AND (start BETWEEN $4 AND $5 OR start BETWEEN $6 AND $7)
           GROUP BY 1, 2"#,
        l.level,
        l.whole_from,
        l.whole_to,
        l.head_from,
        l.head_to,
        l.tail_from,
        l.tail_to,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<NaiveDate, (u64, u64)> = Buckets::new(scope);
    for r in rows {
        if r.opened > 0 {
            b.add(r.period, r.gemeentecode, |t| {
                t.0 += r.opened as u64;
                t.1 += r.spoed as u64;
            });
        }
    }
    Ok(b.rows
        .into_iter()
        .map(|((period, gemeentecode), (opened, spoed))| CasesOpened {
            period,
            gemeentecode,
            opened,
            spoed,
        })
        .collect())
}

async fn open_spoed(c: &mut Conn, scope: &Scope) -> Result<Vec<MunicipalCount>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT NULLIF(gemeentecode, '') AS "gemeentecode: Gemeentecode", n
           FROM n_open_spoed WHERE n > 0"#
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(), u64> = Buckets::new(scope);
    for r in rows {
        b.add((), r.gemeentecode, |v| *v += r.n as u64);
    }
    Ok(b.rows
        .into_iter()
        .map(|(((), gemeentecode), count)| MunicipalCount {
            gemeentecode,
            count,
        })
        .collect())
}

async fn manual_routing(c: &mut Conn, now: DateTime<Utc>) -> Result<Backlog, sqlx::Error> {
    let since = sqlx::query_scalar!(
        r#"SELECT unroutable_at AS "unroutable_at!" FROM routing
           WHERE unroutable_at IS NOT NULL AND decided_at IS NULL"#
    )
    .fetch_all(&mut *c)
    .await?;
    let mut ages: Vec<i64> = since
        .iter()
        .map(|t| (now - *t).num_seconds().max(0))
        .collect();
    ages.sort_unstable();
    Ok(Backlog {
        waiting: ages.len() as u64,
        oldest_seconds: ages.last().copied(),
        median_seconds: percentile(&ages, 0.5),
    })
}

/// Out-of-region notices not yet acknowledged, per region they were forwarded to; and how many
/// went to a municipality whose region rcn does not know (forwarded by hand, never acknowledged).
async fn forwards(
    c: &mut Conn,
    region: &RegionTable,
    now: DateTime<Utc>,
) -> Result<(Vec<ForwardBacklog>, u64), sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT gemeentecode AS "gemeentecode!: Gemeentecode", decided_at AS "decided_at!"
           FROM routing
           WHERE outcome = $1 AND acknowledged_at IS NULL AND decided_at IS NOT NULL"#,
        RoutingOutcomeKind::OutOfRegion as RoutingOutcomeKind,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut waiting: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    let mut by_hand = 0;
    for r in rows {
        let target = region
            .neighbour(&r.gemeentecode)
            .and_then(|n| n.region.clone());
        match target {
            Some(target) => {
                let w = waiting.entry(target).or_default();
                w.0 += 1;
                w.1 = w.1.max((now - r.decided_at).num_seconds().max(0));
            }
            None => by_hand += 1,
        }
    }
    Ok((
        waiting
            .into_iter()
            .map(
                |(target_region, (waiting, oldest_seconds))| ForwardBacklog {
                    target_region,
                    waiting,
                    oldest_seconds,
                },
            )
            .collect(),
        by_hand,
    ))
}

/// Dead letters per period of their local day and service. The range is bound as the instants
/// of its first and last local midnight, so the walk is an index range scan of `dead_letters_at`
/// rather than a cast of every row's time (which no index serves).
async fn dead_letters(c: &mut Conn, p: Period) -> Result<Vec<DeadLetterCount>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, at AT TIME ZONE 'Europe/Amsterdam')::date AS "period!",
                  service, count(*) AS "count!"
           FROM dead_letters
           WHERE at >= $2::date::timestamp AT TIME ZONE 'Europe/Amsterdam'
             AND at < ($3::date + 1)::timestamp AT TIME ZONE 'Europe/Amsterdam'
           GROUP BY 1, 2 ORDER BY 1, 2"#,
        p.granularity.as_str(),
        p.from,
        p.to,
    )
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DeadLetterCount {
            period: r.period,
            service: r.service,
            count: r.count as u64,
        })
        .collect())
}

/// Applications submitted and not yet triaged: how many, and since when the oldest waits.
async fn triage_backlog(
    c: &mut Conn,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<TriageBacklog>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT gemeentecode AS "gemeentecode: Gemeentecode", count(*) AS "waiting!",
                  min(submitted_at) AS "oldest!"
           FROM applications
           WHERE decided_at IS NULL AND submitted_at IS NOT NULL
           GROUP BY 1"#
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(), (u64, Option<DateTime<Utc>>)> = Buckets::new(scope);
    for r in rows {
        b.add((), r.gemeentecode, |t| {
            t.0 += r.waiting as u64;
            t.1 = Some(t.1.map_or(r.oldest, |o| o.min(r.oldest)));
        });
    }
    Ok(b.rows
        .into_iter()
        .map(|(((), gemeentecode), (waiting, oldest))| TriageBacklog {
            gemeentecode,
            waiting,
            oldest_seconds: oldest.map_or(0, |o| (now - o).num_seconds().max(0)),
        })
        .collect())
}

/// What the triages held within the period decided, per period of the triage day.
async fn triage_outcomes(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<TriageOutcomes>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, triaged_on::timestamp)::date AS "period!",
                  gemeentecode AS "gemeentecode: Gemeentecode",
                  outcome AS "outcome!: TriageOutcome", count(*) AS "n!"
           FROM applications
           WHERE decided_at IS NOT NULL AND triaged_on BETWEEN $2 AND $3
           GROUP BY 1, 2, 3"#,
        p.granularity.as_str(),
        p.from,
        p.to,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<NaiveDate, [u64; 4]> = Buckets::new(scope);
    for r in rows {
        let i = match r.outcome {
            TriageOutcome::Ico => 0,
            TriageOutcome::Advice => 1,
            TriageOutcome::LocalTable => 2,
            TriageOutcome::NotAccepted => 3,
        };
        b.add(r.period, r.gemeentecode, |t| t[i] += r.n as u64);
    }
    Ok(b.rows
        .into_iter()
        .map(|((period, gemeentecode), t)| TriageOutcomes {
            period,
            gemeentecode,
            ico: t[0],
            advice: t[1],
            local_table: t[2],
            not_accepted: t[3],
        })
        .collect())
}

/// ICOs opened and closed, per period of their local opening and closing day.
async fn icos(c: &mut Conn, p: Period, scope: &Scope) -> Result<Vec<IcoFlow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, opened_at AT TIME ZONE 'Europe/Amsterdam')::date AS "period!",
                  gemeentecode AS "gemeentecode: Gemeentecode",
                  count(*) AS "opened!", 0::bigint AS "closed!"
           FROM icos
           WHERE (opened_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3
           GROUP BY 1, 2
           UNION ALL
           SELECT date_trunc($1, closed_at AT TIME ZONE 'Europe/Amsterdam')::date, gemeentecode,
                  0::bigint, count(*)
           FROM icos
           WHERE (closed_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3
           GROUP BY 1, 2"#,
        p.granularity.as_str(),
        p.from,
        p.to,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<NaiveDate, (u64, u64)> = Buckets::new(scope);
    for r in rows {
        b.add(r.period, r.gemeentecode, |t| {
            t.0 += r.opened as u64;
            t.1 += r.closed as u64;
        });
    }
    Ok(b.rows
        .into_iter()
        .map(|((period, gemeentecode), (opened, closed))| IcoFlow {
            period,
            gemeentecode,
            opened,
            closed,
        })
        .collect())
}

/// ICOs closed within the period, by reason.
async fn ico_closures(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<IcoClosures>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, closed_at AT TIME ZONE 'Europe/Amsterdam')::date AS "period!",
                  gemeentecode AS "gemeentecode: Gemeentecode",
                  close_reason AS "reason!: IcoCloseReason", count(*) AS "n!"
           FROM icos
           WHERE (closed_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3
           GROUP BY 1, 2, 3"#,
        p.granularity.as_str(),
        p.from,
        p.to,
    )
    .fetch_all(&mut *c)
    .await?;
    // Ordered by the reason's word, as the export lists them.
    let mut b: Buckets<(NaiveDate, &'static str), u64> = Buckets::new(scope);
    for r in rows {
        b.add((r.period, r.reason.as_str()), r.gemeentecode, |n| {
            *n += r.n as u64
        });
    }
    Ok(b.rows
        .into_iter()
        .filter_map(|(((period, reason), gemeentecode), count)| {
            Some(IcoClosures {
                period,
                gemeentecode,
                reason: IcoCloseReason::from_stored(reason)?,
                count,
            })
        })
        .collect())
}

/// ICOs opened and not closed, now.
async fn icos_open(c: &mut Conn, scope: &Scope) -> Result<Vec<MunicipalCount>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT gemeentecode AS "gemeentecode: Gemeentecode", count(*) AS "n!"
           FROM icos WHERE opened_at IS NOT NULL AND closed_at IS NULL
           GROUP BY 1"#
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(), u64> = Buckets::new(scope);
    for r in rows {
        b.add((), r.gemeentecode, |v| *v += r.n as u64);
    }
    Ok(b.rows
        .into_iter()
        .map(|(((), gemeentecode), count)| MunicipalCount {
            gemeentecode,
            count,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_range_reads_whole_months_from_their_rows_and_the_ends_from_day_rows() {
        let l = Levels::new(Granularity::Month, day("2026-10-15"), day("2026-12-10"));
        assert_eq!(
            (l.level, l.whole_from, l.whole_to),
            ("month", day("2026-11-01"), day("2026-12-01"))
        );
        assert_eq!(
            (l.head_from, l.head_to),
            (day("2026-10-15"), day("2026-10-31"))
        );
        assert_eq!(
            (l.tail_from, l.tail_to),
            (day("2026-12-01"), day("2026-12-10"))
        );
        // Inside one week: days only, and the tail is empty.
        let l = Levels::new(Granularity::Week, day("2026-12-01"), day("2026-12-03"));
        assert!(l.whole_from >= l.whole_to);
        assert_eq!(
            (l.head_from, l.head_to),
            (day("2026-12-01"), day("2026-12-03"))
        );
        assert!(l.tail_from > l.tail_to);
    }
}
