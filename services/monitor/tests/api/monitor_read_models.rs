//! The read models: duplicates and any order change nothing; a rebuild from the streams gives
//! the same figures as the live tables; the endpoint answers people by their role.

use std::time::Duration;

use async_nats::HeaderMap;
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::monitor_api::{Figures, Granularity};
use rcn_contracts::{Gemeentecode, NoticeKind};
use rcn_runtime::testing::count;

use crate::helpers::{Published, TestMonitor, region};
use crate::monitor_figures::assert_december;
use crate::story::{self, HAARLEM};

fn settings() -> rcn_monitor::Settings {
    rcn_monitor::Settings {
        unclaimed_after_working_days: 1,
        ..Default::default()
    }
}

#[tokio::test]
async fn duplicates_in_any_order_change_nothing() {
    let mut monitor = TestMonitor::spawn(settings()).await;
    let story = story::december(&monitor.subjects);
    // Every message twice: once in order, once more in reverse order under new message ids (so
    // JetStream stores both copies), as a republish after a crash or a redelivery would.
    // A dead letter's id is where it came from (`dlq:<service>:<stream>:<sequence>`): its copy
    // keeps it, and is recognised by that.
    let mut again: Vec<Published> = story.messages.clone();
    again.reverse();
    let dlq = format!("rcn.{}.dlq.", monitor.subjects.region());
    for m in &mut again {
        if !m.subject.starts_with(&dlq) {
            m.msg_id.push_str("-again");
        }
    }
    monitor.publish(&story.messages).await;
    monitor.publish(&again).await;
    monitor.wait_until_settled().await;
    assert_december(&monitor.figures(story::now(), region()).await);
    let db = &monitor.pool;
    assert_eq!(count(db, "SELECT count(*) FROM notices").await, 9);
    assert_eq!(count(db, "SELECT count(*) FROM cases").await, 6);
    assert_eq!(count(db, "SELECT count(*) FROM dead_letters").await, 3);
    assert_eq!(count(db, "SELECT count(*) FROM applications").await, 7);
    assert_eq!(count(db, "SELECT count(*) FROM icos").await, 2);
    monitor.stop().await;
}

#[tokio::test]
async fn events_of_a_case_arriving_before_it_was_opened_give_the_same_case() {
    let mut monitor = TestMonitor::spawn(settings()).await;
    let mut story = story::december(&monitor.subjects);
    // Only CASES, newest first: a case's closure and claims before its opening.
    let cases_prefix = format!("rcn.{}.casework.", monitor.subjects.region());
    story
        .messages
        .retain(|m| m.subject.starts_with(&cases_prefix));
    story.messages.reverse();
    monitor.publish(&story.messages).await;
    monitor.wait_until_settled().await;
    let db = &monitor.pool;
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM cases WHERE first_opened_at IS NOT NULL"
        )
        .await,
        6
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM cases WHERE closed").await,
        1,
        "only C6 is closed"
    );
    assert_eq!(count(db, "SELECT count(*) FROM cases WHERE spoed").await, 2);
    monitor.stop().await;
}

#[tokio::test]
async fn a_rebuild_from_the_streams_gives_the_same_figures_as_the_live_tables() {
    let mut monitor = TestMonitor::spawn(settings()).await;
    let story = story::december(&monitor.subjects);
    monitor.publish(&story.messages).await;
    monitor.wait_until_settled().await;
    let live = monitor.figures(story::now(), region()).await;
    let weekly = monitor
        .figures_for(story::now(), region(), Granularity::Week)
        .await;
    // Lose a table's rows, as after a bad migration: the rebuild brings them back.
    sqlx::query("DELETE FROM task_claims")
        .execute(&monitor.pool)
        .await
        .unwrap();

    let report = rcn_monitor::rebuild::run(&monitor.env.config)
        .await
        .expect("the rebuild runs");
    assert_eq!(report.skipped, 0);
    let replayed: u64 = report.replayed.iter().map(|(_, n)| n).sum();
    assert_eq!(replayed, story.messages.len() as u64);
    let pool = crate::helpers::schema_pool(&monitor.env).await;
    let same = |f: &Figures| Figures {
        generated_at: live.generated_at,
        ..f.clone()
    };
    let rebuilt = rcn_monitor::figures::compute(
        &pool,
        &rcn_monitor::region_table(&monitor.env.config).unwrap(),
        &monitor.settings,
        rcn_monitor::figures::Period {
            granularity: Granularity::Month,
            from: live.from,
            to: live.to,
        },
        &region(),
        story::now(),
    )
    .await
    .unwrap();
    assert_eq!(same(&rebuilt), live);
    assert_december(&rebuilt);
    let monitor_pool = std::mem::replace(&mut monitor.pool, pool);
    monitor_pool.close().await;
    assert_eq!(
        monitor
            .figures_for(story::now(), region(), Granularity::Week)
            .await,
        weekly
    );

    // The running monitor goes on into the rebuilt tables.
    let mut more = story::Story::new(&monitor.subjects);
    more.notice(
        "LATER",
        "PI-HAARLEM",
        NoticeKind::Update,
        "2026-12-27T09:00:00Z",
    );
    monitor.publish(&more.messages).await;
    crate::helpers::wait_for(
        || async {
            let n = count(&monitor.pool, "SELECT count(*) FROM notices").await;
            (n == 10).then_some(())
        },
        "the notice after the rebuild",
    )
    .await;
    monitor.stop().await;
}

/// Asks the endpoint for the figures as an RCN coordinator; the raw reply.
pub async fn ask_figures_as_coordinator(monitor: &TestMonitor) -> String {
    let who = Identity {
        user_id: "coordinator-1".into(),
        role: Role::RcnCoordinator,
        gemeentecode: None,
    };
    String::from_utf8(ask(monitor, Some(&who), b"{}").await).expect("UTF-8")
}

async fn ask(monitor: &TestMonitor, who: Option<&Identity>, body: &[u8]) -> Vec<u8> {
    let nats = monitor.env.ctx("gateway-stand-in").await.nats;
    let subject = monitor.subjects.monitor_figures();
    // The service registers as the monitor starts: ask until it answers.
    for _ in 0..100 {
        // Signed as the gateway signs, anew for every try (a signature is good for one request).
        let h = match who {
            Some(who) => monitor.env.signed(&who.to_header(), &subject, body),
            None => HeaderMap::new(),
        };
        let reply = tokio::time::timeout(
            Duration::from_secs(5),
            nats.request_with_headers(subject.clone(), h, body.to_vec().into()),
        )
        .await;
        if let Ok(Ok(reply)) = reply {
            return reply.payload.to_vec();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the monitor does not answer on {subject}");
}

fn decode(reply: &[u8]) -> ApiReply<Figures> {
    serde_json::from_slice(reply).expect("an envelope")
}

#[tokio::test]
async fn the_endpoint_answers_each_role_with_what_it_may_see() {
    let mut monitor = TestMonitor::spawn(settings()).await;
    let story = story::december(&monitor.subjects);
    monitor.publish(&story.messages).await;
    monitor.wait_until_settled().await;
    let haarlem = Gemeentecode::parse(HAARLEM).unwrap();
    let coordinator = Identity {
        user_id: "c".into(),
        role: Role::RcnCoordinator,
        gemeentecode: None,
    };
    let staff = Identity {
        user_id: "s".into(),
        role: Role::MunicipalStaff,
        gemeentecode: Some(haarlem.clone()),
    };

    let all = decode(
        &ask(
            &monitor,
            Some(&coordinator),
            br#"{"from":"2026-11-01","to":"2026-12-31","granularity":"week"}"#,
        )
        .await,
    )
    .into_result()
    .expect("figures for the coordinator");
    assert_eq!(all.granularity, Granularity::Week);
    assert!(all.manual_routing.is_some());
    // Procesregie's figures come through the endpoint too: I2 is open, in Haarlem.
    let open_icos: Vec<_> = all
        .icos_open
        .iter()
        .map(|m| (m.gemeentecode.clone(), m.count))
        .collect();
    assert_eq!(open_icos, vec![(None, 1), (Some(haarlem.clone()), 1)]);
    assert_eq!(all.triage_backlog[0].waiting, 2);
    assert!(
        all.notices_received
            .iter()
            .any(|n| n.gemeentecode.is_none())
    );

    let own = decode(
        &ask(
            &monitor,
            Some(&staff),
            br#"{"from":"2026-11-01","to":"2026-12-31"}"#,
        )
        .await,
    )
    .into_result()
    .expect("figures for staff");
    assert_eq!(own.gemeentecode, Some(haarlem.clone()));
    assert!(
        own.notices_received
            .iter()
            .all(|n| n.gemeentecode.as_ref() == Some(&haarlem))
    );
    assert!(own.manual_routing.is_none() && own.dead_letters.is_none());
    assert_eq!(own.icos_open.len(), 1, "Haarlem's open ICO, no region row");
    assert!(own.triage_backlog.is_empty(), "Haarlem has nothing waiting");

    let other = decode(&ask(&monitor, Some(&staff), br#"{"gemeentecode":"GM0453"}"#).await)
        .into_result()
        .unwrap_err();
    assert_eq!(other.status, 403);
    let reversed = decode(
        &ask(
            &monitor,
            Some(&coordinator),
            br#"{"from":"2026-12-31","to":"2026-11-01"}"#,
        )
        .await,
    )
    .into_result()
    .unwrap_err();
    assert_eq!(
        (reversed.status, reversed.invalid_params[0].name.as_str()),
        (400, "from")
    );
    let unknown = decode(&ask(&monitor, Some(&coordinator), br#"{"bsn":"111222333"}"#).await)
        .into_result()
        .unwrap_err();
    assert_eq!(unknown.status, 400);
    assert!(!unknown.detail.contains("111222333"), "{}", unknown.detail);
    let anonymous = decode(&ask(&monitor, None, b"{}").await)
        .into_result()
        .unwrap_err();
    assert_eq!(anonymous.status, 401);
    monitor.stop().await;
}
