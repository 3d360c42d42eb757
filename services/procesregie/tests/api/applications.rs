//! Applications: the completeness gate keeps an incomplete one as a draft that says what is
//! missing; a complete one goes on the agenda of the meeting its completion time decides; who
//! may see it, and every read in the access log.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::procesregie_api::{
    ApplicationList, ApplicationRef, ApplicationStatus, ApplicationView,
};
use rcn_contracts::procesregie_events::ApplicationSubmitted;

use crate::helpers::{TestProcesregie, complete_form, rcn, regisseur, staff};

#[tokio::test]
async fn an_incomplete_application_is_a_draft_that_says_what_is_missing() {
    let p = TestProcesregie::spawn().await;
    let anna = staff("anna", "GM0392");
    let mut form = complete_form("GM0392");
    form.goal = None;
    form.informed = Some(false);
    let draft: ApplicationView = p.ask("application_save", &anna, &form).await.unwrap();
    assert_eq!(
        draft.status,
        ApplicationStatus::Draft,
        "submit was asked, but it is incomplete"
    );
    let missing: Vec<_> = draft.missing.iter().map(|m| m.field.as_str()).collect();
    assert_eq!(missing, ["goal", "not_informed_why"]);
    assert_eq!(
        draft.missing[0].message,
        "Beschrijf het doel van de aanmelding."
    );
    assert_eq!(draft.triage_on, None);
    assert_eq!(
        draft.person.as_ref().unwrap().bsn_masked.as_deref(),
        Some("*****6782")
    );

    // The next version completes it: submitted, on the agenda its completion time decides.
    let mut next = complete_form("GM0392");
    next.application_id = Some(draft.application_id);
    let done: ApplicationView = p.ask("application_save", &anna, &next).await.unwrap();
    assert_eq!(done.status, ApplicationStatus::Submitted);
    assert!(done.missing.is_empty());
    let slot = rcn_procesregie::triage::TriageRules::default().slot_for(done.submitted_at.unwrap());
    assert_eq!(done.triage_on, Some(slot.meeting_on));
    let events = p.wait_for_events("application_submitted", 1).await;
    let e: ApplicationSubmitted = serde_json::from_slice(&events[0].payload).unwrap();
    assert_eq!(
        (e.application_id, e.triage_on),
        (done.application_id, slot.meeting_on)
    );
    let raw = String::from_utf8_lossy(&events[0].payload);
    assert!(
        !raw.contains("Jansen") && !raw.contains("123456782"),
        "{raw}"
    );

    // Submitted means fixed.
    let problem = p
        .ask::<_, ApplicationView>("application_save", &anna, &next)
        .await
        .unwrap_err();
    assert_eq!(problem.status, 409, "{problem:?}");
    p.stop().await;
}

#[tokio::test]
async fn wrong_input_is_refused_and_changes_nothing() {
    let p = TestProcesregie::spawn().await;
    let mut form = complete_form("GM0392");
    form.partners[0].email = "nobody".into();
    let problem = p
        .ask::<_, ApplicationView>("application_save", &staff("anna", "GM0392"), &form)
        .await
        .unwrap_err();
    assert_eq!(problem.status, 400);
    assert_eq!(problem.invalid_params[0].name, "partners[0].email");
    // A field the form does not have, by JSON path.
    let problem = p
        .ask_raw::<ApplicationView>(
            "application_save",
            &staff("anna", "GM0392"),
            br#"{"reason": "x", "criteria": {"e": {"met": true}}}"#.to_vec(),
        )
        .await
        .unwrap_err();
    assert_eq!(problem.invalid_params[0].name, "criteria.e", "{problem:?}");
    // Staff apply only for their own municipality's residents.
    let problem = p
        .ask::<_, ApplicationView>(
            "application_save",
            &staff("anna", "GM0392"),
            &complete_form("GM0453"),
        )
        .await
        .unwrap_err();
    assert_eq!(problem.status, 403);
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.applications")
            .await,
        0
    );
    p.stop().await;
}

#[tokio::test]
async fn staff_see_their_municipalitys_applications_the_region_sees_all_and_every_read_is_logged() {
    let p = TestProcesregie::spawn().await;
    let haarlem: ApplicationView = p
        .ask(
            "application_save",
            &staff("anna", "GM0392"),
            &complete_form("GM0392"),
        )
        .await
        .unwrap();
    let velsen: ApplicationView = p
        .ask(
            "application_save",
            &staff("vera", "GM0453"),
            &complete_form("GM0453"),
        )
        .await
        .unwrap();
    // The same person (by pseudonym) was referred twice: each shows the other.
    assert_eq!(velsen.earlier.len(), 1);
    assert_eq!(velsen.earlier[0].application_id, haarlem.application_id);

    let colleague = staff("bert", "GM0392");
    let seen: ApplicationView = p
        .ask(
            "application_get",
            &colleague,
            &ApplicationRef {
                application_id: haarlem.application_id,
                why: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(seen.applicant, "anna");
    let problem = p
        .ask::<_, ApplicationView>(
            "application_get",
            &colleague,
            &ApplicationRef {
                application_id: velsen.application_id,
                why: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(problem.status, 404, "another municipality's is not found");
    let list: ApplicationList = p
        .ask("application_list", &colleague, &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(list.applications.len(), 1);
    for who in [rcn("rcn-1"), regisseur("pr-1")] {
        let list: ApplicationList = p
            .ask("application_list", &who, &serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(list.applications.len(), 2);
    }
    let logged = p
        .count(&format!(
            "SELECT count(*) FROM procesregie.access_log WHERE user_id = 'bert' AND application_id = '{}'",
            haarlem.application_id
        ))
        .await;
    assert_eq!(logged, 2, "the get and the list");
    assert_eq!(
        p.count(&format!(
            "SELECT count(*) FROM procesregie.access_log WHERE user_id = 'bert' AND application_id = '{}'",
            velsen.application_id
        ))
        .await,
        0,
        "a refused read shows nothing and logs nothing"
    );
    p.stop().await;
}
