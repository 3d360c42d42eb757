//! The figures, computed from the read models: what the dashboard and the CSV export show.
//!
//! Figures over time are grouped by the first day of the week or month in Europe/Amsterdam;
//! each has a row per municipality and one for the region (`gemeentecode: None`), or only the
//! municipality's rows when the scope is one municipality. Ages and overdue tiers count working
//! days with the region's holiday calendar. Only counts and durations leave this module.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;
use rcn_contracts::monitor_api::{
    AgeCount, Backlog, CasesOpened, ConditionAtRelease, DeadLetterCount, DurationFigure, Figures,
    ForwardBacklog, Granularity, MunicipalCount, NoticeCount, OverdueTasks, ReleaseSummary,
    UnclaimedCases, percentile,
};
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
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let c = &mut *tx;
    let g = period.granularity.as_str();
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
        figures.dead_letters = Some(dead_letters(c, g, period).await?);
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
    let g = period.granularity.as_str();
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
    if scope.regional && scope.gemeentecode.is_none() {
        timed!("manual routing", manual_routing(c, now));
        timed!("forwards", forwards(c, region, now));
        timed!("dead letters", dead_letters(c, g, period));
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

    /// Adds to the row of `gm` (when it is a municipality) and to the region's; within a
    /// municipality's scope, only to that municipality's row.
    fn add(&mut self, key: K, gm: Option<&str>, f: impl Fn(&mut V)) {
        let gm = gm.and_then(|g| Gemeentecode::parse(g).ok());
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

/// The SQL for "the first day of the week or month of `col`, in Europe/Amsterdam".
fn period_of(col: &str) -> String {
    format!("date_trunc($1, {col} AT TIME ZONE 'Europe/Amsterdam')::date")
}

/// The SQL for "`col` falls within the period".
fn within(col: &str) -> String {
    format!("({col} AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3")
}

fn kind(s: &str) -> Option<NoticeKind> {
    NoticeKind::ALL.into_iter().find(|k| k.as_str() == s)
}

/// The rows of counter table `n_{name}` within the period, per period and `cols`: the whole
/// weeks or months inside the range from their own rows (`$2` ≤ start < `$3`), the partial ones
/// at its ends from the day rows (`$4`..=`$5` and `$6`..=`$7`), so a request reads a few rows per
/// period and never a year of days. Bind with [`bind_range`].
fn leveled(name: &str, cols: &str, sums: &str) -> String {
    format!(
        "SELECT start, {cols}, {sums} FROM n_{name}
         WHERE level = $1 AND start >= $2 AND start < $3
         GROUP BY 1, {cols}
         UNION ALL
         SELECT date_trunc($1, start::timestamp)::date, {cols}, {sums} FROM n_{name}
         WHERE level = 'day' AND (start BETWEEN $4 AND $5 OR start BETWEEN $6 AND $7)
         GROUP BY 1, {cols}"
    )
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

/// The seven parameters of [`leveled`] for the days `from..=to`.
fn bind_range<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    g: Granularity,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    let first = period_start(g, from);
    let full_start = if first == from {
        from
    } else {
        next_period(g, first)
    };
    let full_end = to.succ_opt().map_or(to, |after| period_start(g, after));
    let day = chrono::Days::new(1);
    if full_start < full_end {
        q.bind(g.as_str())
            .bind(full_start)
            .bind(full_end)
            .bind(from)
            .bind(full_start - day)
            .bind(full_end)
            .bind(to)
    } else {
        // No whole period inside: every day from its own row.
        q.bind(g.as_str())
            .bind(from)
            .bind(from)
            .bind(from)
            .bind(to)
            .bind(to)
            .bind(from - day)
    }
}

async fn notices_received(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<NoticeCount>, sqlx::Error> {
    let rows: Vec<(NaiveDate, String, String, String, i64)> = bind_range(
        sqlx::query_as(&leveled(
            "notices",
            "gemeentecode, kind, institution_code",
            "sum(n)::bigint",
        )),
        p.granularity,
        p.from,
        p.to,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(NaiveDate, String, String), u64> = Buckets::new(scope);
    for (period, gm, kind, institution, n) in rows {
        if n > 0 {
            b.add((period, kind, institution), Some(&gm), |v| *v += n as u64);
        }
    }
    Ok(b.rows
        .into_iter()
        .filter_map(|(((period, k, institution_code), gemeentecode), count)| {
            Some(NoticeCount {
                period,
                gemeentecode,
                kind: kind(&k)?,
                institution_code,
                count,
            })
        })
        .collect())
}

/// The nearest-rank percentile `p` of a histogram (bucket → count): the bucket holding it.
fn histogram_percentile(h: &BTreeMap<i64, u64>, p: f64) -> Option<i64> {
    let total: u64 = h.values().sum();
    if total == 0 {
        return None;
    }
    let rank = ((p * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    h.iter().find_map(|(bucket, n)| {
        seen += n;
        (seen >= rank).then_some(*bucket)
    })
}

/// Durations from a histogram counter table, per period and municipality.
async fn durations(
    c: &mut Conn,
    name: &str,
    p: Period,
    scope: &Scope,
) -> Result<Vec<DurationFigure>, sqlx::Error> {
    let rows: Vec<(NaiveDate, String, i64, i64)> = bind_range(
        sqlx::query_as(&leveled(name, "gemeentecode, bucket", "sum(n)::bigint")),
        p.granularity,
        p.from,
        p.to,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<NaiveDate, BTreeMap<i64, u64>> = Buckets::new(scope);
    for (period, gm, bucket, n) in rows {
        if n > 0 {
            b.add(period, Some(&gm), |h| {
                *h.entry(bucket).or_default() += n as u64
            });
        }
    }
    Ok(b.rows
        .into_iter()
        .map(|((period, gemeentecode), h)| DurationFigure {
            period,
            gemeentecode,
            count: h.values().sum(),
            p50_seconds: histogram_percentile(&h, 0.5).unwrap_or(0),
            p90_seconds: histogram_percentile(&h, 0.9).unwrap_or(0),
        })
        .collect())
}

async fn time_to_routing(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<DurationFigure>, sqlx::Error> {
    durations(c, "routing_time", p, scope).await
}

async fn time_to_first_claim(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<DurationFigure>, sqlx::Error> {
    durations(c, "claim_time", p, scope).await
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
    let rows: Vec<(NaiveDate, String, String, String, i64)> = bind_range(
        sqlx::query_as(&leveled(
            "at_release",
            "gemeentecode, condition, status",
            "sum(n)::bigint",
        )),
        p.granularity,
        p.from,
        last,
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
    for (period, gm, condition, status, n) in rows {
        let (Some(condition), Some(status)) = (
            Condition::parse(&condition),
            ConditionStatus::parse(&status),
        ) else {
            continue;
        };
        if n <= 0 {
            continue;
        }
        let n = n as u64;
        per_condition.add((period, condition), Some(&gm), |t| {
            t.cases += n;
            match status {
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
    let rows: Vec<(NaiveDate, String, i64, i64, i64)> = bind_range(
        sqlx::query_as(&leveled(
            "releases",
            "gemeentecode",
            "sum(released)::bigint, sum(with_open)::bigint, sum(open_conditions)::bigint",
        )),
        p.granularity,
        p.from,
        last,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut per_case: Buckets<NaiveDate, (u64, u64, u64)> = Buckets::new(scope);
    for (period, gm, released, with_open, open) in rows {
        if released > 0 {
            per_case.add(period, Some(&gm), |t| {
                t.0 += released as u64;
                t.1 += with_open as u64;
                t.2 += open as u64;
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
    let rows: Vec<(String, NaiveDate, i64)> =
        sqlx::query_as("SELECT gemeentecode, opened_on, n FROM n_unclaimed WHERE n > 0")
            .fetch_all(&mut *c)
            .await?;
    let mut b: Buckets<(), BTreeMap<u32, u64>> = Buckets::new(scope);
    for (gm, opened_on, n) in rows {
        let age = working_days::between(&settings.calendar, opened_on, today);
        if age >= settings.unclaimed_after_working_days {
            b.add((), Some(&gm), |ages| {
                *ages.entry(age).or_default() += n as u64
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
    let rows: Vec<(String, NaiveDate, i64)> =
        sqlx::query_as("SELECT gemeentecode, due_on, n FROM n_overdue WHERE n > 0 AND due_on < $1")
            .bind(today)
            .fetch_all(&mut *c)
            .await?;
    let mut b: Buckets<(), [u64; 3]> = Buckets::new(scope);
    for (gm, due_on, n) in rows {
        let late = working_days::between(&settings.calendar, due_on, today);
        let tier = match late {
            0..=2 => 0,
            3..=5 => 1,
            _ => 2,
        };
        b.add((), Some(&gm), |t| t[tier] += n as u64);
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
    let rows: Vec<(NaiveDate, String, i64, i64)> = bind_range(
        sqlx::query_as(&leveled(
            "opened",
            "gemeentecode",
            "sum(opened)::bigint, sum(spoed)::bigint",
        )),
        p.granularity,
        p.from,
        p.to,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<NaiveDate, (u64, u64)> = Buckets::new(scope);
    for (period, gm, opened, spoed) in rows {
        if opened > 0 {
            b.add(period, Some(&gm), |t| {
                t.0 += opened as u64;
                t.1 += spoed as u64;
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
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT gemeentecode, n FROM n_open_spoed WHERE n > 0")
            .fetch_all(&mut *c)
            .await?;
    let mut b: Buckets<(), u64> = Buckets::new(scope);
    for (gm, n) in rows {
        b.add((), Some(&gm), |v| *v += n as u64);
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
    let since: Vec<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT unroutable_at FROM routing WHERE unroutable_at IS NOT NULL AND decided_at IS NULL",
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
    let rows: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT gemeentecode, decided_at FROM routing
         WHERE outcome = 'out_of_region' AND acknowledged_at IS NULL AND decided_at IS NOT NULL",
    )
    .fetch_all(&mut *c)
    .await?;
    let mut waiting: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    let mut by_hand = 0;
    for (gm, decided_at) in rows {
        let target = Gemeentecode::parse(&gm)
            .ok()
            .and_then(|code| region.neighbour(&code).and_then(|n| n.region.clone()));
        match target {
            Some(target) => {
                let w = waiting.entry(target).or_default();
                w.0 += 1;
                w.1 = w.1.max((now - decided_at).num_seconds().max(0));
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

async fn dead_letters(
    c: &mut Conn,
    g: &str,
    p: Period,
) -> Result<Vec<DeadLetterCount>, sqlx::Error> {
    let rows: Vec<(NaiveDate, String, i64)> = sqlx::query_as(&format!(
        "SELECT {}, service, count(*) FROM dead_letters WHERE {} GROUP BY 1, 2 ORDER BY 1, 2",
        period_of("at"),
        within("at")
    ))
    .bind(g)
    .bind(p.from)
    .bind(p.to)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(period, service, count)| DeadLetterCount {
            period,
            service,
            count: count as u64,
        })
        .collect())
}
