//! The pre-aggregated figures (`migrations/0003_figure_counters.sql`): after a batch of events is
//! applied, [`refresh`] recomputes what each touched notice or case contributes to every figure
//! and adds the difference to the counters, in the batch's transaction. A figures request then
//! reads only the counters ([`crate::figures`]).
//!
//! Correct only when one transaction at a time refreshes: [`lock`] serialises the projections
//! (they share notices, and a case may be touched by two batches at once). It must never count
//! anything personal: keys of the contributions are days, codes, statuses and buckets.

use sqlx::PgConnection;
use uuid::Uuid;

/// One figure: its contribution table `c_<name>` and counter table `n_<name>`.
struct Figure {
    name: &'static str,
    /// Key columns; a leveled figure's first key is `day`.
    keys: &'static [&'static str],
    measures: &'static [&'static str],
    /// Kept per day, week and month (`level`, `start`) rather than by its keys alone.
    leveled: bool,
    /// `SELECT entity, keys…, measures…` for the entities in `$1`.
    compute: &'static str,
}

/// The local date of a timestamp, where the RCN works.
macro_rules! local {
    ($col:literal) => {
        concat!("(", $col, " AT TIME ZONE 'Europe/Amsterdam')::date")
    };
}

/// Per released case and condition: where it stood at the end of the release day (a task with no
/// status before then was unknown). Cases closed as cancelled, duplicate or moved out of the
/// region are not releases of this region.
const AT_RELEASE: &str = "
    WITH released AS (
        SELECT case_id, gemeentecode, release_on,
               (release_on + 1)::timestamp AT TIME ZONE 'Europe/Amsterdam' AS release_end
        FROM cases
        WHERE case_id = ANY($1) AND first_opened_at IS NOT NULL AND release_on IS NOT NULL
          AND NOT (closed AND close_reason IN ('cancelled', 'duplicate', 'moved_out_of_region')))
    SELECT DISTINCT ON (r.case_id, s.condition)
           r.case_id, r.release_on AS day, r.gemeentecode, s.condition,
           CASE WHEN s.at < r.release_end THEN s.status ELSE 'unknown' END AS status
    FROM released r JOIN task_statuses s ON s.case_id = r.case_id
    ORDER BY r.case_id, s.condition, (s.at < r.release_end) DESC, s.at DESC, s.event_id DESC";

const NOTICE_FIGURES: &[Figure] = &[
    Figure {
        name: "notices",
        keys: &["day", "gemeentecode", "kind", "institution_code"],
        measures: &["n"],
        leveled: true,
        compute: concat!(
            "SELECT n.notice_key, ",
            local!("n.received_at"),
            ", COALESCE(CASE WHEN r.outcome = 'routed' THEN r.gemeentecode END, ''),
               n.kind, n.institution_code, 1::bigint
             FROM notices n LEFT JOIN routing r USING (notice_key)
             WHERE n.notice_key = ANY($1)"
        ),
    },
    Figure {
        name: "routing_time",
        keys: &["day", "gemeentecode", "bucket"],
        measures: &["n"],
        leveled: true,
        compute: concat!(
            "SELECT notice_key, ",
            local!("received_at"),
            ", COALESCE(CASE WHEN outcome = 'routed' THEN gemeentecode END, ''),
               monitor_bucket(floor(extract(epoch FROM decided_at - received_at))::bigint),
               1::bigint
             FROM routing
             WHERE notice_key = ANY($1) AND decided_at IS NOT NULL AND received_at IS NOT NULL"
        ),
    },
];

const CASE_FIGURES: &[Figure] = &[
    Figure {
        name: "claim_time",
        keys: &["day", "gemeentecode", "bucket"],
        measures: &["n"],
        leveled: true,
        compute: concat!(
            "SELECT c.case_id, ",
            local!("c.notice_received_at"),
            ", c.gemeentecode,
               monitor_bucket(floor(extract(epoch FROM min(t.at) - c.notice_received_at))::bigint),
               1::bigint
             FROM cases c JOIN task_claims t ON t.case_id = c.case_id AND t.held
             WHERE c.case_id = ANY($1) AND c.notice_received_at IS NOT NULL
             GROUP BY c.case_id, c.notice_received_at, c.gemeentecode"
        ),
    },
    Figure {
        name: "opened",
        keys: &["day", "gemeentecode"],
        measures: &["opened", "spoed"],
        leveled: true,
        compute: concat!(
            "SELECT case_id, ",
            local!("first_opened_at"),
            ", gemeentecode, 1::bigint, spoed::int::bigint
             FROM cases WHERE case_id = ANY($1) AND first_opened_at IS NOT NULL"
        ),
    },
    Figure {
        name: "at_release",
        keys: &["day", "gemeentecode", "condition", "status"],
        measures: &["n"],
        leveled: true,
        compute: "SELECT case_id, day, gemeentecode, condition, status, 1::bigint FROM (",
    },
    Figure {
        name: "releases",
        keys: &["day", "gemeentecode"],
        measures: &["released", "with_open", "open_conditions"],
        leveled: true,
        compute: "SELECT case_id, day, gemeentecode, 1::bigint,
                         (count(*) FILTER (WHERE status NOT IN ('arranged', 'not_applicable')) > 0)::int::bigint,
                         count(*) FILTER (WHERE status NOT IN ('arranged', 'not_applicable'))
                  FROM (",
    },
    Figure {
        name: "unclaimed",
        keys: &["gemeentecode", "opened_on"],
        measures: &["n"],
        leveled: false,
        compute: concat!(
            "SELECT c.case_id, c.gemeentecode, ",
            local!("c.opened_at"),
            ", 1::bigint
             FROM cases c
             WHERE c.case_id = ANY($1) AND c.opened_at IS NOT NULL AND NOT c.closed
               AND NOT EXISTS (SELECT 1 FROM task_claims t
                               WHERE t.case_id = c.case_id AND t.held AND t.at >= c.opened_at)"
        ),
    },
    Figure {
        name: "overdue",
        keys: &["gemeentecode", "due_on"],
        measures: &["n"],
        leveled: false,
        compute: "WITH status AS (
                      SELECT DISTINCT ON (case_id, condition) case_id, condition, status
                      FROM task_statuses WHERE case_id = ANY($1)
                      ORDER BY case_id, condition, at DESC, event_id DESC),
                  due AS (
                      SELECT DISTINCT ON (case_id, condition) case_id, condition, due_on
                      FROM task_dues WHERE case_id = ANY($1)
                      ORDER BY case_id, condition, at DESC, event_id DESC)
                  SELECT c.case_id, c.gemeentecode, due.due_on, count(*)
                  FROM due JOIN status USING (case_id, condition) JOIN cases c USING (case_id)
                  WHERE c.opened_at IS NOT NULL AND NOT c.closed AND due.due_on IS NOT NULL
                    AND status.status NOT IN ('arranged', 'not_applicable')
                  GROUP BY 1, 2, 3",
    },
    Figure {
        name: "open_spoed",
        keys: &["gemeentecode"],
        measures: &["n"],
        leveled: false,
        compute: "SELECT case_id, gemeentecode, 1::bigint FROM cases
                  WHERE case_id = ANY($1) AND opened_at IS NOT NULL AND NOT closed AND spoed",
    },
];

/// The full `SELECT` of a figure's contributions (the two at-release figures share one query).
fn compute_sql(f: &Figure) -> String {
    match f.name {
        "at_release" => format!("{}{AT_RELEASE}) s", f.compute),
        "releases" => format!("{}{AT_RELEASE}) s GROUP BY 1, 2, 3", f.compute),
        _ => f.compute.to_owned(),
    }
}

/// One statement: replace the entities' contributions and add new minus old to the counters.
fn refresh_sql(f: &Figure) -> String {
    let cols = [f.keys, f.measures].concat().join(", ");
    let keys = f.keys.join(", ");
    let sums = f
        .measures
        .iter()
        .map(|m| format!("sum({m}) AS {m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let negated = f
        .measures
        .iter()
        .map(|m| format!("-{m} AS {m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let nonzero = f
        .measures
        .iter()
        .map(|m| format!("sum({m}) <> 0"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let add = f
        .measures
        .iter()
        .map(|m| format!("{m} = n_{0}.{m} + EXCLUDED.{m}", f.name))
        .collect::<Vec<_>>()
        .join(", ");
    let delta = format!(
        "WITH old AS (DELETE FROM c_{name} WHERE entity = ANY($1) RETURNING {cols}),
              new AS (INSERT INTO c_{name} (entity, {cols}) {compute} RETURNING {cols}),
              delta AS (SELECT {keys}, {sums}
                        FROM (SELECT {keys}, {negated} FROM old UNION ALL SELECT {cols} FROM new) d
                        GROUP BY {keys} HAVING {nonzero})",
        name = f.name,
        compute = compute_sql(f),
    );
    if f.leveled {
        let rest: Vec<&str> = f.keys[1..].to_vec();
        let rest_cols = rest.iter().map(|k| format!(", {k}")).collect::<String>();
        let conflict = rest_cols.clone();
        format!(
            "{delta}
             INSERT INTO n_{name} (level, start{rest_cols}, {measures})
             SELECT l.level,
                    CASE l.level WHEN 'day' THEN d.day ELSE date_trunc(l.level, d.day::timestamp)::date END{rest_d},
                    {sums}
             FROM delta d CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS l(level)
             GROUP BY 1, 2{group}
             HAVING {nonzero}
             ON CONFLICT (level, start{conflict}) DO UPDATE SET {add}",
            name = f.name,
            measures = f.measures.join(", "),
            rest_d = rest.iter().map(|k| format!(", d.{k}")).collect::<String>(),
            group = (0..rest.len())
                .map(|i| format!(", {}", i + 3))
                .collect::<String>(),
        )
    } else {
        format!(
            "{delta}
             INSERT INTO n_{name} ({keys}, {measures})
             SELECT {keys}, {measures} FROM delta
             ON CONFLICT ({keys}) DO UPDATE SET {add}",
            name = f.name,
            measures = f.measures.join(", "),
        )
    }
}

/// Takes the projections' lock for the rest of the transaction (one per schema, so a rebuild
/// runs beside the live monitor).
pub async fn lock(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':monitor-projection'))",
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Recomputes the notice figures of `keys` (deduplicated by the caller or not).
pub async fn refresh_notices(tx: &mut PgConnection, keys: &[String]) -> Result<(), sqlx::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    for f in NOTICE_FIGURES {
        sqlx::query(&refresh_sql(f))
            .bind(keys)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Recomputes the case figures of `cases`.
pub async fn refresh_cases(tx: &mut PgConnection, cases: &[Uuid]) -> Result<(), sqlx::Error> {
    if cases.is_empty() {
        return Ok(());
    }
    for f in CASE_FIGURES {
        sqlx::query(&refresh_sql(f))
            .bind(cases)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_names_its_own_tables_and_every_key() {
        for f in NOTICE_FIGURES.iter().chain(CASE_FIGURES) {
            let sql = refresh_sql(f);
            assert!(sql.contains(&format!("c_{}", f.name)), "{sql}");
            assert!(sql.contains(&format!("n_{}", f.name)), "{sql}");
            assert_eq!(f.leveled, f.keys[0] == "day", "{}", f.name);
        }
    }
}
