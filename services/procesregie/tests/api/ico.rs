//! The ICO from the triage's outcome to its closure: casusregisseur, the plan van aanpak with
//! each action's history, a review, closure with its reason, and an event for each on
//! PROCESREGIE without personal data.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::procesregie_api::{
    ActionRequest, ActionStatus, ApplicationView, Casusregisseur, CloseIcoRequest, IcoCloseReason,
    IcoList, IcoStatus, IcoUpdate, IcoView, MAX_SHORT, Partner, ReviewRequest, TriageDecision,
    TriageOutcome,
};
use rcn_contracts::procesregie_events::IcoClosed;

use crate::helpers::{TestProcesregie, regisseur, staff};
use crate::triage_board::submitted;

#[tokio::test]
async fn an_ico_runs_from_the_triage_through_its_plan_and_reviews_to_its_closure() {
    let p = TestProcesregie::spawn().await;
    let a = submitted(&p, "GM0392").await;
    let pr = regisseur("pr-1");
    let triaged: ApplicationView = p
        .ask(
            "triage_decide",
            &pr,
            &TriageDecision {
                application_id: a.application_id,
                outcome: TriageOutcome::Ico,
                reason: "voldoet aan A, B en D".into(),
                advice: None,
            },
        )
        .await
        .unwrap();
    let ico_id = triaged.outcome.unwrap().ico_id.unwrap();

    let ico: IcoView = p
        .ask(
            "ico_update",
            &pr,
            &IcoUpdate {
                ico_id,
                casusregisseur: Some(Casusregisseur {
                    name: "M. Bakker".into(),
                    organisation: "GGZ Noord-Holland-Noord".into(),
                    phone: "072-1234567".into(),
                    email: "m.bakker@ggz.example".into(),
                }),
                partners: None,
                goal: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(ico.procesregisseur, "pr-1");
    assert_eq!(ico.goal, a.goal.clone().unwrap(), "the application's goal");
    assert_eq!(ico.partners, a.partners);

    let mut action = ActionRequest {
        ico_id,
        action_id: None,
        owner_organisation: "Woningcorporatie Elan".into(),
        description: "Tijdelijke woonplek regelen".into(),
        due_on: "2027-01-15".parse().unwrap(),
        status: ActionStatus::Open,
    };
    let ico: IcoView = p.ask("ico_action", &pr, &action).await.unwrap();
    action.action_id = Some(ico.actions[0].action_id);
    action.status = ActionStatus::Done;
    let ico: IcoView = p.ask("ico_action", &pr, &action).await.unwrap();
    assert_eq!(ico.actions.len(), 1);
    assert_eq!(ico.actions[0].status, ActionStatus::Done);
    let history: Vec<_> = ico.actions[0].history.iter().map(|h| h.status).collect();
    assert_eq!(history, [ActionStatus::Open, ActionStatus::Done]);

    let ico: IcoView = p
        .ask(
            "ico_review",
            &pr,
            &ReviewRequest {
                ico_id,
                held_on: "2027-01-20".parse().unwrap(),
                notes: "Woonplek geregeld; schuldhulp loopt".into(),
                next_review_on: Some("2027-02-17".parse().unwrap()),
            },
        )
        .await
        .unwrap();
    assert_eq!(ico.next_review_on, Some("2027-02-17".parse().unwrap()));

    // The municipality's staff read it, and see it among the ICOs; they do not change it.
    let anna = staff("anna", "GM0392");
    let list: IcoList = p
        .ask("ico_list", &anna, &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(list.icos.len(), 1);
    let problem = p
        .ask::<_, IcoView>(
            "ico_close",
            &anna,
            &CloseIcoRequest {
                ico_id,
                reason: IcoCloseReason::GoalReached,
                note: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(problem.status, 403);
    let other = staff("vera", "GM0453");
    let problem = p
        .ask::<_, IcoView>("ico_get", &other, &serde_json::json!({"ico_id": ico_id}))
        .await
        .unwrap_err();
    assert_eq!(problem.status, 404);

    let mine: IcoList = p
        .ask("ico_list", &pr, &serde_json::json!({"mine": true}))
        .await
        .unwrap();
    assert_eq!(mine.icos.len(), 1);
    let closed: IcoView = p
        .ask(
            "ico_close",
            &pr,
            &CloseIcoRequest {
                ico_id,
                reason: IcoCloseReason::GoalReached,
                note: Some("Doel bereikt".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(closed.status, IcoStatus::Closed);
    assert_eq!(closed.close_reason, Some(IcoCloseReason::GoalReached));
    // Closed means closed.
    let problem = p
        .ask::<_, IcoView>("ico_action", &pr, &action)
        .await
        .unwrap_err();
    assert_eq!(problem.status, 409);

    // One event per step, without the texts staff wrote.
    for (part, n) in [
        ("application_submitted", 1),
        ("application_triaged", 1),
        ("ico_opened", 1),
        ("ico_action_changed", 2),
        ("ico_review_held", 1),
        ("ico_closed", 1),
    ] {
        let events = p.wait_for_events(part, n).await;
        assert_eq!(events.len(), n, "{part}");
        for e in &events {
            let raw = String::from_utf8_lossy(&e.payload);
            for secret in [
                "Jansen",
                "123456782",
                "Woonplek geregeld",
                "Tijdelijke woonplek",
            ] {
                assert!(!raw.contains(secret), "{part} carries {secret}: {raw}");
            }
        }
    }
    let closed_event: IcoClosed =
        serde_json::from_slice(&p.wait_for_events("ico_closed", 1).await[0].payload).unwrap();
    assert_eq!(
        (closed_event.reason, closed_event.open_actions),
        (IcoCloseReason::GoalReached, 0)
    );
    assert!(
        p.count(&format!(
            "SELECT count(*) FROM procesregie.access_log WHERE ico_id = '{ico_id}' AND user_id = 'anna'"
        ))
        .await
            >= 1,
        "staff's reads are logged"
    );
    p.stop().await;
}

#[tokio::test]
async fn an_overdue_action_and_an_overdue_review_raise_one_event_each() {
    let p = TestProcesregie::spawn_with(rcn_procesregie::Settings {
        scheduler_interval: std::time::Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let a = submitted(&p, "GM0392").await;
    let pr = regisseur("pr-1");
    let triaged: ApplicationView = p
        .ask(
            "triage_decide",
            &pr,
            &TriageDecision {
                application_id: a.application_id,
                outcome: TriageOutcome::Ico,
                reason: "voldoet".into(),
                advice: None,
            },
        )
        .await
        .unwrap();
    let ico_id = triaged.outcome.unwrap().ico_id.unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Amsterdam)
        .date_naive();
    let days = |n: i64| today + chrono::Duration::days(n);
    for (description, due_on, status) in [
        ("Te laat", days(-1), ActionStatus::InProgress),
        ("Op tijd", days(1), ActionStatus::Open),
        ("Klaar", days(-3), ActionStatus::Done),
    ] {
        let _: IcoView = p
            .ask(
                "ico_action",
                &pr,
                &ActionRequest {
                    ico_id,
                    action_id: None,
                    owner_organisation: "Gemeente Haarlem".into(),
                    description: description.into(),
                    due_on,
                    status,
                },
            )
            .await
            .unwrap();
    }
    let _: IcoView = p
        .ask(
            "ico_review",
            &pr,
            &ReviewRequest {
                ico_id,
                held_on: days(-20),
                notes: "Eerste evaluatie".into(),
                next_review_on: Some(days(-2)),
            },
        )
        .await
        .unwrap();
    p.wait_for_events("ico_action_overdue", 1).await;
    p.wait_for_events("ico_review_overdue", 1).await;
    // Several more rounds raise nothing new.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(p.wait_for_events("ico_action_overdue", 1).await.len(), 1);
    assert_eq!(p.wait_for_events("ico_review_overdue", 1).await.len(), 1);
    p.stop().await;
}

#[tokio::test]
async fn the_partners_of_an_ico_change_only_as_a_whole_valid_list_and_a_refusal_changes_nothing() {
    let p = TestProcesregie::spawn().await;
    let a = submitted(&p, "GM0392").await;
    let pr = regisseur("pr-1");
    let triaged: ApplicationView = p
        .ask(
            "triage_decide",
            &pr,
            &TriageDecision {
                application_id: a.application_id,
                outcome: TriageOutcome::Ico,
                reason: "voldoet aan A, B en D".into(),
                advice: None,
            },
        )
        .await
        .unwrap();
    let ico_id = triaged.outcome.unwrap().ico_id.unwrap();
    let partner = |organisation: &str, email: &str| Partner {
        organisation: organisation.into(),
        contact: "A. Jansen".into(),
        phone: "023-5551234".into(),
        email: email.into(),
    };
    let update = |partners: Vec<Partner>| IcoUpdate {
        ico_id,
        casusregisseur: None,
        partners: Some(partners),
        goal: None,
    };

    // Refused, each naming its field: no partner at all, an organisation left empty, an e-mail
    // address that is not one, a phone number past the contract's length.
    let mut too_long = partner("Reclassering", "r@reclassering.example");
    too_long.phone = "0".repeat(MAX_SHORT + 1);
    for (partners, field) in [
        (vec![], "partners"),
        (vec![partner("", "a@b.example")], "partners[0].organisation"),
        (
            vec![
                partner("GGZ", "a@b.example"),
                partner("Reclassering", "geen-adres"),
            ],
            "partners[1].email",
        ),
        (vec![too_long], "partners[0].phone"),
    ] {
        let problem = p
            .ask::<_, IcoView>("ico_update", &pr, &update(partners))
            .await
            .unwrap_err();
        assert_eq!(problem.status, 400, "{problem:?}");
        assert!(
            problem.invalid_params.iter().any(|i| i.name == field),
            "{field} is named: {problem:?}"
        );
    }
    let unchanged: IcoView = p
        .ask("ico_get", &pr, &serde_json::json!({"ico_id": ico_id}))
        .await
        .unwrap();
    assert_eq!(
        unchanged.partners, a.partners,
        "no refusal changed the partners"
    );

    // Only a procesregisseur changes them.
    let anna = staff("anna", "GM0392");
    let problem = p
        .ask::<_, IcoView>(
            "ico_update",
            &anna,
            &update(vec![partner("GGZ", "a@b.example")]),
        )
        .await
        .unwrap_err();
    assert_eq!(problem.status, 403);

    let wanted = vec![
        partner("Reclassering Nederland", "a.jansen@reclassering.example"),
        partner("GGZ Noord-Holland-Noord", ""),
    ];
    let ico: IcoView = p
        .ask("ico_update", &pr, &update(wanted.clone()))
        .await
        .unwrap();
    assert_eq!(ico.partners, wanted, "the list is replaced as a whole");
    assert!(!ico.partners.iter().any(|x| a.partners.contains(x)));
}
