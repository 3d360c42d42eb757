//! `rcn bench --monitor-scale N`: the dashboard's figures over N synthetic cases.
//!
//! 1. **Back-fill**: fills schema `monitor_scale` (replaced on every run) with N cases' history
//!    rows, set-based, spread over the last year and the municipalities of Kennemerland: per case
//!    a notice, a routing decision, five task statuses at opening and one change, a claim for
//!    most, due dates, and some closures.
//! 2. **Counters**: the projections' own refresh ([`crate::counters`]) over every seeded notice
//!    and case, in chunks, as after a rebuild: entities per second.
//! 3. **Catch-up**: 3 000 more notices as events (accepted, routed, case opened, a claim)
//!    through the live handlers, in batches of the consumer's size: notices per second, to set
//!    beside the back-fill rate of `rcn bench --backfill` (that is how fast they arrive).
//! 4. **Queries**: each dashboard query alone and the whole figures request, for the region
//!    and for one municipality, by month over a year and by week over a quarter; p50 and p95,
//!    beside a raw baseline measured in the same run (`SELECT count(*) FROM cases`).
//!
//! Measured without the NATS hop: the database work and the aggregation.

use std::time::{Duration, Instant};

use chrono::Utc;
use rcn_contracts::Gemeentecode;
use rcn_contracts::monitor_api::Granularity;
use rcn_contracts::region::RegionTable;
use rcn_runtime::Config;

use crate::counters::{Family, Figure, Touched};
use crate::figures::{self, Period, Scope};
use crate::{MIGRATIONS, Settings};

/// The schema the synthetic read models live in.
const SCHEMA: &str = "monitor_scale";
/// Figures requests measured per variant, unless the patience runs out first.
const ROUNDS: usize = 20;
const PATIENCE: Duration = Duration::from_secs(60);

/// Notices sent through the handlers to measure the catch-up.
const CATCH_UP: usize = 3_000;
/// Entities per counters refresh when counting the back-fill.
const CHUNK: i64 = 5_000;

/// What one query measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub what: &'static str,
    pub query: &'static str,
    pub calls: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// Runs `round` up to [`ROUNDS`] times (fewer when patience runs out); p50 and p95 per query it
/// times.
async fn measure<F, Fut>(round: F) -> anyhow::Result<Vec<Measured>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Vec<(&'static str, Duration)>>>,
{
    let mut times: Vec<(&'static str, Vec<f64>)> = Vec::new();
    let began = Instant::now();
    let mut rounds = 0;
    while rounds < ROUNDS && (rounds < 3 || began.elapsed() < PATIENCE) {
        for (i, (query, d)) in round().await?.into_iter().enumerate() {
            if times.len() <= i {
                times.push((query, Vec::new()));
            }
            times[i].1.push(d.as_secs_f64() * 1000.0);
        }
        rounds += 1;
    }
    Ok(times
        .into_iter()
        .map(|(query, mut ms)| {
            ms.sort_by(f64::total_cmp);
            let pct = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
            Measured {
                what: "",
                query,
                calls: ms.len(),
                p50_ms: pct(0.5),
                p95_ms: pct(0.95),
            }
        })
        .collect())
}

fn report(measured: &[Measured], base_p95: f64) {
    for m in measured {
        println!(
            "{:<42} {:>4} calls  p50 {:>8.1} ms  p95 {:>8.1} ms  p95/baseline {:>6.2}",
            m.query,
            m.calls,
            m.p50_ms,
            m.p95_ms,
            m.p95_ms / base_p95.max(0.001)
        );
    }
}

/// The counters of every seeded notice and case, by the projections' own refresh.
async fn count_everything(pool: &sqlx::PgPool) -> anyhow::Result<u64> {
    let keys = sqlx::query_scalar!("SELECT notice_key FROM notices ORDER BY 1")
        .fetch_all(pool)
        .await?;
    for chunk in keys.chunks(CHUNK as usize) {
        let mut tx = pool.begin().await?;
        crate::counters::lock(&mut tx, Family::Notices).await?;
        crate::counters::refresh_notices(&mut tx, Touched::all(chunk, &Figure::NOTICE)).await?;
        tx.commit().await?;
    }
    let cases = sqlx::query_scalar!("SELECT case_id FROM cases ORDER BY 1")
        .fetch_all(pool)
        .await?;
    for chunk in cases.chunks(CHUNK as usize) {
        let mut tx = pool.begin().await?;
        crate::counters::lock(&mut tx, Family::Cases).await?;
        crate::counters::refresh_cases(&mut tx, Touched::all(chunk, &Figure::CASE)).await?;
        tx.commit().await?;
    }
    sqlx::query!("ANALYZE").execute(pool).await?;
    Ok((keys.len() + cases.len()) as u64)
}

/// Sends `n` new notices' events through the live handlers, in batches of the live consumers'
/// size (a back-fill keeps them full); notices per second.
async fn catch_up(pool: &sqlx::PgPool, config: &Config, n: usize) -> anyhow::Result<f64> {
    use rcn_contracts::casework_events::{AssignmentChange, TaskAssigned};
    use rcn_contracts::events::{
        CaseOpened, ConditionState, NoticeAccepted, NoticeRouted, RoutingOutcome, RoutingRule,
    };
    use rcn_contracts::{Condition, ConditionStatus, SCHEMA_VERSION};
    use rcn_runtime::consumer::{Delivery, Handler};
    use uuid::Uuid;

    let subjects = config.region.subjects();
    let handlers = crate::read_models::Handlers::new(pool.clone(), &subjects);
    let codes = RegionTable::kennemerland()
        .municipalities
        .iter()
        .map(|m| m.code.clone())
        .collect::<Vec<_>>();
    let delivery = |subject: String, message: serde_json::Value, seq: u64| Delivery {
        message,
        subject,
        msg_id: None,
        trace: rcn_runtime::trace_context::TraceContext::new_root(),
        delivered: 1,
        stream_sequence: seq,
        published_at: Utc::now(),
    };
    let (mut notices, mut routed, mut cases) = (Vec::new(), Vec::new(), Vec::new());
    let base = Utc::now() - chrono::Duration::days(30);
    for i in 0..n {
        let gm = codes[i % codes.len()].clone();
        let received = base + chrono::Duration::seconds(i as i64 * 97);
        let key = format!("CATCHUP:{i}");
        let mut notice = rcn_contracts::examples::release_notice();
        notice.notice_id = format!("CATCHUP-{i}");
        let accepted = NoticeAccepted {
            schema_version: SCHEMA_VERSION,
            notice_key: key.clone(),
            received_at: received,
            person_key: format!("p{i}"),
            episode_key: format!("e{i}"),
            notice: notice.clone(),
            forwarded_from: None,
        };
        notices.push(delivery(
            subjects.notice_accepted(),
            serde_json::to_value(&accepted)?,
            i as u64,
        ));
        let decision = NoticeRouted {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            notice_key: key.clone(),
            person_key: format!("p{i}"),
            episode_key: format!("e{i}"),
            outcome: RoutingOutcome::Routed {
                gemeentecode: gm.clone(),
            },
            rule: RoutingRule::BrpRegistration,
            reason: String::new(),
            ambiguous: false,
            decided_at: received + chrono::Duration::seconds(30 + (i % 600) as i64),
            received_at: received,
            notice,
        };
        routed.push(delivery(
            subjects.routed(&gm),
            serde_json::to_value(&decision)?,
            i as u64,
        ));
        let case_id = Uuid::now_v7();
        let opened_at = received + chrono::Duration::seconds(60 + (i % 600) as i64);
        let opened = CaseOpened {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id,
            episode_key: format!("e{i}"),
            gemeentecode: gm.clone(),
            notice_key: key,
            expected_release_on: Some((received + chrono::Duration::days(20)).date_naive()),
            spoed: i % 9 == 0,
            conditions: Condition::DEFAULT
                .into_iter()
                .map(|condition| ConditionState {
                    condition,
                    status: ConditionStatus::Unknown,
                })
                .collect(),
            opened_at,
            notice_received_at: received,
            person_key: None,
        };
        cases.push(delivery(
            subjects.case_opened(&gm),
            serde_json::to_value(&opened)?,
            2 * i as u64,
        ));
        let claim = TaskAssigned {
            schema_version: SCHEMA_VERSION,
            event_id: Uuid::now_v7(),
            case_id,
            episode_key: format!("e{i}"),
            gemeentecode: gm.clone(),
            condition: Condition::DEFAULT[i % 5],
            change: AssignmentChange::Claimed,
            previous_holder: None,
            holder: Some("medewerker".into()),
            by: "medewerker".into(),
            at: opened_at + chrono::Duration::hours(3),
        };
        cases.push(delivery(
            subjects.task_assigned(&gm),
            serde_json::to_value(&claim)?,
            2 * i as u64 + 1,
        ));
    }
    let notices: Vec<Delivery<crate::read_models::notices::Accepted>> = notices
        .into_iter()
        .map(|d| {
            Ok(Delivery {
                message: serde_json::from_value(d.message)?,
                subject: d.subject,
                msg_id: d.msg_id,
                trace: d.trace,
                delivered: d.delivered,
                stream_sequence: d.stream_sequence,
                published_at: d.published_at,
            })
        })
        .collect::<Result<_, serde_json::Error>>()?;
    // The live consumers' batch: as large as what is ready, up to this.
    let batch = crate::read_models::Feed::Cases
        .spec(&subjects, config)
        .batch
        .max(1);
    let started = Instant::now();
    // The three feeds run side by side, as the live consumers do.
    let (a, b, c) = tokio::join!(
        async {
            for chunk in notices.chunks(batch) {
                handlers.notices.handle(chunk).await?;
            }
            Ok::<_, rcn_runtime::consumer::HandlerError>(())
        },
        async {
            for chunk in routed.chunks(batch) {
                handlers.routing.handle(chunk).await?;
            }
            Ok::<_, rcn_runtime::consumer::HandlerError>(())
        },
        async {
            for chunk in cases.chunks(batch) {
                handlers.cases.handle(chunk).await?;
            }
            Ok::<_, rcn_runtime::consumer::HandlerError>(())
        },
    );
    for r in [a, b, c] {
        r.map_err(|e| anyhow::anyhow!("a handler failed: {e}"))?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
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
    let seeded = started.elapsed().as_secs_f64();
    println!(
        "monitor_scale: back-filled {cases} cases ({} history rows) in {seeded:.1} s: {:.0} cases/s",
        cases * 12,
        cases as f64 / seeded
    );
    let started = Instant::now();
    let entities = count_everything(&pool).await?;
    let counted = started.elapsed().as_secs_f64();
    println!(
        "monitor_scale: counters over {entities} notices and cases in {counted:.1} s: {:.0} per s",
        entities as f64 / counted
    );
    let catch_up = catch_up(&pool, config, CATCH_UP).await?;
    println!(
        "monitor_scale: projection catch-up {CATCH_UP} notices ({} events) through the handlers: {catch_up:.0} notices/s (back-fill of `rcn bench --backfill`: compare its notices/s)",
        CATCH_UP * 4
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
    let region_scope = Scope {
        gemeentecode: None,
        regional: true,
    };
    let haarlem_scope = Scope {
        gemeentecode: haarlem,
        regional: false,
    };
    let quarter = Period {
        granularity: Granularity::Week,
        from: today - chrono::Days::new(91),
        to: today,
    };
    let variants = [
        ("region, 12 months", region_scope.clone(), period),
        ("one municipality, 12 months", haarlem_scope.clone(), period),
        ("region, 13 weeks", region_scope, quarter),
        ("one municipality, 13 weeks", haarlem_scope, quarter),
    ];
    let baseline = measure(|| async {
        let t = Instant::now();
        sqlx::query_scalar!("SELECT count(*) FROM cases")
            .fetch_one(&pool)
            .await?;
        Ok(vec![(
            "raw baseline: SELECT count(*) FROM cases",
            t.elapsed(),
        )])
    })
    .await?;
    let base_p95 = baseline[0].p95_ms;
    report(&baseline, base_p95);
    let mut out = Vec::new();
    for (what, scope, period) in variants {
        println!("-- {what}");
        let measured = measure(|| async {
            let mut each =
                figures::time_each(&pool, &region, &settings, period, &scope, now).await?;
            let t = Instant::now();
            figures::compute(&pool, &region, &settings, period, &scope, now).await?;
            each.push(("whole figures request", t.elapsed()));
            Ok(each)
        })
        .await?;
        report(&measured, base_p95);
        out.extend(measured.into_iter().map(|m| Measured { what, ..m }));
    }
    let worst = out.iter().map(|m| m.p95_ms).fold(0.0, f64::max);
    println!(
        "monitor_scale_cases={cases} worst_figures_p95_ms={worst:.1} baseline_p95_ms={base_p95:.1} catch_up_notices_per_s={catch_up:.0}"
    );
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
    // Runtime SQL: the synthetic seed is assembled from shared fragments (codes, times, ids) and
    // touches no table a figure reads other than through the projections' own refresh.
    for sql in statements {
        sqlx::query(&sql).bind(n).execute(pool).await?;
    }
    sqlx::query!("ANALYZE").execute(pool).await?;
    Ok(())
}
