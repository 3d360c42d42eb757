//! The figures, computed from the read models: what the dashboard and the CSV export show.
//!
//! Figures over time are grouped by the first day of the week or month in Europe/Amsterdam;
//! each has a row per municipality and one for the region (`gemeentecode: None`), or only the
//! municipality's rows when the scope is one municipality. Ages and overdue tiers count working
//! days with the region's holiday calendar. Only counts and durations leave this module.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;
use rcn_contracts::events::RoutingOutcomeKind;
use rcn_contracts::monitor_api::{
    AgeCount, Backlog, CasesOpened, ConditionAtRelease, DeadLetterCount, DurationFigure, Figures,
    ForwardBacklog, Granularity, MunicipalCount, NoticeCount, OverdueTasks, ReleaseSummary,
    UnclaimedCases, percentile,
};
use rcn_contracts::region::RegionTable;
use rcn_contracts::{Condition, ConditionStatus, Gemeentecode, NoticeKind};
use sqlx::PgPool;
use uuid::Uuid;

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
    let g = period.granularity.as_str();
    let figures = Figures {
        region: region.slug.clone(),
        generated_at: now,
        granularity: period.granularity,
        from: period.from,
        to: period.to,
        gemeentecode: scope.gemeentecode.clone(),
        notices_received: notices_received(c, g, period, scope).await?,
        time_to_routing: time_to_routing(c, g, period, scope).await?,
        time_to_first_claim: time_to_first_claim(c, g, period, scope).await?,
        conditions_at_release: Vec::new(),
        releases: Vec::new(),
        unclaimed_cases: unclaimed(c, settings, scope, today).await?,
        overdue_tasks: overdue(c, settings, scope, today).await?,
        cases_opened: cases_opened(c, g, period, scope).await?,
        open_spoed_cases: open_spoed(c, scope).await?,
        manual_routing: None,
        forwards_unacknowledged: None,
        forwards_by_hand: None,
        dead_letters: None,
    };
    let (conditions_at_release, releases) = at_release(c, g, period, scope, today).await?;
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

// Every period query buckets a timestamp by `date_trunc($1, ts AT TIME ZONE 'Europe/Amsterdam')`
// (`$1` the granularity) and keeps the local days from `$2` to `$3`, written out in each query
// so the compiler checks it.

/// A notice kind ordered by its word, as the figures have always listed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByWord(NoticeKind);

impl Ord for ByWord {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.as_str().cmp(other.0.as_str())
    }
}

impl PartialOrd for ByWord {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

async fn notices_received(
    c: &mut Conn,
    g: &str,
    p: Period,
    scope: &Scope,
) -> Result<Vec<NoticeCount>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, n.received_at AT TIME ZONE 'Europe/Amsterdam')::date AS "period!",
                CASE WHEN r.outcome = 'routed' THEN r.gemeentecode END AS gemeentecode,
                n.kind AS "kind: NoticeKind", n.institution_code, count(*) AS "count!"
         FROM notices n LEFT JOIN routing r USING (notice_key)
         WHERE (n.received_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3
         GROUP BY 1, 2, 3, 4"#,
        g,
        p.from,
        p.to
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(NaiveDate, ByWord, String), u64> = Buckets::new(scope);
    for r in rows {
        let key = (r.period, ByWord(r.kind), r.institution_code);
        b.add(key, r.gemeentecode.as_deref(), |v| *v += r.count as u64);
    }
    Ok(b.rows
        .into_iter()
        .map(
            |(((period, ByWord(kind), institution_code), gemeentecode), count)| NoticeCount {
                period,
                gemeentecode,
                kind,
                institution_code,
                count,
            },
        )
        .collect())
}

fn durations(b: Buckets<NaiveDate, Vec<i64>>) -> Vec<DurationFigure> {
    b.rows
        .into_iter()
        .map(|((period, gemeentecode), mut secs)| {
            secs.sort_unstable();
            DurationFigure {
                period,
                gemeentecode,
                count: secs.len() as u64,
                p50_seconds: percentile(&secs, 0.5).unwrap_or(0),
                p90_seconds: percentile(&secs, 0.9).unwrap_or(0),
            }
        })
        .collect()
}

async fn time_to_routing(
    c: &mut Conn,
    g: &str,
    p: Period,
    scope: &Scope,
) -> Result<Vec<DurationFigure>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, received_at AT TIME ZONE 'Europe/Amsterdam')::date AS "period!",
                CASE WHEN outcome = 'routed' THEN gemeentecode END AS gemeentecode,
                floor(extract(epoch FROM decided_at - received_at))::bigint AS "seconds!"
         FROM routing WHERE decided_at IS NOT NULL AND received_at IS NOT NULL
           AND (received_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3"#,
        g,
        p.from,
        p.to
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b = Buckets::new(scope);
    for r in rows {
        b.add(r.period, r.gemeentecode.as_deref(), |v: &mut Vec<i64>| {
            v.push(r.seconds)
        });
    }
    Ok(durations(b))
}

async fn time_to_first_claim(
    c: &mut Conn,
    g: &str,
    p: Period,
    scope: &Scope,
) -> Result<Vec<DurationFigure>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, c.notice_received_at AT TIME ZONE 'Europe/Amsterdam')::date
                    AS "period!",
                c.gemeentecode,
                floor(extract(epoch FROM min(t.at) - c.notice_received_at))::bigint AS "seconds!"
         FROM cases c JOIN task_claims t ON t.case_id = c.case_id AND t.held
         WHERE c.notice_received_at IS NOT NULL
           AND (c.notice_received_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3
         GROUP BY c.case_id, c.notice_received_at, c.gemeentecode"#,
        g,
        p.from,
        p.to
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b = Buckets::new(scope);
    for r in rows {
        b.add(r.period, Some(&r.gemeentecode), |v: &mut Vec<i64>| {
            v.push(r.seconds)
        });
    }
    Ok(durations(b))
}

/// Per condition and per case: where each condition stood at the end of its case's release day,
/// for the cases released within the period (and before today). Cases closed as cancelled,
/// duplicate or moved out of the region are not releases of this region.
async fn at_release(
    c: &mut Conn,
    g: &str,
    p: Period,
    scope: &Scope,
    today: NaiveDate,
) -> Result<(Vec<ConditionAtRelease>, Vec<ReleaseSummary>), sqlx::Error> {
    let rows = sqlx::query!(
        // One sort over the released cases' statuses, not a look-up per case and condition: per
        // task, the latest status before the end of the release day comes first; a task with
        // none before then was unknown at release.
        r#"WITH released AS (
             SELECT case_id, gemeentecode,
                    date_trunc($1, release_on::timestamp)::date AS period,
                    (release_on + 1)::timestamp AT TIME ZONE 'Europe/Amsterdam' AS release_end
             FROM cases
             WHERE first_opened_at IS NOT NULL AND release_on BETWEEN $2 AND $3
               AND release_on < $4
               AND NOT (closed AND close_reason IN ('cancelled', 'duplicate', 'moved_out_of_region')))
         SELECT DISTINCT ON (r.case_id, s.condition)
                r.period AS "period!", r.gemeentecode AS "gemeentecode!", r.case_id AS "case_id!",
                s.condition AS "condition: Condition",
                CASE WHEN s.at < r.release_end THEN s.status ELSE 'unknown' END
                    AS "status!: ConditionStatus"
         FROM released r JOIN task_statuses s ON s.case_id = r.case_id
         ORDER BY r.case_id, s.condition, (s.at < r.release_end) DESC, s.at DESC, s.event_id DESC"#,
        g,
        p.from,
        p.to,
        today
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
    #[derive(Default)]
    struct Cases {
        released: BTreeSet<Uuid>,
        with_open: BTreeSet<Uuid>,
        open: u64,
    }
    let mut per_condition: Buckets<(NaiveDate, Condition), Tally> = Buckets::new(scope);
    let mut per_case: Buckets<NaiveDate, Cases> = Buckets::new(scope);
    for r in rows {
        let (period, gm, case_id, condition, status) =
            (r.period, r.gemeentecode, r.case_id, r.condition, r.status);
        per_condition.add((period, condition), Some(&gm), |t| {
            t.cases += 1;
            match status {
                ConditionStatus::Arranged => t.arranged += 1,
                ConditionStatus::NotApplicable => t.not_applicable += 1,
                _ => t.open += 1,
            }
        });
        per_case.add(period, Some(&gm), |t| {
            t.released.insert(case_id);
            if status.is_open() {
                t.with_open.insert(case_id);
                t.open += 1;
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
    let releases = per_case
        .rows
        .into_iter()
        .map(|((period, gemeentecode), t)| ReleaseSummary {
            period,
            gemeentecode,
            cases_released: t.released.len() as u64,
            with_open_conditions: t.with_open.len() as u64,
            open_conditions: t.open,
        })
        .collect();
    Ok((conditions, releases))
}

/// Open cases without a claim since they were (last) opened, at least the configured number of
/// working days old.
async fn unclaimed(
    c: &mut Conn,
    settings: &Settings,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<UnclaimedCases>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT c.gemeentecode, (c.opened_at AT TIME ZONE 'Europe/Amsterdam')::date AS "opened_on!"
         FROM cases c
         WHERE c.opened_at IS NOT NULL AND NOT c.closed
           AND NOT EXISTS (SELECT 1 FROM task_claims t
                           WHERE t.case_id = c.case_id AND t.held AND t.at >= c.opened_at)"#,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(), BTreeMap<u32, u64>> = Buckets::new(scope);
    for (gm, opened_on) in rows.into_iter().map(|r| (r.gemeentecode, r.opened_on)) {
        let age = working_days::between(&settings.calendar, opened_on, today);
        if age >= settings.unclaimed_after_working_days {
            b.add((), Some(&gm), |ages| *ages.entry(age).or_default() += 1);
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
        r#"WITH status AS (
             SELECT DISTINCT ON (case_id, condition) case_id, condition, status
             FROM task_statuses ORDER BY case_id, condition, at DESC, event_id DESC),
         due AS (
             SELECT DISTINCT ON (case_id, condition) case_id, condition, due_on
             FROM task_dues ORDER BY case_id, condition, at DESC, event_id DESC)
         SELECT c.gemeentecode, due.due_on AS "due_on!"
         FROM due JOIN status USING (case_id, condition) JOIN cases c USING (case_id)
         WHERE c.opened_at IS NOT NULL AND NOT c.closed AND due.due_on < $1
           AND status.status NOT IN ('arranged', 'not_applicable')"#,
        today
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(), [u64; 3]> = Buckets::new(scope);
    for (gm, due_on) in rows.into_iter().map(|r| (r.gemeentecode, r.due_on)) {
        let late = working_days::between(&settings.calendar, due_on, today);
        let tier = match late {
            0..=2 => 0,
            3..=5 => 1,
            _ => 2,
        };
        b.add((), Some(&gm), |t| t[tier] += 1);
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
    g: &str,
    p: Period,
    scope: &Scope,
) -> Result<Vec<CasesOpened>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, first_opened_at AT TIME ZONE 'Europe/Amsterdam')::date AS "period!",
                gemeentecode, spoed
         FROM cases WHERE first_opened_at IS NOT NULL
           AND (first_opened_at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3"#,
        g,
        p.from,
        p.to
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<NaiveDate, (u64, u64)> = Buckets::new(scope);
    for (period, gm, spoed) in rows
        .into_iter()
        .map(|r| (r.period, r.gemeentecode, r.spoed))
    {
        b.add(period, Some(&gm), |t| {
            t.0 += 1;
            t.1 += u64::from(spoed);
        });
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
        r#"SELECT gemeentecode, count(*) AS "count!" FROM cases
         WHERE opened_at IS NOT NULL AND NOT closed AND spoed GROUP BY 1"#,
    )
    .fetch_all(&mut *c)
    .await?;
    let mut b: Buckets<(), u64> = Buckets::new(scope);
    for (gm, n) in rows.into_iter().map(|r| (r.gemeentecode, r.count)) {
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
    let since: Vec<DateTime<Utc>> = sqlx::query_scalar!(
        r#"SELECT unroutable_at AS "unroutable_at!" FROM routing
         WHERE unroutable_at IS NOT NULL AND decided_at IS NULL"#,
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
        r#"SELECT gemeentecode AS "gemeentecode!", decided_at AS "decided_at!" FROM routing
         WHERE outcome = $1 AND acknowledged_at IS NULL AND decided_at IS NOT NULL"#,
        RoutingOutcomeKind::OutOfRegion as RoutingOutcomeKind,
    )
    .fetch_all(&mut *c)
    .await?;
    let rows = rows.into_iter().map(|r| (r.gemeentecode, r.decided_at));
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
    let rows = sqlx::query!(
        r#"SELECT date_trunc($1, at AT TIME ZONE 'Europe/Amsterdam')::date AS "period!", service,
                count(*) AS "count!"
         FROM dead_letters WHERE (at AT TIME ZONE 'Europe/Amsterdam')::date BETWEEN $2 AND $3
         GROUP BY 1, 2 ORDER BY 1, 2"#,
        g,
        p.from,
        p.to
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
