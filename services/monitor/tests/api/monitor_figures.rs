//! Each figure from the hand-built December of `story.rs`, with the answers worked out by hand;
//! and nothing personal in any output.

use rcn_contracts::monitor_api::{
    AgeCount, Backlog, CasesOpened, ConditionAtRelease, DurationFigure, Figures, ForwardBacklog,
    IcoClosures, IcoFlow, MunicipalCount, NoticeCount, OverdueTasks, ReleaseSummary, TriageBacklog,
    TriageOutcomes, UnclaimedCases, csv,
};
use rcn_contracts::procesregie_api::IcoCloseReason;
use rcn_contracts::{Condition, Gemeentecode, NoticeKind};
use rcn_monitor::figures::Scope;

use crate::helpers::{TestMonitor, day, region};
use crate::story::{self, BEVERWIJK, HAARLEM, VELSEN};

fn gm(code: &str) -> Option<Gemeentecode> {
    Some(Gemeentecode::parse(code).expect("a valid code"))
}

fn settings() -> rcn_monitor::Settings {
    rcn_monitor::Settings {
        unclaimed_after_working_days: 1,
        ..Default::default()
    }
}

async fn december() -> (TestMonitor, story::Story) {
    let monitor = TestMonitor::spawn(settings()).await;
    let story = story::december(&monitor.subjects);
    monitor.publish(&story.messages).await;
    monitor.wait_until_settled().await;
    (monitor, story)
}

fn duration(
    period: &str,
    code: Option<Gemeentecode>,
    count: u64,
    p50: i64,
    p90: i64,
) -> DurationFigure {
    DurationFigure {
        period: day(period),
        gemeentecode: code,
        count,
        p50_seconds: p50,
        p90_seconds: p90,
    }
}

/// Checks every figure of the December story against the answers worked out by hand.
pub fn assert_december(f: &Figures) {
    let dec = "2026-12-01";
    // Notices: a notice counts for the municipality it was routed to, and always for the region.
    let notices = |period: &str, code: Option<Gemeentecode>, kind, institution: &str| {
        f.notices_received
            .iter()
            .find(|n| {
                n.period == day(period)
                    && n.gemeentecode == code
                    && n.kind == kind
                    && n.institution_code == institution
            })
            .map(|n| n.count)
    };
    assert_eq!(
        notices("2026-11-01", None, NoticeKind::ReleasePlanned, "PI-HAARLEM"),
        Some(1)
    );
    assert_eq!(
        notices(dec, None, NoticeKind::ReleasePlanned, "PI-HAARLEM"),
        Some(6)
    );
    assert_eq!(
        notices(dec, None, NoticeKind::DetentionStarted, "PI-HAARLEM"),
        Some(1)
    );
    assert_eq!(
        notices(dec, None, NoticeKind::Update, "PI-ZAANDAM"),
        Some(1)
    );
    assert_eq!(
        notices(dec, gm(HAARLEM), NoticeKind::ReleasePlanned, "PI-HAARLEM"),
        Some(1)
    );
    assert_eq!(
        notices(dec, gm(HAARLEM), NoticeKind::DetentionStarted, "PI-HAARLEM"),
        Some(1)
    );
    assert_eq!(
        notices(dec, gm(VELSEN), NoticeKind::Update, "PI-ZAANDAM"),
        Some(1)
    );
    assert_eq!(
        notices(dec, gm(BEVERWIJK), NoticeKind::ReleasePlanned, "PI-HAARLEM"),
        Some(1)
    );
    let total: u64 = f
        .notices_received
        .iter()
        .filter(|n| n.gemeentecode.is_none())
        .map(|n| n.count)
        .sum();
    assert_eq!(total, 9, "N0..N8, each once");

    // Notice → routing decision: Dec region [300, 300, 300, 600, 1800, 3600, 14700].
    assert_eq!(
        f.time_to_routing,
        vec![
            duration("2026-11-01", None, 1, 120, 120),
            duration("2026-11-01", gm(HAARLEM), 1, 120, 120),
            duration(dec, None, 7, 600, 14700),
            duration(dec, gm(BEVERWIJK), 1, 14700, 14700),
            duration(dec, gm(HAARLEM), 2, 600, 1800),
            duration(dec, gm(VELSEN), 1, 3600, 3600),
        ]
    );
    // Notice → first claim: C1 4800 s, C5 7200 s, C2 86400 s.
    assert_eq!(
        f.time_to_first_claim,
        vec![
            duration(dec, None, 3, 7200, 86400),
            duration(dec, gm(HAARLEM), 3, 7200, 86400),
        ]
    );

    // At release (C1 on 15 Dec, C2 on 20 Dec; C6 was cancelled, C3 and C5 are released later).
    let cond = |c: Condition, code: Option<Gemeentecode>| {
        f.conditions_at_release
            .iter()
            .find(|r| r.condition == c && r.gemeentecode == code && r.period == day(dec))
            .cloned()
            .unwrap_or_else(|| panic!("a row for {c:?} {code:?}"))
    };
    let row = |c, cases, arranged, not_applicable, open, percent| ConditionAtRelease {
        period: day(dec),
        gemeentecode: gm(HAARLEM),
        condition: c,
        cases,
        arranged,
        not_applicable,
        open,
        arranged_percent: percent,
    };
    assert_eq!(
        cond(Condition::Id, gm(HAARLEM)),
        row(Condition::Id, 2, 1, 0, 1, Some(50.0)),
        "ID arranged at 21:00 on the release day counts as arranged"
    );
    assert_eq!(
        cond(Condition::Housing, gm(HAARLEM)),
        row(Condition::Housing, 2, 1, 0, 1, Some(50.0))
    );
    assert_eq!(
        cond(Condition::Income, gm(HAARLEM)),
        row(Condition::Income, 2, 1, 0, 1, Some(50.0))
    );
    assert_eq!(
        cond(Condition::Debts, gm(HAARLEM)),
        row(Condition::Debts, 2, 0, 0, 2, Some(0.0)),
        "debts arranged the day after release were open at release"
    );
    assert_eq!(
        cond(Condition::Care, gm(HAARLEM)),
        row(Condition::Care, 2, 0, 1, 1, Some(0.0))
    );
    assert_eq!(cond(Condition::Care, None).gemeentecode, None);
    assert_eq!(
        f.conditions_at_release.len(),
        10,
        "five conditions, Haarlem and the region"
    );
    assert_eq!(
        f.releases,
        vec![
            ReleaseSummary {
                period: day(dec),
                gemeentecode: None,
                cases_released: 2,
                with_open_conditions: 2,
                open_conditions: 6
            },
            ReleaseSummary {
                period: day(dec),
                gemeentecode: gm(HAARLEM),
                cases_released: 2,
                with_open_conditions: 2,
                open_conditions: 6
            },
        ]
    );

    // Not yet picked up, in working days on Monday 28 Dec: Velsen's case of Thursday 24 Dec is 1
    // (Christmas and the weekend do not count), Beverwijk's of Friday 18 Dec is 5.
    let unclaimed = |code, ages: &[(u32, u64)]| UnclaimedCases {
        gemeentecode: code,
        count: ages.iter().map(|a| a.1).sum(),
        oldest_working_days: ages.last().map(|a| a.0).unwrap_or(0),
        by_age: ages
            .iter()
            .map(|&(working_days, count)| AgeCount {
                working_days,
                count,
            })
            .collect(),
    };
    assert_eq!(
        f.unclaimed_cases,
        vec![
            unclaimed(None, &[(1, 1), (5, 1)]),
            unclaimed(gm(BEVERWIJK), &[(5, 1)]),
            unclaimed(gm(VELSEN), &[(1, 1)]),
        ]
    );
    // Overdue: due 24 Dec → 1 working day, 20 Dec → 5, 13 Dec → 10; care is arranged now.
    let tiers = |code| OverdueTasks {
        gemeentecode: code,
        up_to_2_working_days: 1,
        from_3_to_5_working_days: 1,
        over_5_working_days: 1,
    };
    assert_eq!(f.overdue_tasks, vec![tiers(None), tiers(gm(HAARLEM))]);

    let opened = |code, opened, spoed| CasesOpened {
        period: day(dec),
        gemeentecode: code,
        opened,
        spoed,
    };
    assert_eq!(
        f.cases_opened,
        vec![
            opened(None, 6, 2),
            opened(gm(BEVERWIJK), 1, 0),
            opened(gm(HAARLEM), 4, 1),
            opened(gm(VELSEN), 1, 1)
        ]
    );
    assert_eq!(
        f.open_spoed_cases,
        vec![
            MunicipalCount {
                gemeentecode: None,
                count: 2
            },
            MunicipalCount {
                gemeentecode: gm(HAARLEM),
                count: 1
            },
            MunicipalCount {
                gemeentecode: gm(VELSEN),
                count: 1
            },
        ]
    );
    // N5 waits since 22 Dec 09:01: six days less a minute.
    let waiting = 6 * 86400 - 60;
    assert_eq!(
        f.manual_routing,
        Some(Backlog {
            waiting: 1,
            oldest_seconds: Some(waiting),
            median_seconds: Some(waiting)
        })
    );
    // N6 waits for amsterdam-amstelland since 10 Dec 09:05; N7 was acknowledged; N8 (Amsterdam,
    // no region known) is to be forwarded by hand.
    assert_eq!(
        f.forwards_unacknowledged,
        Some(vec![ForwardBacklog {
            target_region: "amsterdam-amstelland".into(),
            waiting: 1,
            oldest_seconds: 18 * 86400 - 300,
        }])
    );
    assert_eq!(f.forwards_by_hand, Some(1));
    let dead = f
        .dead_letters
        .as_ref()
        .expect("the region sees dead letters");
    let per = |service: &str| {
        dead.iter()
            .filter(|d| d.service == service)
            .map(|d| d.count)
            .sum::<u64>()
    };
    assert_eq!((per("router"), per("casework")), (2, 1));
    assert_procesregie(f);
}

/// Procesregie's figures of the December story (month, whole region).
pub fn assert_procesregie(f: &Figures) {
    let (nov, dec) = (day("2026-11-01"), day("2026-12-01"));
    // Waiting on Monday 28 Dec 09:00: A4 (Beverwijk) for 7 days and an hour, A5 (no municipality)
    // for 4 days, which counts for the region only.
    let oldest = 7 * 86400 + 3600;
    assert_eq!(
        f.triage_backlog,
        vec![
            TriageBacklog {
                gemeentecode: None,
                waiting: 2,
                oldest_seconds: oldest
            },
            TriageBacklog {
                gemeentecode: gm(BEVERWIJK),
                waiting: 1,
                oldest_seconds: oldest
            },
        ]
    );
    let outcomes =
        |period, gemeentecode, [ico, advice, local_table, not_accepted]: [u64; 4]| TriageOutcomes {
            period,
            gemeentecode,
            ico,
            advice,
            local_table,
            not_accepted,
        };
    assert_eq!(
        f.triage_outcomes,
        vec![
            outcomes(nov, None, [0, 0, 0, 1]),
            outcomes(nov, gm(HAARLEM), [0, 0, 0, 1]),
            outcomes(dec, None, [2, 1, 1, 0]),
            outcomes(dec, gm(HAARLEM), [2, 0, 0, 0]),
            outcomes(dec, gm(VELSEN), [0, 1, 1, 0]),
        ]
    );
    // I1 opened 1 Dec and closed 22 Dec; I2 opened 15 Dec, still open.
    let flow = |gemeentecode, opened, closed| IcoFlow {
        period: dec,
        gemeentecode,
        opened,
        closed,
    };
    assert_eq!(f.icos, vec![flow(None, 2, 1), flow(gm(HAARLEM), 2, 1)]);
    let closed = |gemeentecode| IcoClosures {
        period: dec,
        gemeentecode,
        reason: IcoCloseReason::GoalReached,
        count: 1,
    };
    assert_eq!(f.ico_closures, vec![closed(None), closed(gm(HAARLEM))]);
    assert_eq!(
        f.icos_open,
        vec![
            MunicipalCount {
                gemeentecode: None,
                count: 1
            },
            MunicipalCount {
                gemeentecode: gm(HAARLEM),
                count: 1
            },
        ]
    );
}

#[tokio::test]
async fn every_figure_of_a_hand_built_december_has_its_known_answer() {
    let (mut monitor, _story) = december().await;
    let f = monitor.figures(story::now(), region()).await;
    assert_december(&f);
    monitor.stop().await;
}

/// The percentiles of a duration figure, computed by the database from the histogram's buckets:
/// nearest rank `ceil(p × count)`, answered with the lower bound of the bucket holding it.
#[tokio::test]
async fn percentiles_are_the_bucket_holding_the_nearest_rank() {
    use chrono::Duration;
    use rcn_contracts::events::RoutingOutcome;
    use rcn_contracts::monitor_api::Granularity;
    use rcn_monitor::figures::Period;

    let mut monitor = TestMonitor::spawn(settings()).await;
    let mut st = story::Story::new(&monitor.subjects);
    // (received, municipality or None for out of region, seconds to the decision, how many):
    // buckets 5, 45, 30 (counted for the region only), 120, 7 200 and 259 200 (3 days).
    let routings: [(&str, Option<&str>, i64, usize); 6] = [
        ("2026-12-01T09:00:00Z", Some(HAARLEM), 5, 4),
        ("2026-12-05T09:00:00Z", Some(VELSEN), 45, 1),
        ("2026-12-07T09:00:00Z", None, 30, 1),
        ("2026-12-10T09:00:00Z", Some(HAARLEM), 150, 3),
        ("2026-12-15T09:00:00Z", Some(HAARLEM), 7_250, 2),
        ("2026-12-20T09:00:00Z", Some(HAARLEM), 260_200, 1),
    ];
    let mut i = 0;
    for (received, code, seconds, times) in routings {
        for _ in 0..times {
            i += 1;
            let key = st.notice(
                &format!("P{i}"),
                "PI-HAARLEM",
                NoticeKind::ReleasePlanned,
                received,
            );
            let decided = (crate::helpers::t(received) + Duration::seconds(seconds)).to_rfc3339();
            match code {
                Some(code) => st.routed_to(&key, code, received, &decided),
                None => st.routed(
                    &key,
                    RoutingOutcome::OutOfRegion {
                        gemeentecode: Gemeentecode::parse(story::AMSTERDAM).expect("valid"),
                    },
                    received,
                    &decided,
                ),
            }
        }
    }
    monitor.publish(&st.messages).await;
    monitor.wait_until_settled().await;
    let region_table = rcn_monitor::region_table(&monitor.env.config).expect("the region table");
    let routing = |from: &str, to: &str, scope: Scope| {
        let period = Period {
            granularity: Granularity::Month,
            from: day(from),
            to: day(to),
        };
        let (pool, settings, region_table) = (&monitor.pool, &monitor.settings, &region_table);
        async move {
            rcn_monitor::figures::compute(
                pool,
                region_table,
                settings,
                period,
                &scope,
                story::now(),
            )
            .await
            .expect("the figures can be computed")
            .time_to_routing
        }
    };
    let dec = "2026-12-01";
    // Haarlem [5 ×4, 120 ×3, 7200 ×2, 259200]: rank 5 is the first 120; rank 9 the last 7200.
    // The region adds 30 and 45: 12 durations, rank 6 is 45, rank 11 is 7200.
    assert_eq!(
        routing("2026-11-01", "2026-12-31", region()).await,
        vec![
            duration(dec, None, 12, 45, 7_200),
            duration(dec, gm(HAARLEM), 10, 120, 7_200),
            duration(dec, gm(VELSEN), 1, 45, 45),
        ]
    );
    let haarlem = Scope {
        gemeentecode: gm(HAARLEM),
        regional: false,
    };
    assert_eq!(
        routing("2026-11-01", "2026-12-31", haarlem.clone()).await,
        vec![duration(dec, gm(HAARLEM), 10, 120, 7_200)]
    );
    // From 2 December (day rows): without the four of 5 s. Haarlem [120 ×3, 7200 ×2, 259200]:
    // rank 3 is 120, rank ceil(5.4) = 6 is 259200; the region's 8: rank 4 is 120, rank 8 259200.
    assert_eq!(
        routing("2026-12-02", "2026-12-31", region()).await,
        vec![
            duration(dec, None, 8, 120, 259_200),
            duration(dec, gm(HAARLEM), 6, 120, 259_200),
            duration(dec, gm(VELSEN), 1, 45, 45),
        ]
    );
    // A range without any duration has no row, for the region or a municipality.
    assert!(
        routing("2026-11-01", "2026-11-30", region())
            .await
            .is_empty()
    );
    assert!(
        routing("2026-12-21", "2026-12-31", haarlem)
            .await
            .is_empty()
    );
    monitor.stop().await;
}

#[tokio::test]
async fn a_municipality_sees_only_its_own_rows_and_none_of_the_rcns_sections() {
    let (mut monitor, _story) = december().await;
    let scope = Scope {
        gemeentecode: gm(VELSEN),
        regional: false,
    };
    let f = monitor.figures(story::now(), scope).await;
    assert!(
        f.notices_received
            .iter()
            .all(|n| n.gemeentecode == gm(VELSEN))
    );
    assert_eq!(
        f.notices_received,
        vec![NoticeCount {
            period: day("2026-12-01"),
            gemeentecode: gm(VELSEN),
            kind: NoticeKind::Update,
            institution_code: "PI-ZAANDAM".into(),
            count: 1
        }]
    );
    assert_eq!(
        f.time_to_routing,
        vec![duration("2026-12-01", gm(VELSEN), 1, 3600, 3600)]
    );
    assert!(f.time_to_first_claim.is_empty());
    assert_eq!(f.unclaimed_cases.len(), 1);
    assert_eq!(f.unclaimed_cases[0].gemeentecode, gm(VELSEN));
    assert!(f.overdue_tasks.is_empty());
    assert_eq!(f.manual_routing, None);
    assert_eq!(f.forwards_unacknowledged, None);
    assert_eq!(f.dead_letters, None);
    // Procesregie: Velsen's two triage outcomes, no waiting application and no ICO.
    assert_eq!(
        f.triage_outcomes,
        vec![TriageOutcomes {
            period: day("2026-12-01"),
            gemeentecode: gm(VELSEN),
            ico: 0,
            advice: 1,
            local_table: 1,
            not_accepted: 0,
        }]
    );
    assert!(f.triage_backlog.is_empty() && f.icos.is_empty() && f.icos_open.is_empty());
    monitor.stop().await;
}

#[tokio::test]
async fn with_two_working_days_the_case_opened_before_christmas_is_not_yet_late() {
    let monitor = TestMonitor::spawn(rcn_monitor::Settings::default()).await;
    assert_eq!(monitor.settings.unclaimed_after_working_days, 2);
    let story = story::december(&monitor.subjects);
    monitor.publish(&story.messages).await;
    monitor.wait_until_settled().await;
    let f = monitor.figures(story::now(), region()).await;
    // Thursday 24 Dec → Monday 28 Dec is 2 weekdays but 1 working day: Velsen is not listed.
    assert!(
        f.unclaimed_cases
            .iter()
            .all(|u| u.gemeentecode != gm(VELSEN)),
        "{:?}",
        f.unclaimed_cases
    );
    assert_eq!(f.unclaimed_cases[0].count, 1);
    // A day later (Tuesday 29 Dec) it is 2 working days old, and listed.
    let later = monitor
        .figures(crate::helpers::t("2026-12-29T09:00:00Z"), region())
        .await;
    let velsen = later
        .unclaimed_cases
        .iter()
        .find(|u| u.gemeentecode == gm(VELSEN))
        .expect("listed");
    assert_eq!(velsen.oldest_working_days, 2);
}

#[tokio::test]
async fn no_output_holds_the_bsn_a_name_a_notice_or_a_case() {
    let metrics_addr = crate::helpers::free_address();
    let stop_metrics = rcn_runtime::CancellationToken::new();
    let _metrics = rcn_runtime::metrics::serve(metrics_addr, stop_metrics.clone())
        .await
        .expect("the metrics address is free");
    let _stop_metrics = stop_metrics.drop_guard();
    let mut monitor = TestMonitor::spawn(settings()).await;
    let story = story::december(&monitor.subjects);
    monitor.publish(&story.messages).await;
    monitor.wait_until_settled().await;
    let mut outputs = Vec::new();
    for scope in [
        region(),
        Scope {
            gemeentecode: gm(HAARLEM),
            regional: false,
        },
    ] {
        let f = monitor.figures(story::now(), scope).await;
        outputs.push(serde_json::to_string(&f).unwrap());
        for (name, content) in csv::files(&f) {
            assert!(content.starts_with(csv::BOM), "{name}");
            assert!(content.lines().next().unwrap().contains(';'), "{name}");
            outputs.push(content);
        }
    }
    // The endpoint's answer and the metrics the process serves.
    outputs.push(crate::monitor_read_models::ask_figures_as_coordinator(&monitor).await);
    let metrics = crate::helpers::scrape(metrics_addr).await;
    for series in [
        "rcn_consumer_messages_total{consumer=\"monitor-cases\",outcome=\"handled\"}",
        "rcn_consumer_messages_total{consumer=\"monitor-dead-letters\",outcome=\"handled\"}",
        "rcn_consumer_pending{consumer=\"monitor-notices\"}",
        "rcn_request_seconds_bucket{service=\"rcn-monitor\",endpoint=\"figures\",outcome=\"ok\"",
    ] {
        assert!(
            metrics.contains(series),
            "/metrics has {series}:\n{metrics}"
        );
    }
    outputs.push(metrics);
    let sent = [
        story::BSN,
        story::FAMILY_NAME,
        story::GIVEN_NAMES,
        "Jansen",
        "Piet",
        "*****2333",
    ];
    for output in &outputs {
        for needle in sent
            .iter()
            .copied()
            .chain(story.identifiers.iter().map(String::as_str))
        {
            assert!(!output.contains(needle), "an output holds {needle:?}");
        }
    }
    assert!(
        outputs.iter().any(|o| o.contains("GM0392")),
        "the outputs are not empty"
    );
    monitor.stop().await;
}
