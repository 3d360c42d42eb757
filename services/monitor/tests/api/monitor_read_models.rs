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

/// Hands `messages` to the monitor's handlers directly, each feed's in batches of `size` in the
/// order given, as its consumer would after a back-fill (no NATS in between).
async fn hand_to_handlers(monitor: &TestMonitor, messages: &[Published], size: usize) {
    use rcn_monitor::read_models::{Feed, Handlers};
    use rcn_runtime::consumer::{Delivery, Handler, Payload};

    fn of<T: Payload>(messages: &[Published], filter: &str) -> Vec<Delivery<T>> {
        let prefix = filter.trim_end_matches('>');
        messages
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.subject == filter || (filter.ends_with('>') && m.subject.starts_with(prefix))
            })
            .map(|(i, m)| Delivery {
                message: T::decode(&m.payload).expect("the story's messages decode"),
                subject: m.subject.clone(),
                msg_id: Some(m.msg_id.clone()),
                trace: rcn_runtime::trace_context::TraceContext::new_root(),
                delivered: 1,
                stream_sequence: i as u64 + 1,
                published_at: story::now(),
            })
            .collect()
    }
    async fn feed<H: Handler>(handler: &H, batch: &[Delivery<H::Message>], size: usize) {
        for chunk in batch.chunks(size) {
            handler
                .handle(chunk)
                .await
                .expect("the handler takes the batch");
        }
    }
    let handlers = Handlers::new(monitor.pool.clone(), &monitor.subjects);
    let filter = |f: Feed| {
        f.spec(&monitor.subjects, &monitor.env.config)
            .filter_subject
    };
    feed(
        &*handlers.notices,
        &of(messages, &filter(Feed::Notices)),
        size,
    )
    .await;
    feed(
        &*handlers.routing,
        &of(messages, &filter(Feed::Routing)),
        size,
    )
    .await;
    feed(&*handlers.cases, &of(messages, &filter(Feed::Cases)), size).await;
    feed(
        &*handlers.procesregie,
        &of(messages, &filter(Feed::Procesregie)),
        size,
    )
    .await;
    feed(
        &*handlers.dead_letters,
        &of(messages, &filter(Feed::DeadLetters)),
        size,
    )
    .await;
}

/// More than December holds: a case that is claimed, then rescheduled (spoed now, an earlier
/// release, a due date) and then moved to another municipality, which moves it in every figure.
fn moved_case(st: &mut story::Story) {
    use rcn_contracts::casework_events::{CaseRescheduled, TaskDue};
    use rcn_contracts::events::CaseUpdated;
    use rcn_contracts::{Condition, ConditionStatus, SCHEMA_VERSION};
    use uuid::Uuid;

    let gm = |code: &str| Gemeentecode::parse(code).expect("a valid code");
    let case_id = st.case_opened(
        HAARLEM,
        "N7",
        "2026-12-10T09:00:00Z",
        "2026-12-10T10:00:00Z",
        Some("2026-12-20"),
        false,
        [ConditionStatus::Unknown; 5],
    );
    st.claimed(HAARLEM, case_id, Condition::Housing, "2026-12-11T09:00:00Z");
    let rescheduled = CaseRescheduled {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id,
        episode_key: "e".into(),
        gemeentecode: gm(HAARLEM),
        notice_key: "N7".into(),
        previous_release_on: Some(crate::helpers::day("2026-12-20")),
        expected_release_on: Some(crate::helpers::day("2026-12-14")),
        released_unexpectedly: false,
        spoed: true,
        due: vec![TaskDue {
            condition: Condition::Income,
            due_on: Some(crate::helpers::day("2026-12-12")),
        }],
        at: crate::helpers::t("2026-12-12T09:00:00Z"),
    };
    let subject = st.s.case_rescheduled(&gm(HAARLEM));
    st.messages.push(Published::json(
        subject,
        rescheduled.event_id.to_string(),
        &rescheduled,
    ));
    let updated = CaseUpdated {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id,
        episode_key: "e".into(),
        gemeentecode: gm(crate::story::VELSEN),
        notice_key: "N7".into(),
        notice_kind: NoticeKind::Update,
        updated_at: crate::helpers::t("2026-12-13T09:00:00Z"),
    };
    let subject = st.s.case_updated(&gm(crate::story::VELSEN));
    st.messages.push(Published::json(
        subject,
        updated.event_id.to_string(),
        &updated,
    ));
}

#[tokio::test]
async fn a_stream_in_one_batch_gives_the_figures_of_one_message_at_a_time() {
    // One at a time, in order.
    let mut one_by_one = TestMonitor::spawn(settings()).await;
    let story_1 = story::december(&one_by_one.subjects);
    hand_to_handlers(&one_by_one, &story_1.messages, 1).await;
    assert_december(&one_by_one.figures(story::now(), region()).await);
    let mut more_1 = story::Story::new(&one_by_one.subjects);
    moved_case(&mut more_1);
    hand_to_handlers(&one_by_one, &more_1.messages, 1).await;
    // Each feed's whole stream in one batch, every message twice: in order, then newest first,
    // so one batch holds a case's closure before its opening and every event again.
    let mut at_once = TestMonitor::spawn(settings()).await;
    let mut story_2 = story::december(&at_once.subjects);
    moved_case(&mut story_2);
    let mut twice = story_2.messages.clone();
    twice.extend(story_2.messages.iter().rev().cloned());
    hand_to_handlers(&at_once, &twice, twice.len()).await;

    let (a, b) = (
        one_by_one.figures(story::now(), region()).await,
        at_once.figures(story::now(), region()).await,
    );
    // The moved case counts in Velsen only, as spoed and with an overdue task.
    let velsen = Gemeentecode::parse(crate::story::VELSEN).ok();
    assert!(
        a.open_spoed_cases
            .iter()
            .any(|m| m.gemeentecode == velsen && m.count >= 1),
        "{:?}",
        a.open_spoed_cases
    );
    assert_eq!(
        Figures {
            generated_at: a.generated_at,
            ..b
        },
        a
    );
    let (a, b) = (
        one_by_one
            .figures_for(story::now(), region(), Granularity::Week)
            .await,
        at_once
            .figures_for(story::now(), region(), Granularity::Week)
            .await,
    );
    assert_eq!(
        Figures {
            generated_at: a.generated_at,
            ..b
        },
        a,
        "by week"
    );
    one_by_one.stop().await;
    at_once.stop().await;
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
