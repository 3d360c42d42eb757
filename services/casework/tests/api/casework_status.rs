//! Working a task: its status moves along the rules, each change with who, when, from, to and
//! note in its history and a `TaskStatusChanged` on CASES; a colleague's task is not touched.

use rcn_contracts::casework_api::{ErrorCode, TaskHistory, TaskView};
use rcn_contracts::casework_events::TaskStatusChanged;
use rcn_contracts::{Condition, ConditionStatus};
use serde_json::json;

use crate::casework_support::{App, CaseworkProblem, one, staff, task};
use crate::helpers::days_from_today;

#[tokio::test]
async fn a_task_moves_from_unknown_to_arranged_and_every_step_is_in_its_history() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let anna = staff("anna", "GM0392");
    let income = task(case, Condition::Income);
    let set = |status: &str, extra: serde_json::Value| {
        let mut req = json!({"task": income, "status": status});
        if let (Some(r), Some(e)) = (req.as_object_mut(), extra.as_object()) {
            r.extend(e.clone());
        }
        req
    };
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Income))
        .await
        .unwrap();
    for (status, note) in [
        ("needs_action", "Geen uitkering"),
        ("in_progress", "Aanvraag Participatiewet loopt"),
        ("arranged", "Toegekend"),
    ] {
        let v: TaskView = app
            .call(&anna, "update_status", &set(status, json!({"note": note})))
            .await
            .unwrap();
        assert_eq!(v.status.as_str(), status);
    }
    let e = app
        .call::<_, TaskView>(&anna, "update_status", &set("arranged", json!({})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoChange);
    let e = app
        .call::<_, TaskView>(&anna, "update_status", &set("in_progress", json!({})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoteRequired, "reopening says why");
    let e = app
        .call::<_, TaskView>(
            &anna,
            "update_status",
            &set("unknown", json!({"note": "?"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidTransition);
    assert!(e.detail.contains("unknown"), "{}", e.detail);

    let history: TaskHistory = app
        .call(&anna, "task_history", &one(case, Condition::Income))
        .await
        .unwrap();
    type Step<'a> = (
        &'a str,
        Option<ConditionStatus>,
        Option<ConditionStatus>,
        Option<&'a str>,
    );
    let steps: Vec<Step> = history
        .entries
        .iter()
        .filter(|e| e.change == "status")
        .map(|e| (e.by.as_str(), e.from_status, e.to_status, e.note.as_deref()))
        .collect();
    use ConditionStatus::*;
    assert_eq!(
        steps,
        [
            (
                "anna",
                Some(Unknown),
                Some(NeedsAction),
                Some("Geen uitkering")
            ),
            (
                "anna",
                Some(NeedsAction),
                Some(InProgress),
                Some("Aanvraag Participatiewet loopt")
            ),
            ("anna", Some(InProgress), Some(Arranged), Some("Toegekend")),
        ]
    );
    assert!(history.entries.windows(2).all(|w| w[0].at <= w[1].at));
    let events = app.wait_for_events("task_status_changed", 3).await;
    let last: TaskStatusChanged = serde_json::from_slice(&events[2].payload).unwrap();
    assert_eq!(
        (last.condition, last.from, last.to, last.by.as_str()),
        (Condition::Income, InProgress, Arranged, "anna")
    );
    app.stop_all().await;
}

#[tokio::test]
async fn not_applicable_needs_a_reason_and_keeps_it() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let anna = staff("anna", "GM0392");
    let debts = task(case, Condition::Debts);
    let e = app
        .call::<_, TaskView>(
            &anna,
            "update_status",
            &json!({"task": debts, "status": "not_applicable"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ReasonRequired);
    let v: TaskView =
        app.call(&anna, "update_status", &json!({"task": debts, "status": "not_applicable", "reason": "Geen schulden volgens BKR"})).await.unwrap();
    assert_eq!(v.status, ConditionStatus::NotApplicable);
    let reason: Option<String> = sqlx::query_scalar(
        "SELECT reason FROM casework.condition_tasks WHERE case_id = $1 AND condition = 'debts'",
    )
    .bind(case)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("Geen schulden volgens BKR"));
    app.stop_all().await;
}

#[tokio::test]
async fn a_task_a_colleague_holds_cannot_be_changed_by_someone_else() {
    let mut app = App::spawn().await;
    let case = app
        .open_case("n1", "GM0392", days_from_today(30), |_| {})
        .await;
    let (anna, bram) = (staff("anna", "GM0392"), staff("bram", "GM0392"));
    let _: TaskView = app
        .call(&anna, "claim", &one(case, Condition::Housing))
        .await
        .unwrap();
    let e = app
        .call::<_, TaskView>(
            &bram,
            "update_status",
            &json!({"task": task(case, Condition::Housing), "status": "in_progress"}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.held_by()),
        (ErrorCode::ClaimedByOther, Some("anna"))
    );
    // An unclaimed task may be updated by any colleague of the municipality.
    let v: TaskView = app
        .call(
            &bram,
            "update_status",
            &json!({"task": task(case, Condition::Income), "status": "needs_action"}),
        )
        .await
        .unwrap();
    assert_eq!(v.status, ConditionStatus::NeedsAction);
    app.stop_all().await;
}
