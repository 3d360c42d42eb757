//! Suggestions by rule from casework's events: each rule fires once, and not just below its
//! threshold; risk-flag details only for procesregie and the RCN; a person accepts (a draft
//! application) or dismisses with a reason; a rule never escalates by itself.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use chrono::{Days, NaiveDate, Utc};
use rcn_contracts::casework_events::{
    DeadlineKind, RiskFlagsNoted, TaskDeadline, TaskStatusChanged,
};
use rcn_contracts::events::CaseOpened;
use rcn_contracts::procesregie_api::{
    ApplicationStatus, ApplicationView, SuggestionList, SuggestionRule, SuggestionStatus,
    SuggestionView,
};
use rcn_contracts::{Condition, ConditionStatus, RiskFlag, SCHEMA_VERSION};
use uuid::Uuid;

use crate::cases_in::case_opened;
use crate::helpers::{TestProcesregie, rcn, regisseur, staff};

use Condition::*;
use ConditionStatus::*;

fn in_days(n: u64) -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive()
        + Days::new(n)
}

async fn open(p: &TestProcesregie, c: &CaseOpened) {
    p.publish_case_event(
        p.subjects.case_opened(&c.gemeentecode),
        &c.event_id.to_string(),
        c,
    )
    .await;
}

async fn suggestions(
    p: &TestProcesregie,
    who: &rcn_contracts::identity::Identity,
    case: Uuid,
) -> Vec<SuggestionView> {
    let list: SuggestionList = p
        .ask(
            "suggestion_list",
            who,
            &serde_json::json!({"case_id": case}),
        )
        .await
        .unwrap();
    list.suggestions
}

fn status_changed(c: &CaseOpened, condition: Condition, to: ConditionStatus) -> TaskStatusChanged {
    TaskStatusChanged {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id: c.case_id,
        episode_key: c.episode_key.clone(),
        gemeentecode: c.gemeentecode.clone(),
        condition,
        from: Unknown,
        to,
        by: "anna".into(),
        at: Utc::now(),
    }
}

#[tokio::test]
async fn three_open_conditions_close_to_release_suggest_once_and_two_do_not() {
    let p = TestProcesregie::spawn().await;
    let three = case_opened(
        "GM0392",
        Some(in_days(10)),
        false,
        &[
            (Id, Arranged),
            (Housing, NeedsAction),
            (Income, Unknown),
            (Debts, InProgress),
            (Care, Arranged),
        ],
    );
    let two = case_opened(
        "GM0392",
        Some(in_days(10)),
        false,
        &[
            (Id, Arranged),
            (Housing, NeedsAction),
            (Income, Unknown),
            (Debts, Arranged),
            (Care, Arranged),
        ],
    );
    let far = case_opened(
        "GM0392",
        Some(in_days(15)),
        false,
        &[
            (Id, Unknown),
            (Housing, Unknown),
            (Income, Unknown),
            (Debts, Unknown),
            (Care, Unknown),
        ],
    );
    for c in [&three, &two, &far] {
        open(&p, c).await;
    }
    // More news about the first case: another condition opens; the rule has fired already.
    let more = status_changed(&three, Care, NeedsAction);
    p.publish_case_event(
        p.subjects.task_status_changed(&three.gemeentecode),
        "s-1",
        &more,
    )
    .await;
    p.wait_until_caught_up().await;

    let rcn = rcn("rcn-1");
    let fired = suggestions(&p, &rcn, three.case_id).await;
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].rule, SuggestionRule::OpenConditionsNearRelease);
    let inputs = fired[0].inputs.as_ref().unwrap();
    assert_eq!(
        inputs["open_conditions"],
        serde_json::json!(["debts", "housing", "income"])
    );
    assert_eq!(inputs["threshold"], 3);
    assert_eq!(inputs["days_to_release"], 10);
    assert!(
        suggestions(&p, &rcn, two.case_id).await.is_empty(),
        "two open: just below"
    );
    assert!(
        suggestions(&p, &rcn, far.case_id).await.is_empty(),
        "15 days: just outside"
    );

    // The second case reaches the threshold later: now it fires.
    let third = status_changed(&two, Debts, NeedsAction);
    p.publish_case_event(
        p.subjects.task_status_changed(&two.gemeentecode),
        "s-2",
        &third,
    )
    .await;
    p.wait_until_caught_up().await;
    assert_eq!(suggestions(&p, &rcn, two.case_id).await.len(), 1);
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.suggestions")
            .await,
        2
    );
    // Never an application by itself.
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.applications")
            .await,
        0
    );
    p.stop().await;
}

#[tokio::test]
async fn a_risk_flag_suggests_and_only_the_region_sees_which_flag() {
    let p = TestProcesregie::spawn().await;
    let c = case_opened("GM0392", Some(in_days(60)), false, &[(Id, Unknown)]);
    open(&p, &c).await;
    let flags = RiskFlagsNoted {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id: c.case_id,
        episode_key: c.episode_key.clone(),
        person_key: c.person_key.clone().unwrap(),
        gemeentecode: c.gemeentecode.clone(),
        risk_flags: vec![RiskFlag::DomesticViolence],
        noted_at: Utc::now(),
    };
    let subject = p.subjects.risk_flags_noted(&c.gemeentecode);
    p.publish_case_event(subject.clone(), "r-1", &flags).await;
    let mut again = flags.clone();
    again.event_id = Uuid::now_v7();
    p.publish_case_event(subject, "r-2", &again).await;
    // A case without flags, opened just the same, raises nothing.
    let plain = case_opened("GM0392", Some(in_days(60)), false, &[(Id, Unknown)]);
    open(&p, &plain).await;
    p.wait_until_caught_up().await;

    let region = suggestions(&p, &regisseur("pr-1"), c.case_id).await;
    assert_eq!(region.len(), 1, "once, however often the flags are told");
    assert_eq!(region[0].rule, SuggestionRule::RiskFlag);
    assert_eq!(
        region[0].inputs.as_ref().unwrap()["risk_flags"],
        serde_json::json!(["DOMESTIC_VIOLENCE"])
    );
    let municipal = suggestions(&p, &staff("anna", "GM0392"), c.case_id).await;
    assert_eq!(
        municipal.len(),
        1,
        "the municipality sees the suggestion on its case"
    );
    assert_eq!(municipal[0].inputs, None, "but not which risk flag");
    assert!(
        suggestions(&p, &staff("vera", "GM0453"), c.case_id)
            .await
            .is_empty()
    );
    assert!(
        suggestions(&p, &regisseur("pr-1"), plain.case_id)
            .await
            .is_empty()
    );
    p.stop().await;
}

#[tokio::test]
async fn flags_told_later_add_to_those_told_before_and_a_repeat_adds_nothing() {
    let p = TestProcesregie::spawn().await;
    let c = case_opened("GM0392", Some(in_days(60)), false, &[(Id, Unknown)]);
    open(&p, &c).await;
    let told = |flags: Vec<RiskFlag>| RiskFlagsNoted {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        case_id: c.case_id,
        episode_key: c.episode_key.clone(),
        person_key: c.person_key.clone().unwrap(),
        gemeentecode: c.gemeentecode.clone(),
        risk_flags: flags,
        noted_at: Utc::now(),
    };
    let subject = p.subjects.risk_flags_noted(&c.gemeentecode);
    p.publish_case_event(
        subject.clone(),
        "r-1",
        &told(vec![RiskFlag::DomesticViolence]),
    )
    .await;
    p.wait_until_caught_up().await;
    // A later notice of the case brings another flag; a third the first one once more.
    p.publish_case_event(subject.clone(), "r-2", &told(vec![RiskFlag::Terrorism]))
        .await;
    p.wait_until_caught_up().await;
    p.publish_case_event(subject, "r-3", &told(vec![RiskFlag::DomesticViolence]))
        .await;
    p.wait_until_caught_up().await;

    let held = format!(
        "SELECT count(*) FROM procesregie.watched_cases WHERE case_id = '{}'
           AND risk_flags @> '[\"DOMESTIC_VIOLENCE\", \"TERRORISM\"]'
           AND jsonb_array_length(risk_flags) = 2",
        c.case_id
    );
    assert_eq!(p.count(&held).await, 1, "both flags, each once");
    let region = suggestions(&p, &regisseur("pr-1"), c.case_id).await;
    assert_eq!(region.len(), 1, "still one suggestion for the rule");
    p.stop().await;
}

fn overdue(c: &CaseOpened, condition: Condition, spoed: bool) -> TaskDeadline {
    TaskDeadline {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        kind: DeadlineKind::Overdue,
        case_id: c.case_id,
        episode_key: c.episode_key.clone(),
        gemeentecode: c.gemeentecode.clone(),
        condition,
        due_on: in_days(0),
        status: NeedsAction,
        holder: None,
        spoed,
        expected_release_on: c.expected_release_on,
        raised_at: Utc::now(),
    }
}

#[tokio::test]
async fn an_overdue_condition_on_a_spoed_case_suggests_and_on_a_normal_case_does_not() {
    let p = TestProcesregie::spawn().await;
    let urgent = case_opened(
        "GM0453",
        Some(in_days(3)),
        true,
        &[(Id, NeedsAction), (Housing, Arranged)],
    );
    let normal = case_opened(
        "GM0453",
        Some(in_days(40)),
        false,
        &[(Id, NeedsAction), (Housing, Arranged)],
    );
    for c in [&urgent, &normal] {
        open(&p, c).await;
        let e = overdue(c, Id, c.spoed);
        p.publish_case_event(
            p.subjects.task_overdue(&c.gemeentecode),
            &e.event_id.to_string(),
            &e,
        )
        .await;
    }
    p.wait_until_caught_up().await;
    let rcn = rcn("rcn-1");
    let fired = suggestions(&p, &rcn, urgent.case_id).await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].rule, SuggestionRule::SpoedOverdue);
    assert_eq!(
        fired[0].inputs.as_ref().unwrap()["overdue_conditions"],
        serde_json::json!(["id"])
    );
    assert!(suggestions(&p, &rcn, normal.case_id).await.is_empty());
    p.stop().await;
}

#[tokio::test]
async fn a_person_accepts_a_suggestion_into_a_draft_or_dismisses_it_with_a_reason() {
    let p = TestProcesregie::spawn().await;
    let statuses = [(Id, Unknown), (Housing, Unknown), (Income, Unknown)];
    let a = case_opened("GM0392", Some(in_days(5)), false, &statuses);
    let b = case_opened("GM0392", Some(in_days(5)), false, &statuses);
    open(&p, &a).await;
    open(&p, &b).await;
    p.wait_until_caught_up().await;
    let anna = staff("anna", "GM0392");
    let sa = suggestions(&p, &anna, a.case_id).await.remove(0);
    let sb = suggestions(&p, &anna, b.case_id).await.remove(0);

    let draft: ApplicationView = p
        .ask(
            "suggestion_accept",
            &anna,
            &serde_json::json!({"suggestion_id": sa.suggestion_id}),
        )
        .await
        .unwrap();
    assert_eq!(draft.status, ApplicationStatus::Draft);
    assert_eq!(
        (draft.case_id, draft.suggestion_id),
        (Some(a.case_id), Some(sa.suggestion_id))
    );
    assert!(
        draft
            .reason
            .as_deref()
            .unwrap()
            .contains("meerdere voorwaarden")
    );
    assert!(!draft.missing.is_empty(), "a person completes it");
    let problem = p
        .ask::<_, ApplicationView>(
            "suggestion_accept",
            &rcn("rcn-1"),
            &serde_json::json!({"suggestion_id": sa.suggestion_id}),
        )
        .await
        .unwrap_err();
    assert_eq!(problem.status, 409, "{problem:?}");
    assert!(problem.detail.contains("accepted by anna"), "{problem:?}");

    let problem = p
        .ask::<_, SuggestionView>(
            "suggestion_dismiss",
            &anna,
            &serde_json::json!({"suggestion_id": sb.suggestion_id, "reason": "  "}),
        )
        .await
        .unwrap_err();
    assert_eq!(problem.status, 400);
    let dismissed: SuggestionView = p
        .ask("suggestion_dismiss", &anna, &serde_json::json!({"suggestion_id": sb.suggestion_id, "reason": "Loopt al via het lokale team"}))
        .await
        .unwrap();
    assert_eq!(dismissed.status, SuggestionStatus::Dismissed);
    assert_eq!(
        dismissed.dismiss_reason.as_deref(),
        Some("Loopt al via het lokale team")
    );
    // Another municipality's staff cannot decide it (nor see it).
    let problem = p
        .ask::<_, ApplicationView>(
            "suggestion_accept",
            &staff("vera", "GM0453"),
            &serde_json::json!({"suggestion_id": sb.suggestion_id}),
        )
        .await
        .unwrap_err();
    assert_eq!(problem.status, 404);
    p.stop().await;
}
