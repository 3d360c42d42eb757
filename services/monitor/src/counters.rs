//! The pre-aggregated figures (`migrations/0003_figure_counters.sql`): after a batch of events is
//! applied, [`refresh_notices`] and [`refresh_cases`] recompute what each touched notice or case
//! contributes to the figures the batch may have changed ([`Touched`]) and add the difference to
//! the counters, in the batch's transaction. A figures request then reads only the counters
//! ([`crate::figures`]).
//!
//! Correct only when one transaction at a time refreshes a figure: [`lock`] serialises the
//! projections per [`Family`] (the notice figures read only `notices` and `routing`, the case
//! figures only `cases` and the task history, so the two families never meet and the CASES feed
//! runs beside NOTICES and ROUTING). It must never count anything personal: keys of the
//! contributions are days, codes, statuses and buckets.
//!
//! Every figure is one statement, written out whole so the compiler checks it against the schema
//! (`sqlx::query!`, `.sqlx/`). They share one shape:
//!
//! ```sql
//! WITH old   AS (DELETE FROM c_<figure> WHERE entity = ANY($1) RETURNING <keys, measures>),
//!      new   AS (INSERT INTO c_<figure> (entity, <keys, measures>) <what each entity adds now>
//!                RETURNING <keys, measures>),
//!      delta AS (<new minus old, per key, where not zero>)
//! INSERT INTO n_<figure> … ON CONFLICT (<keys>) DO UPDATE SET <measure> = <measure> + EXCLUDED.<measure>
//! ```
//!
//! A figure kept over time (`level`, `start`) adds its delta to the day, the ISO week and the
//! month of its local date in that last insert. Local dates are `(t AT TIME ZONE
//! 'Europe/Amsterdam')::date`, where the RCN works. Statuses, outcomes and close reasons the
//! statements compare are bound from their Rust enums ([`SETTLED`], [`NOT_A_RELEASE`]), never
//! spelled in the SQL, so a renamed variant cannot silently stop matching.

use rcn_contracts::ConditionStatus;
use rcn_contracts::casework_api::CloseReason;
use rcn_contracts::events::RoutingOutcomeKind;
use sqlx::PgConnection;
use uuid::Uuid;

/// The statuses in which a condition no longer needs work: neither open at release nor overdue.
pub const SETTLED: [ConditionStatus; 2] =
    [ConditionStatus::Arranged, ConditionStatus::NotApplicable];

/// A case closed for one of these was never a release of this region.
pub const NOT_A_RELEASE: [CloseReason; 3] = [
    CloseReason::Cancelled,
    CloseReason::Duplicate,
    CloseReason::MovedOutOfRegion,
];

/// The figures kept as counters, each refreshed on its own: a batch refreshes only those its
/// events can change, for only the notices or cases whose events can change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Notices received (reads `notices`, and `routing` for the municipality).
    Notices,
    /// Notice → routing decision (reads `routing`).
    RoutingTime,
    /// Notice → first claim (reads the case's opening notice time, municipality and claims).
    ClaimTime,
    /// Cases opened and spoed (the first opening, municipality, spoed).
    Opened,
    /// Per condition, its status at the end of the release day, and releases with open
    /// conditions (both from the statuses at release).
    Releases,
    /// Open cases without a claim since their opening.
    Unclaimed,
    /// Open tasks of open cases by due date.
    Overdue,
    /// Open spoed cases.
    OpenSpoed,
}

impl Figure {
    /// The figures of notices.
    pub const NOTICE: [Figure; 2] = [Figure::Notices, Figure::RoutingTime];
    /// The figures of cases.
    pub const CASE: [Figure; 6] = [
        Figure::ClaimTime,
        Figure::Opened,
        Figure::Releases,
        Figure::Unclaimed,
        Figure::Overdue,
        Figure::OpenSpoed,
    ];
}

/// The notices (`K = String`) or cases (`K = Uuid`) a batch touched, per figure.
#[derive(Debug, Clone)]
pub struct Touched<K> {
    keys: [Vec<K>; Figure::NOTICE.len() + Figure::CASE.len()],
}

impl<K> Default for Touched<K> {
    fn default() -> Self {
        Self {
            keys: std::array::from_fn(|_| Vec::new()),
        }
    }
}

impl<K: Ord + Clone> Touched<K> {
    /// Every figure of `figures` for every key of `keys` (a rebuild, a back-fill).
    pub fn all(keys: &[K], figures: &[Figure]) -> Self {
        let mut t = Self::default();
        for f in figures {
            t.keys[*f as usize].extend_from_slice(keys);
        }
        t
    }

    /// `key` may contribute differently to each of `figures` now.
    pub fn add(&mut self, key: &K, figures: &[Figure]) {
        for f in figures {
            self.keys[*f as usize].push(key.clone());
        }
    }

    /// The keys of `figure`, sorted and each once.
    fn take(&mut self, figure: Figure) -> Vec<K> {
        let mut keys = std::mem::take(&mut self.keys[figure as usize]);
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// Which counters a [`lock`] guards: the notice figures or the case figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Notices,
    Cases,
}

/// Takes the lock of `family`'s counters for the rest of the transaction (one per schema, so a
/// rebuild runs beside the live monitor). Take it before the batch's first write, so batches of
/// one family also apply their events one after another (no two transactions wait on each
/// other's rows).
pub async fn lock(tx: &mut PgConnection, family: Family) -> Result<(), sqlx::Error> {
    let name = match family {
        Family::Notices => ":monitor-projection:notices",
        Family::Cases => ":monitor-projection:cases",
    };
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || $1))",
        name
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Recomputes the notice figures of the touched notices. Needs [`Family::Notices`]' lock.
pub async fn refresh_notices(
    tx: &mut PgConnection,
    mut touched: Touched<String>,
) -> Result<(), sqlx::Error> {
    let keys = touched.take(Figure::Notices);
    if !keys.is_empty() {
        notices(tx, &keys).await?;
    }
    let keys = touched.take(Figure::RoutingTime);
    if !keys.is_empty() {
        routing_time(tx, &keys).await?;
    }
    Ok(())
}

/// Recomputes the case figures of the touched cases. Needs [`Family::Cases`]' lock.
pub async fn refresh_cases(
    tx: &mut PgConnection,
    mut touched: Touched<Uuid>,
) -> Result<(), sqlx::Error> {
    for figure in Figure::CASE {
        let cases = touched.take(figure);
        if cases.is_empty() {
            continue;
        }
        match figure {
            Figure::ClaimTime => claim_time(tx, &cases).await?,
            Figure::Opened => opened(tx, &cases).await?,
            Figure::Releases => releases(tx, &cases).await?,
            Figure::Unclaimed => unclaimed(tx, &cases).await?,
            Figure::Overdue => overdue(tx, &cases).await?,
            Figure::OpenSpoed => open_spoed(tx, &cases).await?,
            Figure::Notices | Figure::RoutingTime => {}
        }
    }
    Ok(())
}

/// Notices received, by local day of receipt, the municipality routed to ('' when none yet: it
/// counts for the region only), kind and institution.
async fn notices(tx: &mut PgConnection, keys: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH old AS (DELETE FROM c_notices WHERE entity = ANY($1)
                      RETURNING day, gemeentecode, kind, institution_code, n),
              new AS (INSERT INTO c_notices (entity, day, gemeentecode, kind, institution_code, n)
                      SELECT n.notice_key, (n.received_at AT TIME ZONE 'Europe/Amsterdam')::date,
                             COALESCE(CASE WHEN r.outcome = $2 THEN r.gemeentecode END, ''),
                             n.kind, n.institution_code, 1::bigint
                      FROM notices n LEFT JOIN routing r USING (notice_key)
                      WHERE n.notice_key = ANY($1)
                      RETURNING day, gemeentecode, kind, institution_code, n),
              delta AS (SELECT day, gemeentecode, kind, institution_code, sum(n) AS n
                        FROM (SELECT day, gemeentecode, kind, institution_code, -n AS n FROM old
                              UNION ALL
                              SELECT day, gemeentecode, kind, institution_code, n FROM new) d
                        GROUP BY day, gemeentecode, kind, institution_code HAVING sum(n) <> 0)
         INSERT INTO n_notices (level, start, gemeentecode, kind, institution_code, n)
         SELECT l.level,
                CASE l.level WHEN 'day' THEN d.day ELSE date_trunc(l.level, d.day::timestamp)::date END,
                d.gemeentecode, d.kind, d.institution_code, sum(d.n)
         FROM delta d CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS l(level)
         GROUP BY 1, 2, 3, 4, 5
         HAVING sum(d.n) <> 0
         ON CONFLICT (level, start, gemeentecode, kind, institution_code)
         DO UPDATE SET n = n_notices.n + EXCLUDED.n",
        keys,
        RoutingOutcomeKind::Routed as RoutingOutcomeKind,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Notice → routing decision, as a histogram of `monitor_bucket(seconds)`, by local day of
/// receipt and the municipality routed to.
async fn routing_time(tx: &mut PgConnection, keys: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH old AS (DELETE FROM c_routing_time WHERE entity = ANY($1)
                      RETURNING day, gemeentecode, bucket, n),
              new AS (INSERT INTO c_routing_time (entity, day, gemeentecode, bucket, n)
                      SELECT notice_key, (received_at AT TIME ZONE 'Europe/Amsterdam')::date,
                             COALESCE(CASE WHEN outcome = $2 THEN gemeentecode END, ''),
                             monitor_bucket(floor(extract(epoch FROM decided_at - received_at))::bigint),
                             1::bigint
                      FROM routing
                      WHERE notice_key = ANY($1) AND decided_at IS NOT NULL AND received_at IS NOT NULL
                      RETURNING day, gemeentecode, bucket, n),
              delta AS (SELECT day, gemeentecode, bucket, sum(n) AS n
                        FROM (SELECT day, gemeentecode, bucket, -n AS n FROM old
                              UNION ALL
                              SELECT day, gemeentecode, bucket, n FROM new) d
                        GROUP BY day, gemeentecode, bucket HAVING sum(n) <> 0)
         INSERT INTO n_routing_time (level, start, gemeentecode, bucket, n)
         SELECT l.level,
                CASE l.level WHEN 'day' THEN d.day ELSE date_trunc(l.level, d.day::timestamp)::date END,
                d.gemeentecode, d.bucket, sum(d.n)
         FROM delta d CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS l(level)
         GROUP BY 1, 2, 3, 4
         HAVING sum(d.n) <> 0
         ON CONFLICT (level, start, gemeentecode, bucket) DO UPDATE SET n = n_routing_time.n + EXCLUDED.n",
        keys,
        RoutingOutcomeKind::Routed as RoutingOutcomeKind,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Notice → first claim of one of the case's tasks, as a histogram, by local day the opening
/// notice was received.
async fn claim_time(tx: &mut PgConnection, cases: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH old AS (DELETE FROM c_claim_time WHERE entity = ANY($1)
                      RETURNING day, gemeentecode, bucket, n),
              new AS (INSERT INTO c_claim_time (entity, day, gemeentecode, bucket, n)
                      SELECT c.case_id, (c.notice_received_at AT TIME ZONE 'Europe/Amsterdam')::date,
                             c.gemeentecode,
                             monitor_bucket(floor(extract(epoch FROM min(t.at) - c.notice_received_at))::bigint),
                             1::bigint
                      FROM cases c JOIN task_claims t ON t.case_id = c.case_id AND t.held
                      WHERE c.case_id = ANY($1) AND c.notice_received_at IS NOT NULL
                      GROUP BY c.case_id, c.notice_received_at, c.gemeentecode
                      RETURNING day, gemeentecode, bucket, n),
              delta AS (SELECT day, gemeentecode, bucket, sum(n) AS n
                        FROM (SELECT day, gemeentecode, bucket, -n AS n FROM old
                              UNION ALL
                              SELECT day, gemeentecode, bucket, n FROM new) d
                        GROUP BY day, gemeentecode, bucket HAVING sum(n) <> 0)
         INSERT INTO n_claim_time (level, start, gemeentecode, bucket, n)
         SELECT l.level,
                CASE l.level WHEN 'day' THEN d.day ELSE date_trunc(l.level, d.day::timestamp)::date END,
                d.gemeentecode, d.bucket, sum(d.n)
         FROM delta d CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS l(level)
         GROUP BY 1, 2, 3, 4
         HAVING sum(d.n) <> 0
         ON CONFLICT (level, start, gemeentecode, bucket) DO UPDATE SET n = n_claim_time.n + EXCLUDED.n",
        cases,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Cases opened, and of which spoed, by local day of the first opening.
async fn opened(tx: &mut PgConnection, cases: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH old AS (DELETE FROM c_opened WHERE entity = ANY($1)
                      RETURNING day, gemeentecode, opened, spoed),
              new AS (INSERT INTO c_opened (entity, day, gemeentecode, opened, spoed)
                      SELECT case_id, (first_opened_at AT TIME ZONE 'Europe/Amsterdam')::date,
                             gemeentecode, 1::bigint, spoed::int::bigint
                      FROM cases WHERE case_id = ANY($1) AND first_opened_at IS NOT NULL
                      RETURNING day, gemeentecode, opened, spoed),
              delta AS (SELECT day, gemeentecode, sum(opened) AS opened, sum(spoed) AS spoed
                        FROM (SELECT day, gemeentecode, -opened AS opened, -spoed AS spoed FROM old
                              UNION ALL
                              SELECT day, gemeentecode, opened, spoed FROM new) d
                        GROUP BY day, gemeentecode HAVING sum(opened) <> 0 OR sum(spoed) <> 0)
         INSERT INTO n_opened (level, start, gemeentecode, opened, spoed)
         SELECT l.level,
                CASE l.level WHEN 'day' THEN d.day ELSE date_trunc(l.level, d.day::timestamp)::date END,
                d.gemeentecode, sum(d.opened), sum(d.spoed)
         FROM delta d CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS l(level)
         GROUP BY 1, 2, 3
         HAVING sum(d.opened) <> 0 OR sum(d.spoed) <> 0
         ON CONFLICT (level, start, gemeentecode)
         DO UPDATE SET opened = n_opened.opened + EXCLUDED.opened, spoed = n_opened.spoed + EXCLUDED.spoed",
        cases,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Per released case: per condition where it stood at the end of the release day (a task with
/// no status before then was unknown), and whether and how many conditions were open then, by
/// release day. Cases closed for one of [`NOT_A_RELEASE`] are not releases of this region. One
/// statement for both figures, so the statuses at release are looked up once.
async fn releases(tx: &mut PgConnection, cases: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH released AS (
                  SELECT case_id, gemeentecode, release_on,
                         (release_on + 1)::timestamp AT TIME ZONE 'Europe/Amsterdam' AS release_end
                  FROM cases
                  WHERE case_id = ANY($1) AND first_opened_at IS NOT NULL AND release_on IS NOT NULL
                    AND NOT (closed AND close_reason = ANY($2))),
              at_release AS (
                  SELECT DISTINCT ON (r.case_id, s.condition)
                         r.case_id, r.release_on AS day, r.gemeentecode, s.condition,
                         CASE WHEN s.at < r.release_end THEN s.status ELSE $3 END AS status
                  FROM released r JOIN task_statuses s ON s.case_id = r.case_id
                  ORDER BY r.case_id, s.condition, (s.at < r.release_end) DESC, s.at DESC, s.event_id DESC),
              old AS (DELETE FROM c_at_release WHERE entity = ANY($1)
                      RETURNING day, gemeentecode, condition, status, n),
              new AS (INSERT INTO c_at_release (entity, day, gemeentecode, condition, status, n)
                      SELECT case_id, day, gemeentecode, condition, status, 1::bigint FROM at_release
                      RETURNING day, gemeentecode, condition, status, n),
              delta AS (SELECT day, gemeentecode, condition, status, sum(n) AS n
                        FROM (SELECT day, gemeentecode, condition, status, -n AS n FROM old
                              UNION ALL
                              SELECT day, gemeentecode, condition, status, n FROM new) d
                        GROUP BY day, gemeentecode, condition, status HAVING sum(n) <> 0),
              counted AS (
                  INSERT INTO n_at_release (level, start, gemeentecode, condition, status, n)
                  SELECT l.level,
                         CASE l.level WHEN 'day' THEN d.day ELSE date_trunc(l.level, d.day::timestamp)::date END,
                         d.gemeentecode, d.condition, d.status, sum(d.n)
                  FROM delta d CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS l(level)
                  GROUP BY 1, 2, 3, 4, 5
                  HAVING sum(d.n) <> 0
                  ON CONFLICT (level, start, gemeentecode, condition, status)
                  DO UPDATE SET n = n_at_release.n + EXCLUDED.n),
              old_releases AS (DELETE FROM c_releases WHERE entity = ANY($1)
                      RETURNING day, gemeentecode, released, with_open, open_conditions),
              new_releases AS (INSERT INTO c_releases (entity, day, gemeentecode, released, with_open, open_conditions)
                      SELECT case_id, day, gemeentecode, 1::bigint,
                             (count(*) FILTER (WHERE status <> ALL($4)) > 0)::int::bigint,
                             count(*) FILTER (WHERE status <> ALL($4))
                      FROM at_release GROUP BY 1, 2, 3
                      RETURNING day, gemeentecode, released, with_open, open_conditions),
              delta_releases AS (SELECT day, gemeentecode, sum(released) AS released,
                               sum(with_open) AS with_open, sum(open_conditions) AS open_conditions
                        FROM (SELECT day, gemeentecode, -released AS released, -with_open AS with_open,
                                     -open_conditions AS open_conditions FROM old_releases
                              UNION ALL
                              SELECT day, gemeentecode, released, with_open, open_conditions FROM new_releases) d
                        GROUP BY day, gemeentecode
                        HAVING sum(released) <> 0 OR sum(with_open) <> 0 OR sum(open_conditions) <> 0)
         INSERT INTO n_releases (level, start, gemeentecode, released, with_open, open_conditions)
         SELECT l.level,
                CASE l.level WHEN 'day' THEN d.day ELSE date_trunc(l.level, d.day::timestamp)::date END,
                d.gemeentecode, sum(d.released), sum(d.with_open), sum(d.open_conditions)
         FROM delta_releases d CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS l(level)
         GROUP BY 1, 2, 3
         HAVING sum(d.released) <> 0 OR sum(d.with_open) <> 0 OR sum(d.open_conditions) <> 0
         ON CONFLICT (level, start, gemeentecode)
         DO UPDATE SET released = n_releases.released + EXCLUDED.released,
                       with_open = n_releases.with_open + EXCLUDED.with_open,
                       open_conditions = n_releases.open_conditions + EXCLUDED.open_conditions",
        cases,
        &NOT_A_RELEASE as &[CloseReason],
        ConditionStatus::Unknown as ConditionStatus,
        &SETTLED as &[ConditionStatus],
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Open cases without a claim since they were (last) opened, by local day of that opening: the
/// request turns the day into an age in working days.
async fn unclaimed(tx: &mut PgConnection, cases: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH old AS (DELETE FROM c_unclaimed WHERE entity = ANY($1)
                      RETURNING gemeentecode, opened_on, n),
              new AS (INSERT INTO c_unclaimed (entity, gemeentecode, opened_on, n)
                      SELECT c.case_id, c.gemeentecode,
                             (c.opened_at AT TIME ZONE 'Europe/Amsterdam')::date, 1::bigint
                      FROM cases c
                      WHERE c.case_id = ANY($1) AND c.opened_at IS NOT NULL AND NOT c.closed
                        AND NOT EXISTS (SELECT 1 FROM task_claims t
                                        WHERE t.case_id = c.case_id AND t.held AND t.at >= c.opened_at)
                      RETURNING gemeentecode, opened_on, n),
              delta AS (SELECT gemeentecode, opened_on, sum(n) AS n
                        FROM (SELECT gemeentecode, opened_on, -n AS n FROM old
                              UNION ALL
                              SELECT gemeentecode, opened_on, n FROM new) d
                        GROUP BY gemeentecode, opened_on HAVING sum(n) <> 0)
         INSERT INTO n_unclaimed (gemeentecode, opened_on, n)
         SELECT gemeentecode, opened_on, n FROM delta
         ON CONFLICT (gemeentecode, opened_on) DO UPDATE SET n = n_unclaimed.n + EXCLUDED.n",
        cases,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Open tasks (not [`SETTLED`]) of open cases with a due date, by that date: the request counts
/// those past it.
async fn overdue(tx: &mut PgConnection, cases: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH status AS (
                  SELECT DISTINCT ON (case_id, condition) case_id, condition, status
                  FROM task_statuses WHERE case_id = ANY($1)
                  ORDER BY case_id, condition, at DESC, event_id DESC),
              due AS (
                  SELECT DISTINCT ON (case_id, condition) case_id, condition, due_on
                  FROM task_dues WHERE case_id = ANY($1)
                  ORDER BY case_id, condition, at DESC, event_id DESC),
              old AS (DELETE FROM c_overdue WHERE entity = ANY($1)
                      RETURNING gemeentecode, due_on, n),
              new AS (INSERT INTO c_overdue (entity, gemeentecode, due_on, n)
                      SELECT c.case_id, c.gemeentecode, due.due_on, count(*)
                      FROM due JOIN status USING (case_id, condition) JOIN cases c USING (case_id)
                      WHERE c.opened_at IS NOT NULL AND NOT c.closed AND due.due_on IS NOT NULL
                        AND status.status <> ALL($2)
                      GROUP BY 1, 2, 3
                      RETURNING gemeentecode, due_on, n),
              delta AS (SELECT gemeentecode, due_on, sum(n) AS n
                        FROM (SELECT gemeentecode, due_on, -n AS n FROM old
                              UNION ALL
                              SELECT gemeentecode, due_on, n FROM new) d
                        GROUP BY gemeentecode, due_on HAVING sum(n) <> 0)
         INSERT INTO n_overdue (gemeentecode, due_on, n)
         SELECT gemeentecode, due_on, n FROM delta
         ON CONFLICT (gemeentecode, due_on) DO UPDATE SET n = n_overdue.n + EXCLUDED.n",
        cases,
        &SETTLED as &[ConditionStatus],
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Open spoed cases, per municipality.
async fn open_spoed(tx: &mut PgConnection, cases: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH old AS (DELETE FROM c_open_spoed WHERE entity = ANY($1) RETURNING gemeentecode, n),
              new AS (INSERT INTO c_open_spoed (entity, gemeentecode, n)
                      SELECT case_id, gemeentecode, 1::bigint FROM cases
                      WHERE case_id = ANY($1) AND opened_at IS NOT NULL AND NOT closed AND spoed
                      RETURNING gemeentecode, n),
              delta AS (SELECT gemeentecode, sum(n) AS n
                        FROM (SELECT gemeentecode, -n AS n FROM old
                              UNION ALL
                              SELECT gemeentecode, n FROM new) d
                        GROUP BY gemeentecode HAVING sum(n) <> 0)
         INSERT INTO n_open_spoed (gemeentecode, n)
         SELECT gemeentecode, n FROM delta
         ON CONFLICT (gemeentecode) DO UPDATE SET n = n_open_spoed.n + EXCLUDED.n",
        cases,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
