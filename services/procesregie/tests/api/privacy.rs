//! `privacy_accesses`: the privacy officer asks procesregie who saw a person. The answer holds
//! exactly the logged reads of that person's applications and ICOs (found through the person
//! pseudonym) and the question itself, nothing about another person; only the privacy officer
//! may ask.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::Bsn;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::procesregie_api::{ApplicationView, IcoView, TriageDecision, TriageOutcome};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestProcesregie, complete_form, rcn, regisseur, staff};

const PERSON: &str = "123456782";
const OTHER: &str = "111222333";

fn officer() -> Identity {
    Identity {
        user_id: "fg-1".into(),
        role: Role::PrivacyOfficer,
        gemeentecode: None,
    }
}

async fn apply_for(p: &TestProcesregie, bsn: &str) -> ApplicationView {
    let mut form = complete_form("GM0392");
    form.person.as_mut().unwrap().bsn = Some(Bsn::parse(bsn).unwrap());
    p.ask("application_save", &staff("anna", "GM0392"), &form)
        .await
        .unwrap()
}

/// (user, what, application, ico) of every access-log row about these applications or ICOs.
async fn logged(p: &TestProcesregie, apps: &[Uuid], icos: &[Uuid]) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT user_id, what FROM procesregie.access_log
         WHERE application_id = ANY($1) OR ico_id = ANY($2) ORDER BY at, what",
    )
    .bind(apps)
    .bind(icos)
    .fetch_all(&p.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn who_saw_returns_exactly_the_reads_of_the_persons_records_and_the_question_itself() {
    let p = TestProcesregie::spawn().await;
    let mine = apply_for(&p, PERSON).await;
    let theirs = apply_for(&p, OTHER).await;
    let pr = regisseur("pr-1");
    let triaged: ApplicationView = p
        .ask(
            "triage_decide",
            &pr,
            &TriageDecision {
                application_id: mine.application_id,
                outcome: TriageOutcome::Ico,
                reason: "voldoet aan A, B en D".into(),
                advice: None,
            },
        )
        .await
        .unwrap();
    let ico_id = triaged.outcome.unwrap().ico_id.unwrap();
    let _: IcoView = p
        .ask("ico_get", &rcn("rcn-1"), &json!({"ico_id": ico_id}))
        .await
        .unwrap();
    for a in [&mine, &theirs] {
        let _: ApplicationView = p
            .ask(
                "application_get",
                &rcn("rcn-2"),
                &json!({"application_id": a.application_id}),
            )
            .await
            .unwrap();
    }

    let reply: WhoSawReply = p
        .ask(WHO_SAW_VERB, &officer(), &json!({"bsn": PERSON}))
        .await
        .unwrap();
    assert_eq!(reply.service, "procesregie");
    let expected = logged(&p, &[mine.application_id], &[ico_id]).await;
    assert!(
        expected.contains(&("rcn-1".into(), "ico (partner_contacts: false)".into()))
            && expected.contains(&(
                "rcn-2".into(),
                "application (partner_contacts: false)".into()
            )),
        "{expected:?}"
    );
    let (question, reads) = reply.entries.split_last().unwrap();
    let got: Vec<(String, String)> = reads
        .iter()
        .map(|e| (e.user_id.clone(), e.what.clone()))
        .collect();
    assert_eq!(got, expected, "{reply:#?}");
    assert!(
        reads
            .iter()
            .all(|e| { e.application_id == Some(mine.application_id) || e.ico_id == Some(ico_id) })
    );
    assert_eq!(
        (
            question.user_id.as_str(),
            question.role,
            question.what.as_str()
        ),
        ("fg-1", Role::PrivacyOfficer, WHO_SAW_VERB),
        "the question itself is in the log"
    );
    // The other person's reads are in the log, but not in this answer.
    assert!(!logged(&p, &[theirs.application_id], &[]).await.is_empty());

    let again: WhoSawReply = p
        .ask(WHO_SAW_VERB, &officer(), &json!({"bsn": PERSON}))
        .await
        .unwrap();
    assert_eq!(again.entries.len(), reply.entries.len() + 1);
    p.stop().await;
}

#[tokio::test]
async fn only_the_privacy_officer_may_ask_who_saw_a_person() {
    let p = TestProcesregie::spawn().await;
    apply_for(&p, PERSON).await;
    for who in [staff("anna", "GM0392"), rcn("rcn-1"), regisseur("pr-1")] {
        let problem = p
            .ask::<_, WhoSawReply>(WHO_SAW_VERB, &who, &json!({"bsn": PERSON}))
            .await
            .unwrap_err();
        assert_eq!(problem.status, 403, "{who:?}");
    }
    let problem = p
        .ask::<_, WhoSawReply>(WHO_SAW_VERB, &officer(), &json!({"bsn": "123456783"}))
        .await
        .unwrap_err();
    assert_eq!(problem.status, 400);
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.privacy_questions")
            .await,
        0
    );
    p.stop().await;
}
