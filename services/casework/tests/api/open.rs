//! Opening a case: five condition tasks from the institution's screening, deadlines from the
//! release date, spoed when release is near, and a `CaseOpened` event without personal data.

use chrono::Days;
use rcn_contracts::events::CaseOpened;
use rcn_contracts::notice::NoticeKind;
use rcn_contracts::{Condition, ConditionStatus};
use rcn_runtime::headers;

use crate::helpers::{TaskRow, TestCasework, days_from_today, gm, header, routed_notice};

fn task(condition: &str, status: &str, note: Option<&str>, due_on: chrono::NaiveDate) -> TaskRow {
    TaskRow {
        condition: condition.into(),
        status: status.into(),
        note: note.map(Into::into),
        due_on: Some(due_on),
    }
}

#[tokio::test]
async fn a_routed_notice_opens_one_case_with_five_tasks_from_the_screening() {
    let casework = TestCasework::spawn().await;
    let release = days_from_today(30);
    let notice = routed_notice("PI-HAARLEM:n1", "episode-1", release, |_| {});
    casework.publish(&notice, "event-1").await;

    let case = casework.wait_for_case("PI-HAARLEM:n1").await;
    assert_eq!(case.episode_key, "episode-1");
    assert_eq!(case.gemeentecode, "GM0392");
    assert_eq!(case.status, "open");
    assert_eq!(case.expected_release_on, Some(release));
    assert!(!case.spoed, "a release a month away is not spoed");
    let week_before = release.checked_sub_days(Days::new(7)).unwrap();
    // The example screening: id arranged, housing needs action (with a note), income unknown,
    // debts in progress, care arranged.
    assert_eq!(
        casework.tasks(case.case_id).await,
        [
            task("care", "arranged", None, week_before),
            task("debts", "in_progress", None, week_before),
            task(
                "housing",
                "needs_action",
                Some("Geen woning na vrijlating."),
                release
            ),
            task("id", "arranged", None, release),
            task("income", "unknown", None, week_before),
        ]
    );
    assert_eq!(
        casework.count("SELECT count(*) FROM casework.cases").await,
        1
    );

    let events = casework.wait_for_case_events(1).await;
    let m = &events[0];
    assert_eq!(
        m.subject.as_str(),
        casework.subjects.case_opened(&gm("GM0392"))
    );
    let opened: CaseOpened = serde_json::from_slice(&m.payload).unwrap();
    assert_eq!(
        header(m, headers::MSG_ID),
        Some(opened.event_id.to_string().as_str()),
        "published through the outbox"
    );
    assert_eq!(opened.case_id, case.case_id);
    assert_eq!(
        (opened.episode_key.as_str(), opened.notice_key.as_str()),
        ("episode-1", "PI-HAARLEM:n1")
    );
    assert_eq!(opened.expected_release_on, Some(release));
    assert_eq!(opened.notice_received_at, notice.received_at);
    assert!(!opened.spoed);
    let statuses: Vec<_> = opened
        .conditions
        .iter()
        .map(|c| (c.condition, c.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (Condition::Id, ConditionStatus::Arranged),
            (Condition::Housing, ConditionStatus::NeedsAction),
            (Condition::Income, ConditionStatus::Unknown),
            (Condition::Debts, ConditionStatus::InProgress),
            (Condition::Care, ConditionStatus::Arranged),
        ]
    );
    let json = String::from_utf8(m.payload.to_vec()).unwrap();
    // The postcode as sent and as normalised; a bare "2011" could be part of an id or a time.
    for personal in ["123456782", "Jansen", "1990-04-01", "2011 AB", "2011AB"] {
        assert!(
            !json.contains(personal),
            "{personal:?} in the CaseOpened event: {json}"
        );
    }
    casework.stop().await;
}

#[tokio::test]
async fn conditions_the_institution_did_not_screen_start_unknown() {
    let casework = TestCasework::spawn().await;
    let notice = routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(30), |n| {
        n.conditions = Default::default()
    });
    casework.publish(&notice, "event-1").await;

    let case = casework.wait_for_case("PI-HAARLEM:n1").await;
    let tasks = casework.tasks(case.case_id).await;
    assert_eq!(tasks.len(), 5);
    assert!(
        tasks
            .iter()
            .all(|t| t.status == "unknown" && t.note.is_none()),
        "{tasks:?}"
    );
    casework.stop().await;
}

#[tokio::test]
async fn a_release_within_seven_days_makes_the_case_spoed() {
    let casework = TestCasework::spawn().await;
    let soon = routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(3), |_| {});
    let later = routed_notice("PI-HAARLEM:n2", "episode-2", days_from_today(8), |_| {});
    casework.publish(&soon, "event-1").await;
    casework.publish(&later, "event-2").await;

    assert!(
        casework.wait_for_case("PI-HAARLEM:n1").await.spoed,
        "release in 3 days"
    );
    assert!(
        !casework.wait_for_case("PI-HAARLEM:n2").await.spoed,
        "release in 8 days"
    );
    let events = casework.wait_for_case_events(2).await;
    let spoed: Vec<(String, bool)> = events
        .iter()
        .map(|m| serde_json::from_slice::<CaseOpened>(&m.payload).unwrap())
        .map(|e| (e.notice_key, e.spoed))
        .collect();
    assert!(spoed.contains(&("PI-HAARLEM:n1".into(), true)), "{spoed:?}");
    assert!(
        spoed.contains(&("PI-HAARLEM:n2".into(), false)),
        "{spoed:?}"
    );
    casework.stop().await;
}

#[tokio::test]
async fn an_unexpected_release_makes_the_case_spoed() {
    let casework = TestCasework::spawn().await;
    let notice = routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(30), |n| {
        n.kind = NoticeKind::ReleasedUnexpectedly
    });
    casework.publish(&notice, "event-1").await;
    assert!(casework.wait_for_case("PI-HAARLEM:n1").await.spoed);
    casework.stop().await;
}

#[tokio::test]
async fn risk_flags_go_to_procesregie_on_their_own_subject_and_only_when_there_are_any() {
    let casework = TestCasework::spawn().await;
    let flagged = routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(30), |n| {
        n.risk_flags = vec![rcn_contracts::RiskFlag::TBS, rcn_contracts::RiskFlag::LVB]
    });
    let plain = routed_notice("PI-HAARLEM:n2", "episode-2", days_from_today(30), |_| {});
    casework.publish(&flagged, "event-1").await;
    casework.publish(&plain, "event-2").await;
    let case = casework.wait_for_case("PI-HAARLEM:n1").await;
    casework.wait_for_case("PI-HAARLEM:n2").await;

    // Two openings and one risk-flag event, on a subject of its own.
    let events = casework.wait_for_case_events(3).await;
    let flags: Vec<_> = events
        .iter()
        .filter(|m| m.subject.contains(".casework.risk_flags_noted."))
        .collect();
    assert_eq!(
        flags.len(),
        1,
        "{:?}",
        events.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert_eq!(
        flags[0].subject.as_str(),
        casework.subjects.risk_flags_noted(&gm("GM0392"))
    );
    let e: rcn_contracts::casework_events::RiskFlagsNoted =
        serde_json::from_slice(&flags[0].payload).unwrap();
    assert_eq!(e.case_id, case.case_id);
    assert_eq!(
        e.risk_flags,
        [rcn_contracts::RiskFlag::TBS, rcn_contracts::RiskFlag::LVB]
    );
    assert_eq!(e.person_key, flagged.person_key);
    // The opening tells no flags; it carries the person's pseudonym for repeat referrals.
    let opening = events
        .iter()
        .find(|m| m.subject.contains("case_opened"))
        .unwrap();
    let opened: CaseOpened = serde_json::from_slice(&opening.payload).unwrap();
    assert!(opened.person_key.is_some());
    assert!(!String::from_utf8_lossy(&opening.payload).contains("TBS"));
    casework.stop().await;
}

#[tokio::test]
async fn a_risk_flag_that_arrives_with_a_later_notice_goes_to_procesregie_too() {
    let casework = TestCasework::spawn().await;
    let first = routed_notice("PI-HAARLEM:n1", "episode-1", days_from_today(30), |_| {});
    let flagged = routed_notice("PI-HAARLEM:n2", "episode-1", days_from_today(40), |n| {
        n.kind = NoticeKind::ReleaseDateChanged;
        n.risk_flags = vec![rcn_contracts::RiskFlag::Terrorism];
    });
    let plain = routed_notice("PI-HAARLEM:n3", "episode-1", days_from_today(40), |n| {
        n.kind = NoticeKind::ReleaseDateChanged
    });
    casework.publish(&first, "event-1").await;
    let case = casework.wait_for_case("PI-HAARLEM:n1").await;
    casework.publish(&flagged, "event-2").await;
    casework.wait_for_case("PI-HAARLEM:n2").await;
    casework.publish(&plain, "event-3").await;
    casework.wait_for_case("PI-HAARLEM:n3").await;
    casework.wait_until_settled(3).await;

    let events = casework.wait_for_case_events(1).await;
    let flags: Vec<rcn_contracts::casework_events::RiskFlagsNoted> = events
        .iter()
        .filter(|m| m.subject.contains(".casework.risk_flags_noted."))
        .map(|m| serde_json::from_slice(&m.payload).unwrap())
        .collect();
    assert_eq!(
        flags.len(),
        1,
        "one event, for the notice with a flag: {:?}",
        events.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert_eq!(flags[0].case_id, case.case_id);
    assert_eq!(flags[0].risk_flags, [rcn_contracts::RiskFlag::Terrorism]);
    assert_eq!(flags[0].person_key, flagged.person_key);
    casework.stop().await;
}
