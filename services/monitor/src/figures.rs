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

/// Every figure, as of `now`, from one snapshot of the read models.
///
/// The queries run in two halves of about equal cost ([`Ask`]; each has one of the two duration
/// histograms, the dearest queries), side by side on two read-only transactions that share one
/// snapshot when the pool has a connection to spare ([`rcn_runtime::db::read_only_pair`]), else
/// one after the other on one: a busy pool is never waited for.
pub async fn compute(
    pool: &PgPool,
    region: &RegionTable,
    settings: &Settings,
    period: Period,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Figures, sqlx::Error> {
    let today = today(now);
    let (mut tx, mut helper) = rcn_runtime::db::read_only_pair(pool, SPARE_CONNECTION_WAIT).await?;
    let ask = Ask {
        region,
        settings,
        period,
        scope,
        now,
        today,
    };
    let (first, second) = match helper.as_mut() {
        Some(other) => tokio::try_join!(ask.first(&mut tx), ask.second(other))?,
        None => (ask.first(&mut tx).await?, ask.second(&mut tx).await?),
    };
    if let Some(other) = helper {
        other.commit().await?;
    }
    tx.commit().await?;
    Ok(Figures {
        region: region.slug.clone(),
        generated_at: now,
        granularity: period.granularity,
        from: period.from,
        to: period.to,
        gemeentecode: scope.gemeentecode.clone(),
        notices_received: first.notices_received,
        time_to_routing: first.time_to_routing,
        time_to_first_claim: second.time_to_first_claim,
        conditions_at_release: first.conditions_at_release,
        releases: first.releases,
        unclaimed_cases: first.unclaimed_cases,
        overdue_tasks: first.overdue_tasks,
        cases_opened: second.cases_opened,
        open_spoed_cases: second.open_spoed_cases,
        manual_routing: second.manual_routing,
        forwards_unacknowledged: second.forwards_unacknowledged,
        forwards_by_hand: second.forwards_by_hand,
        dead_letters: second.dead_letters,
        triage_backlog: second.triage_backlog,
        triage_outcomes: second.triage_outcomes,
        icos: second.icos,
        ico_closures: second.ico_closures,
        icos_open: second.icos_open,
    })
}

/// How long a figures request waits for a new second connection before it runs on one.
const SPARE_CONNECTION_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// One figures request's question, asked in two halves of about equal cost.
struct Ask<'a> {
    region: &'a RegionTable,
    settings: &'a Settings,
    period: Period,
    scope: &'a Scope,
    now: DateTime<Utc>,
    today: NaiveDate,
}

/// The figures of [`Ask::first`]: the notices and the time to routing, and the case figures of
/// release day and age.
struct FirstHalf {
    notices_received: Vec<NoticeCount>,
    time_to_routing: Vec<DurationFigure>,
    conditions_at_release: Vec<ConditionAtRelease>,
    releases: Vec<ReleaseSummary>,
    unclaimed_cases: Vec<UnclaimedCases>,
    overdue_tasks: Vec<OverdueTasks>,
}

/// The figures of [`Ask::second`]: the time to first claim, the cases opened, procesregie's and
/// the RCN's own sections.
struct SecondHalf {
    time_to_first_claim: Vec<DurationFigure>,
    cases_opened: Vec<CasesOpened>,
    open_spoed_cases: Vec<MunicipalCount>,
    triage_backlog: Vec<TriageBacklog>,
    triage_outcomes: Vec<TriageOutcomes>,
    icos: Vec<IcoFlow>,
    ico_closures: Vec<IcoClosures>,
    icos_open: Vec<MunicipalCount>,
    manual_routing: Option<Backlog>,
    forwards_unacknowledged: Option<Vec<ForwardBacklog>>,
    forwards_by_hand: Option<u64>,
    dead_letters: Option<Vec<DeadLetterCount>>,
}

impl Ask<'_> {
    async fn first(&self, c: &mut Conn) -> Result<FirstHalf, sqlx::Error> {
        let (p, scope, today) = (self.period, self.scope, self.today);
        let notices_received = notices_received(c, p, scope).await?;
        let time_to_routing = duration(c, Elapsed::ToRouting, p, scope).await?;
        let (conditions_at_release, releases) = at_release(c, p, scope, today).await?;
        Ok(FirstHalf {
            notices_received,
            time_to_routing,
            conditions_at_release,
            releases,
            unclaimed_cases: unclaimed(c, self.settings, scope, today).await?,
            overdue_tasks: overdue(c, self.settings, scope, today).await?,
        })
    }

    async fn second(&self, c: &mut Conn) -> Result<SecondHalf, sqlx::Error> {
        let (p, scope, now) = (self.period, self.scope, self.now);
        let mut half = SecondHalf {
            time_to_first_claim: duration(c, Elapsed::ToFirstClaim, p, scope).await?,
            cases_opened: cases_opened(c, p, scope).await?,
            open_spoed_cases: open_spoed(c, scope).await?,
            triage_backlog: triage_backlog(c, scope, now).await?,
            triage_outcomes: triage_outcomes(c, p, scope).await?,
            icos: icos(c, p, scope).await?,
            ico_closures: ico_closures(c, p, scope).await?,
            icos_open: icos_open(c, scope).await?,
            manual_routing: None,
            forwards_unacknowledged: None,
            forwards_by_hand: None,
            dead_letters: None,
        };
        if scope.regional && scope.gemeentecode.is_none() {
            half.manual_routing = Some(manual_routing(c, now).await?);
            let (waiting, by_hand) = forwards(c, self.region, now).await?;
            half.forwards_unacknowledged = Some(waiting);
            half.forwards_by_hand = Some(by_hand);
            half.dead_letters = Some(dead_letters(c, p).await?);
        }
        Ok(half)
    }
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
    timed!(
        "time to routing",
        duration(c, Elapsed::ToRouting, period, scope)
    );
    timed!(
        "time to first claim",
        duration(c, Elapsed::ToFirstClaim, period, scope)
    );
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

/// Which counter rows a request reads: a counter table is kept per day, ISO week and month
/// (`level`, `start`), and a range `from..=to` grouped by weeks or months reads each whole period
/// inside it from the period's own rows, and each partial period at its ends from the fewest
/// rows that cover exactly its days: the whole ISO weeks inside a partial month from their week
/// rows, the days left from day rows. So a year of months reads twelve row sets and at most a
/// few weeks and days at each end, never a month of days.
///
/// Each entry is one row set (`level`, `start`) and the period it counts for (`period`); every
/// counter query joins its table on `unnest($1, $2, $3)` of these three.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Parts {
    level: Vec<&'static str>,
    start: Vec<NaiveDate>,
    period: Vec<NaiveDate>,
}

impl Parts {
    /// The days `from..=to`, grouped by `g`.
    fn new(g: Granularity, from: NaiveDate, to: NaiveDate) -> Self {
        let mut parts = Self::default();
        let mut period = period_start(g, from);
        while period <= to {
            let next = next_period(g, period);
            if next <= period {
                break; // The end of the calendar: nothing is counted there.
            }
            let end = next.pred_opt().unwrap_or(next);
            let (first, last) = (period.max(from), end.min(to));
            if first == period && last == end {
                parts.push(g.as_str(), period, period);
            } else {
                parts.cover(first, last, period, g == Granularity::Month);
            }
            period = next;
        }
        parts
    }

    /// Covers the days `first..=last` of `period`: whole ISO weeks from week rows when `weeks`,
    /// every other day from its day row.
    fn cover(&mut self, first: NaiveDate, last: NaiveDate, period: NaiveDate, weeks: bool) {
        use chrono::Datelike;
        let mut day = first;
        while day <= last {
            let week_end = day + chrono::Days::new(6);
            if weeks && day.weekday() == chrono::Weekday::Mon && week_end <= last {
                self.push("week", day, period);
                day = week_end;
            } else {
                self.push("day", day, period);
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
    }

    fn push(&mut self, level: &'static str, start: NaiveDate, period: NaiveDate) {
        self.level.push(level);
        self.start.push(start);
        self.period.push(period);
    }
}

async fn notices_received(
    c: &mut Conn,
    p: Period,
    scope: &Scope,
) -> Result<Vec<NoticeCount>, sqlx::Error> {
    let k = Parts::new(p.granularity, p.from, p.to);
    let rows = sqlx::query!(
        r#"SELECT k.period AS "period!", NULLIF(t.gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  t.kind AS "kind!: NoticeKind", t.institution_code AS "institution_code!",
                  sum(t.n)::bigint AS "n!"
           FROM unnest($1::text[], $2::date[], $3::date[]) AS k(level, start, period)
           JOIN n_notices t ON t.level = k.level AND t.start = k.start
           GROUP BY 1, 2, 3, 4"#,
        &k.level as &[&str],
        &k.start,
        &k.period,
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

/// The two duration figures, each a histogram table of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elapsed {
    /// Notice → routing decision (`n_routing_time`).
    ToRouting,
    /// Notice → first claim of one of the case's tasks (`n_claim_time`).
    ToFirstClaim,
}

impl Elapsed {
    fn table(self) -> &'static str {
        match self {
            Self::ToRouting => "n_routing_time",
            Self::ToFirstClaim => "n_claim_time",
        }
    }
}

/// A duration figure per period and municipality, with its count, p50 and p90.
///
/// The duration figures are histograms (`monitor_bucket`). The database sums each bucket's
/// count over the range, per period and municipality (whole periods from their own rows, the
/// partial ends from week and day rows, see [`Parts`]) and returns each histogram as two arrays
/// in bucket order, one row per period and municipality rather than one per bucket. Here they
/// are added up for the region (a notice without a municipality counts for the region only; a
/// municipality's scope reads only its own rows and gets no region row), and a percentile is the
/// lower bound of the bucket holding the nearest rank `ceil(p × count)` ([`nearest_rank`]). A
/// period without any duration has no row.
///
/// Each row set is read through the primary key, one index range per (`level`, `start`) of the
/// parts (`LATERAL … OFFSET 0` keeps the planner from hashing the whole table instead, which
/// grows with every year the monitor keeps), so a request reads what its range holds and no
/// more. One statement serves both figures: `$5` names the table, and the other table's branch
/// is a one-time filter that reads nothing.
async fn duration(
    c: &mut Conn,
    which: Elapsed,
    p: Period,
    scope: &Scope,
) -> Result<Vec<DurationFigure>, sqlx::Error> {
    let k = Parts::new(p.granularity, p.from, p.to);
    let rows = sqlx::query!(
        r#"SELECT period AS "period!", NULLIF(gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  array_agg(bucket ORDER BY bucket) AS "buckets!",
                  array_agg(n ORDER BY bucket) AS "counts!"
           FROM (SELECT k.period, t.gemeentecode, t.bucket, sum(t.n)::bigint AS n
                 FROM unnest($1::text[], $2::date[], $3::date[]) AS k(level, start, period)
                 CROSS JOIN LATERAL (
                     SELECT gemeentecode, bucket, n FROM n_routing_time
                     WHERE $5 = 'n_routing_time' AND level = k.level AND start = k.start AND n > 0
                       AND ($4::text IS NULL OR gemeentecode = $4)
                     UNION ALL
                     SELECT gemeentecode, bucket, n FROM n_claim_time
                     WHERE $5 = 'n_claim_time' AND level = k.level AND start = k.start AND n > 0
                       AND ($4::text IS NULL OR gemeentecode = $4)
                     OFFSET 0) t
                 GROUP BY 1, 2, 3) histogram
           GROUP BY 1, 2"#,
        &k.level as &[&str],
        &k.start,
        &k.period,
        scope.gemeentecode.as_ref().map(Gemeentecode::as_str),
        which.table(),
    )
    .fetch_all(&mut *c)
    .await?;
    let mut histograms: Buckets<NaiveDate, BTreeMap<i64, u64>> = Buckets::new(scope);
    for r in rows {
        histograms.add(r.period, r.gemeentecode, |h| {
            for (bucket, n) in r.buckets.iter().zip(&r.counts) {
                if let Ok(n @ 1..) = u64::try_from(*n) {
                    *h.entry(*bucket).or_default() += n;
                }
            }
        });
    }
    Ok(histograms
        .rows
        .into_iter()
        .filter_map(|((period, gemeentecode), histogram)| {
            let count = histogram.values().sum();
            Some(DurationFigure {
                period,
                gemeentecode,
                count,
                p50_seconds: nearest_rank(&histogram, count, 1, 2)?,
                p90_seconds: nearest_rank(&histogram, count, 9, 10)?,
            })
        })
        .collect())
}

/// The lower bound of the bucket holding rank `ceil(count × num / den)` (at least 1) of a
/// histogram in bucket order: the `num/den` percentile by nearest rank, in integers so no
/// rounding of a fraction can move a rank. `None` for an empty histogram.
fn nearest_rank(histogram: &BTreeMap<i64, u64>, count: u64, num: u64, den: u64) -> Option<i64> {
    let rank = (count.saturating_mul(num).div_ceil(den)).max(1);
    let mut seen = 0;
    histogram.iter().find_map(|(bucket, n)| {
        seen += n;
        (seen >= rank).then_some(*bucket)
    })
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
    let k = Parts::new(p.granularity, p.from, last);
    let rows = sqlx::query!(
        r#"SELECT k.period AS "period!", NULLIF(t.gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  t.condition AS "condition!: Condition", t.status AS "status!: ConditionStatus",
                  sum(t.n)::bigint AS "n!"
           FROM unnest($1::text[], $2::date[], $3::date[]) AS k(level, start, period)
           JOIN n_at_release t ON t.level = k.level AND t.start = k.start
           GROUP BY 1, 2, 3, 4"#,
        &k.level as &[&str],
        &k.start,
        &k.period,
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
        r#"SELECT k.period AS "period!", NULLIF(t.gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  sum(t.released)::bigint AS "released!", sum(t.with_open)::bigint AS "with_open!",
                  sum(t.open_conditions)::bigint AS "open_conditions!"
           FROM unnest($1::text[], $2::date[], $3::date[]) AS k(level, start, period)
           JOIN n_releases t ON t.level = k.level AND t.start = k.start
           GROUP BY 1, 2"#,
        &k.level as &[&str],
        &k.start,
        &k.period,
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
    let k = Parts::new(p.granularity, p.from, p.to);
    let rows = sqlx::query!(
        r#"SELECT k.period AS "period!", NULLIF(t.gemeentecode, '') AS "gemeentecode: Gemeentecode",
                  sum(t.opened)::bigint AS "opened!", sum(t.spoed)::bigint AS "spoed!"
           FROM unnest($1::text[], $2::date[], $3::date[]) AS k(level, start, period)
           JOIN n_opened t ON t.level = k.level AND t.start = k.start
           GROUP BY 1, 2"#,
        &k.level as &[&str],
        &k.start,
        &k.period,
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
    fn a_range_reads_whole_months_then_whole_weeks_then_days() {
        let k = Parts::new(Granularity::Month, day("2026-10-15"), day("2026-12-10"));
        let read: Vec<(&str, String, String)> = (0..k.level.len())
            .map(|i| (k.level[i], k.start[i].to_string(), k.period[i].to_string()))
            .collect();
        let mut expected = Vec::new();
        // October from Thursday the 15th: four days, the week of the 19th, then the six days
        // of the week that ends in November.
        for d in ["15", "16", "17", "18"] {
            expected.push(("day", format!("2026-10-{d}"), "2026-10-01".to_owned()));
        }
        expected.push(("week", "2026-10-19".to_owned(), "2026-10-01".to_owned()));
        for d in 26..=31 {
            expected.push(("day", format!("2026-10-{d}"), "2026-10-01".to_owned()));
        }
        // November whole; December to Thursday the 10th: no whole week inside.
        expected.push(("month", "2026-11-01".to_owned(), "2026-11-01".to_owned()));
        for d in 1..=10 {
            expected.push(("day", format!("2026-12-{d:02}"), "2026-12-01".to_owned()));
        }
        let expected: Vec<(&str, String, String)> = expected;
        assert_eq!(read, expected);
        // Inside one week: days only.
        let k = Parts::new(Granularity::Week, day("2026-12-01"), day("2026-12-03"));
        assert_eq!(k.level, ["day", "day", "day"]);
        assert_eq!(k.period, [day("2026-11-30"); 3]);
    }

    #[test]
    fn the_nearest_rank_is_the_bucket_that_holds_it() {
        // Ten durations: 1 × 0 s, 4 × 10 s, 4 × 60 s, 1 × 3600 s.
        let h = BTreeMap::from([(0, 1), (10, 4), (60, 4), (3600, 1)]);
        assert_eq!(
            nearest_rank(&h, 10, 1, 2),
            Some(10),
            "rank 5 is the last 10 s"
        );
        assert_eq!(
            nearest_rank(&h, 10, 9, 10),
            Some(60),
            "rank 9 is the last 60 s"
        );
        assert_eq!(nearest_rank(&h, 10, 1, 1), Some(3600));
        // Rank 1 at least, and an odd count rounds the rank up: ceil(3 × 1/2) = 2.
        let h = BTreeMap::from([(5, 1), (7, 1), (9, 1)]);
        assert_eq!(nearest_rank(&h, 3, 0, 2), Some(5));
        assert_eq!(nearest_rank(&h, 3, 1, 2), Some(7));
        assert_eq!(nearest_rank(&BTreeMap::new(), 0, 1, 2), None);
    }

    /// Whatever the range, its row sets cover each of its days exactly once, each counted for
    /// the period the day is in.
    #[test]
    fn the_row_sets_cover_every_day_of_a_range_once() {
        use chrono::Datelike;
        let base = day("2025-12-20");
        for g in [Granularity::Week, Granularity::Month] {
            for offset in (0..120).step_by(7) {
                for len in (0..420).step_by(11) {
                    let from = base + chrono::Days::new(offset);
                    let to = from + chrono::Days::new(len);
                    let k = Parts::new(g, from, to);
                    let mut days = Vec::new();
                    for i in 0..k.level.len() {
                        let n = match k.level[i] {
                            "day" => 1,
                            "week" => 7,
                            _ => {
                                let s = k.start[i];
                                assert_eq!(s.day(), 1, "a month row starts on the first");
                                let next = next_period(Granularity::Month, s);
                                (next - s).num_days() as u64
                            }
                        };
                        for d in 0..n {
                            let d = k.start[i] + chrono::Days::new(d);
                            assert_eq!(k.period[i], period_start(g, d), "{g:?} {from} {to}");
                            days.push(d);
                        }
                    }
                    let expected: Vec<NaiveDate> =
                        from.iter_days().take_while(|d| *d <= to).collect();
                    assert_eq!(days, expected, "{g:?} {from}..={to}");
                    // Never more than a week's days at a week's ends, and at most 4 weeks plus
                    // 12 days at each end of a month's.
                    let day_rows = k.level.iter().filter(|l| **l == "day").count();
                    assert!(
                        day_rows <= 24,
                        "{day_rows} day rows for {g:?} {from}..={to}"
                    );
                }
            }
        }
    }
}
