//! The triage board and its outcomes: the agenda of a meeting, and two procesregisseurs
//! recording an outcome at once — one wins, the other is told which outcome stands.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::procesregie_api::{
    ApplicationStatus, ApplicationView, TriageAgenda, TriageDecision, TriageOutcome,
};

use crate::helpers::{TestProcesregie, complete_form, regisseur, staff};

pub async fn submitted(p: &TestProcesregie, code: &str) -> ApplicationView {
    let who = staff(&format!("staff-{code}"), code);
    let a: ApplicationView = p
        .ask("application_save", &who, &complete_form(code))
        .await
        .unwrap();
    assert_eq!(a.status, ApplicationStatus::Submitted);
    a
}

#[tokio::test]
async fn the_agenda_lists_the_meetings_applications_and_the_drafts_waiting() {
    let p = TestProcesregie::spawn().await;
    let a = submitted(&p, "GM0392").await;
    let mut incomplete = complete_form("GM0453");
    incomplete.reason = None;
    let draft: ApplicationView = p
        .ask("application_save", &staff("vera", "GM0453"), &incomplete)
        .await
        .unwrap();
    let agenda: TriageAgenda = p
        .ask(
            "triage_agenda",
            &regisseur("pr-1"),
            &serde_json::json!({"meeting_on": a.triage_on.unwrap()}),
        )
        .await
        .unwrap();
    assert_eq!(agenda.meeting_on, a.triage_on.unwrap());
    assert!(agenda.cutoff_at > a.submitted_at.unwrap());
    assert_eq!(agenda.applications.len(), 1);
    assert_eq!(agenda.applications[0].application_id, a.application_id);
    assert_eq!(agenda.drafts.len(), 1);
    assert_eq!(agenda.drafts[0].application_id, draft.application_id);
    assert_eq!(agenda.drafts[0].missing, 1);
    // Municipal staff do not see the board.
    let problem = p
        .ask::<_, TriageAgenda>(
            "triage_agenda",
            &staff("anna", "GM0392"),
            &serde_json::json!({}),
        )
        .await
        .unwrap_err();
    assert_eq!(problem.status, 403);
    p.stop().await;
}

#[tokio::test]
async fn two_procesregisseurs_recording_at_once_one_wins_and_the_other_sees_it() {
    let p = TestProcesregie::spawn().await;
    let a = submitted(&p, "GM0392").await;
    let decision = |outcome, reason: &str| TriageDecision {
        application_id: a.application_id,
        outcome,
        reason: reason.into(),
        advice: (outcome == TriageOutcome::Advice).then(|| "Schakel het wijkteam in".into()),
    };
    let (pr1, pr2) = (regisseur("pr-1"), regisseur("pr-2"));
    let (ico, advice) = (
        decision(TriageOutcome::Ico, "voldoet aan A, B en D"),
        decision(TriageOutcome::Advice, "lokaal op te lossen"),
    );
    let (first, second) = tokio::join!(
        p.ask::<_, ApplicationView>("triage_decide", &pr1, &ico),
        p.ask::<_, ApplicationView>("triage_decide", &pr2, &advice),
    );
    let (won, lost) = match (first, second) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("exactly one outcome is recorded: {other:?}"),
    };
    let outcome = won.outcome.clone().unwrap();
    assert_eq!(lost.status, 409);
    assert!(
        lost.detail.contains(outcome.outcome.as_str()) && lost.detail.contains(&outcome.decided_by),
        "the loser is told which outcome stands: {lost:?}"
    );
    assert_eq!(won.status, ApplicationStatus::Triaged);
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.applications WHERE status = 'triaged'")
            .await,
        1
    );
    let icos = p.count("SELECT count(*) FROM procesregie.icos").await;
    assert_eq!(icos, i64::from(outcome.outcome == TriageOutcome::Ico));
    assert_eq!(p.wait_for_events("application_triaged", 1).await.len(), 1);

    // The applicant sees the outcome.
    let seen: ApplicationView = p
        .ask(
            "application_get",
            &staff("staff-GM0392", "GM0392"),
            &serde_json::json!({"application_id": a.application_id}),
        )
        .await
        .unwrap();
    assert_eq!(seen.outcome.unwrap().outcome, outcome.outcome);
    p.stop().await;
}

#[tokio::test]
async fn an_outcome_needs_its_reason_and_advice_needs_the_advice_and_only_a_procesregisseur_records_it()
 {
    let p = TestProcesregie::spawn().await;
    let a = submitted(&p, "GM0392").await;
    let mut d = TriageDecision {
        application_id: a.application_id,
        outcome: TriageOutcome::Advice,
        reason: " ".into(),
        advice: None,
    };
    let problem = p
        .ask::<_, ApplicationView>("triage_decide", &regisseur("pr-1"), &d)
        .await
        .unwrap_err();
    let fields: Vec<_> = problem
        .invalid_params
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(fields, ["reason", "advice"]);
    d.reason = "niet complex genoeg".into();
    d.advice = Some("Bespreek in het lokale zorg- en veiligheidsoverleg".into());
    let problem = p
        .ask::<_, ApplicationView>("triage_decide", &staff("anna", "GM0392"), &d)
        .await
        .unwrap_err();
    assert_eq!(problem.status, 403);
    let done: ApplicationView = p
        .ask("triage_decide", &regisseur("pr-1"), &d)
        .await
        .unwrap();
    assert_eq!(done.outcome.unwrap().advice, d.advice);
    assert_eq!(p.count("SELECT count(*) FROM procesregie.icos").await, 0);
    p.stop().await;
}
