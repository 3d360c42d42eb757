//! End-to-end: a partner's notice with a risk flag → a case → procesregie's suggestion → an
//! application → the triage → an ICO → its plan, a review and its closure, through the partner
//! API and the services' NATS APIs as the gateway would call them (the portal's pages come later).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::procesregie_api::{
    ActionStatus, ApplicationStatus, ApplicationView, Criteria, Criterion, IcoCloseReason,
    IcoStatus, IcoView, Partner, SuggestionList, SuggestionRule, TriageOutcome,
};
use rcn_contracts::procesregie_events::ProcesregieEvent;
use rcn_runtime::testing::{eventually, stream_messages};
use rcn_tests::{TestStack, release_notice_json};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

fn person(user: &str, role: Role, gm: Option<&str>) -> Identity {
    Identity {
        user_id: user.into(),
        role,
        gemeentecode: gm.map(|g| rcn_contracts::Gemeentecode::parse(g).unwrap()),
    }
}

async fn ask<Req: Serialize, Rep: DeserializeOwned>(
    stack: &TestStack,
    verb: &str,
    who: &Identity,
    body: &Req,
) -> Result<Rep, ApiProblem> {
    let subject = stack.env.config.region.subjects().procesregie_api(verb);
    let body = serde_json::to_vec(body).unwrap();
    // Signed as the gateway signs: procesregie believes an identity only so.
    let h = stack.env.signed(&who.to_header(), &subject, &body);
    let reply = stack
        .nats
        .request_with_headers(subject, h, body.into())
        .await
        .unwrap();
    serde_json::from_slice::<ApiReply<Rep>>(&reply.payload)
        .unwrap()
        .into_result()
}

#[tokio::test]
async fn a_notice_with_a_risk_flag_runs_through_suggestion_application_triage_and_ico_to_closure() {
    let stack = TestStack::spawn().await;
    let mut notice = release_notice_json();
    notice["risk_flags"] = json!(["DOMESTIC_VIOLENCE"]);
    assert_eq!(stack.post_notice(&notice).await.status(), 202);
    let case = stack.wait_for_case("PI-HAARLEM:PIH-2026-000123").await;

    let anna = person("anna", Role::MunicipalStaff, Some("GM0392"));
    let rcn = person("rcn-1", Role::RcnCoordinator, None);
    let pr = person("pr-1", Role::Procesregisseur, None);
    // Casework told procesregie the risk flag; its rule suggests, it does not escalate.
    let suggestion = eventually(PATIENCE, "a risk-flag suggestion", || async {
        let list: SuggestionList = ask(
            &stack,
            "suggestion_list",
            &rcn,
            &json!({"case_id": case.case_id}),
        )
        .await
        .ok()?;
        list.suggestions
            .into_iter()
            .find(|s| s.rule == SuggestionRule::RiskFlag)
    })
    .await;
    assert_eq!(
        suggestion.inputs.unwrap()["risk_flags"],
        json!(["DOMESTIC_VIOLENCE"])
    );
    assert_eq!(
        stack
            .count("SELECT count(*) FROM procesregie.applications")
            .await,
        0
    );

    // The municipality accepts it: a draft from the case, completed and submitted.
    let draft: ApplicationView = ask(
        &stack,
        "suggestion_accept",
        &anna,
        &json!({"suggestion_id": suggestion.suggestion_id}),
    )
    .await
    .unwrap();
    assert_eq!(draft.status, ApplicationStatus::Draft);
    let yes = |why: &str| Criterion {
        met: true,
        explanation: Some(why.into()),
    };
    let form = json!({
        "application_id": draft.application_id,
        "reason": "Huiselijk geweld en geen woning na ontslag",
        "goal": "Veilige woonplek en toezicht",
        "criteria": Criteria { a: yes("wonen, relaties, financiën"), b: yes("zorg en veiligheid"), c: yes("kinderen in het gezin"), d: Criterion::default() },
        "partners": [Partner { organisation: "Veilig Thuis".into(), contact: "K. Smit".into(), phone: "0800-2000".into(), email: "k.smit@veiligthuis.example".into() }],
        "informed": false,
        "not_informed_why": "Informeren brengt het slachtoffer in gevaar",
        "submit": true,
    });
    let submitted: ApplicationView = ask(&stack, "application_save", &anna, &form).await.unwrap();
    assert_eq!(
        submitted.status,
        ApplicationStatus::Submitted,
        "{:?}",
        submitted.missing
    );
    assert_eq!(submitted.case_id, Some(case.case_id));

    let triaged: ApplicationView = ask(
        &stack,
        "triage_decide",
        &pr,
        &json!({"application_id": submitted.application_id, "outcome": "ico", "reason": "A, B en C"}),
    )
    .await
    .unwrap();
    let outcome = triaged.outcome.unwrap();
    assert_eq!(outcome.outcome, TriageOutcome::Ico);
    let ico_id = outcome.ico_id.unwrap();

    let ico: IcoView = ask(
        &stack,
        "ico_action",
        &pr,
        &json!({"ico_id": ico_id, "owner_organisation": "Gemeente Haarlem", "description": "Opvangplek regelen", "due_on": "2026-12-20", "status": "in_progress"}),
    )
    .await
    .unwrap();
    assert_eq!(ico.actions[0].status, ActionStatus::InProgress);
    let _: IcoView = ask(
        &stack,
        "ico_review",
        &pr,
        &json!({"ico_id": ico_id, "held_on": "2027-01-05", "notes": "Opvang geregeld", "next_review_on": "2027-02-02"}),
    )
    .await
    .unwrap();
    let closed: IcoView = ask(
        &stack,
        "ico_close",
        &pr,
        &json!({"ico_id": ico_id, "reason": "handed_back", "note": "Terug naar het lokale team"}),
    )
    .await
    .unwrap();
    assert_eq!(closed.status, IcoStatus::Closed);
    assert_eq!(closed.close_reason, Some(IcoCloseReason::HandedBack));

    // The case shows its ICO, and the monitor gets one event per step.
    let list: SuggestionList = ask(
        &stack,
        "suggestion_list",
        &anna,
        &json!({"case_id": case.case_id, "status": "accepted"}),
    )
    .await
    .unwrap();
    assert_eq!(list.icos.len(), 1);
    let js = async_nats::jetstream::new(stack.nats.clone());
    let stream = stack.env.config.region.subjects().procesregie_stream();
    let events = eventually(PATIENCE, "six kinds of procesregie event", || async {
        let m = stream_messages(&js, &stream).await;
        (m.len() >= 6).then_some(m)
    })
    .await;
    for kind in [
        ProcesregieEvent::ApplicationSubmitted,
        ProcesregieEvent::ApplicationTriaged,
        ProcesregieEvent::IcoOpened,
        ProcesregieEvent::IcoActionChanged,
        ProcesregieEvent::IcoReviewHeld,
        ProcesregieEvent::IcoClosed,
    ] {
        assert!(
            events.iter().any(|m| m.subject.ends_with(kind.token())),
            "{} on PROCESREGIE",
            kind.token()
        );
    }
    for m in &events {
        let raw = String::from_utf8_lossy(&m.payload);
        assert!(
            !raw.contains("123456782") && !raw.contains("Jansen"),
            "{raw}"
        );
        assert!(!m.subject.contains("123456782"));
    }
    stack.stop().await;
}
