//! `privacy_accesses`: the privacy officer asks procesregie who saw a person. The answer holds
//! exactly the logged reads of that person's applications and ICOs (found through the person
//! pseudonym) and the question itself, nothing about another person, also once retention has
//! deleted the applications and ICOs, and also the reads of a draft from before it named the
//! person; only the privacy officer may ask.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use chrono::{DateTime, Months, Utc};
use rcn_contracts::Bsn;
use rcn_contracts::access_log::{Read as AccessRead, What};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{WHO_SAW_VERB, WhoSawReply};
use rcn_contracts::procesregie_api::{
    ApplicationForm, ApplicationView, CloseIcoRequest, IcoCloseReason, IcoView, SuggestionList,
    TriageDecision, TriageOutcome,
};
use rcn_contracts::retention::RecordClass;
use rcn_runtime::retention::ManualClock;
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

async fn decide(p: &TestProcesregie, a: &ApplicationView, outcome: TriageOutcome) -> Option<Uuid> {
    let decided: ApplicationView = p
        .ask(
            "triage_decide",
            &regisseur("pr-1"),
            &TriageDecision {
                application_id: a.application_id,
                outcome,
                reason: "besproken in de triage".into(),
                advice: None,
            },
        )
        .await
        .unwrap();
    decided.outcome.unwrap().ico_id
}

async fn who_saw(p: &TestProcesregie, bsn: &str) -> WhoSawReply {
    p.ask(WHO_SAW_VERB, &officer(), &json!({"bsn": bsn}))
        .await
        .unwrap()
}

#[tokio::test]
async fn who_saw_still_finds_the_reads_of_applications_and_icos_retention_has_deleted() {
    let p = TestProcesregie::spawn().await;
    // The person's application becomes an ICO that closes; the other person's is not accepted.
    let mine = apply_for(&p, PERSON).await;
    let theirs = apply_for(&p, OTHER).await;
    let ico_id = decide(&p, &mine, TriageOutcome::Ico).await.unwrap();
    assert_eq!(decide(&p, &theirs, TriageOutcome::NotAccepted).await, None);
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
    let _: IcoView = p
        .ask(
            "ico_close",
            &regisseur("pr-1"),
            &CloseIcoRequest {
                ico_id,
                reason: IcoCloseReason::GoalReached,
                note: None,
            },
        )
        .await
        .unwrap();
    let before = who_saw(&p, PERSON).await;
    let (_, reads) = before.entries.split_last().unwrap();
    assert_eq!(
        reads
            .iter()
            .map(|e| (e.user_id.clone(), e.what.clone()))
            .collect::<Vec<_>>(),
        logged(&p, &[mine.application_id], &[ico_id]).await,
        "{before:#?}"
    );
    assert!(
        reads
            .iter()
            .any(|e| e.user_id == "rcn-1" && e.ico_id == Some(ico_id))
    );
    let theirs_before = who_saw(&p, OTHER).await;
    let (_, their_reads) = theirs_before.entries.split_last().unwrap();
    assert!(!their_reads.is_empty());

    // Past the ICO years (2 by default) but within the access log's (3): both applications and
    // the ICO go, every read of them stays.
    let now = DateTime::from_timestamp(Utc::now().timestamp() + 1, 0).unwrap();
    let job = rcn_procesregie::retention_job(p.config())
        .await
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(
            now.checked_add_months(Months::new(25)).unwrap(),
        )));
    let run = job.run_once().await.unwrap();
    let removed = |class: RecordClass| -> u64 {
        run.iter()
            .filter(|r| r.class == class)
            .map(|r| r.count)
            .sum()
    };
    assert_eq!(
        (removed(RecordClass::Ico), removed(RecordClass::AccessLog)),
        (2, 0),
        "{run:?}"
    );
    job.pool.close().await;
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.applications")
            .await,
        0
    );
    assert_eq!(p.count("SELECT count(*) FROM procesregie.icos").await, 0);

    // The same reads and questions as before, then this question; the other person's likewise.
    let after = who_saw(&p, PERSON).await;
    assert_eq!(after.entries.len(), before.entries.len() + 1, "{after:#?}");
    assert_eq!(after.entries[..before.entries.len()], before.entries[..]);
    assert_eq!(after.entries.last().unwrap().what, WHO_SAW_VERB);
    assert!(after.entries.iter().all(|e| {
        e.application_id != Some(theirs.application_id)
            && (e.what == WHO_SAW_VERB
                || e.application_id == Some(mine.application_id)
                || e.ico_id == Some(ico_id))
    }));
    let theirs_after = who_saw(&p, OTHER).await;
    assert_eq!(
        theirs_after.entries[..theirs_before.entries.len()],
        theirs_before.entries[..]
    );
    assert!(
        their_reads
            .iter()
            .all(|e| e.application_id == Some(theirs.application_id)),
        "{theirs_after:#?}"
    );
    p.stop().await;
}

#[tokio::test]
async fn the_reads_of_a_draft_from_before_it_named_the_person_are_found_while_it_exists() {
    let p = TestProcesregie::spawn().await;
    let anna = staff("anna", "GM0392");
    // A draft without a BSN yet: its reads are logged without a person pseudonym.
    let mut form = complete_form("GM0392");
    form.person.as_mut().unwrap().bsn = None;
    form.submit = false;
    let draft: ApplicationView = p.ask("application_save", &anna, &form).await.unwrap();
    let _: ApplicationView = p
        .ask(
            "application_get",
            &rcn("rcn-1"),
            &json!({"application_id": draft.application_id}),
        )
        .await
        .unwrap();
    let unkeyed = p
        .count(&format!(
            "SELECT count(*) FROM procesregie.access_log
             WHERE application_id = '{}' AND person_key IS NULL",
            draft.application_id
        ))
        .await;
    assert_eq!(
        unkeyed, 2,
        "the save and the read, before the BSN was known"
    );
    // Another person's application is read too, and must not show.
    let other = apply_for(&p, OTHER).await;
    // The next version names the person: from then on its reads carry the pseudonym.
    form.application_id = Some(draft.application_id);
    form.person.as_mut().unwrap().bsn = Some(Bsn::parse(PERSON).unwrap());
    let _: ApplicationView = p.ask("application_save", &anna, &form).await.unwrap();

    let reply = who_saw(&p, PERSON).await;
    let (question, reads) = reply.entries.split_last().unwrap();
    assert_eq!(question.what, WHO_SAW_VERB);
    assert_eq!(
        reads
            .iter()
            .map(|e| (e.user_id.clone(), e.what.clone()))
            .collect::<Vec<_>>(),
        logged(&p, &[draft.application_id], &[]).await,
        "{reply:#?}"
    );
    assert_eq!(reads.len(), 3, "{reply:#?}");
    assert!(
        reads
            .iter()
            .all(|e| e.application_id == Some(draft.application_id)),
        "{reply:#?}"
    );
    assert!(
        !logged(&p, &[other.application_id], &[]).await.is_empty(),
        "the other person's save was logged, just not here"
    );
    p.stop().await;
}

/// The case page shows procesregie's part of a case: its suggestions, applications and the ICO
/// summaries (the person's family name, the procesregisseur, the next review). Those summaries
/// are reads of the case's person too: logged with the page's reason, found by "who saw" for
/// that person and not for another; a reason that is too long or not one line is refused before
/// anything is read.
#[tokio::test]
async fn the_ico_summaries_a_case_page_shows_are_reads_of_its_person_with_the_pages_reason() {
    let p = TestProcesregie::spawn().await;
    let key = p.config().pseudonym_key.as_ref().unwrap();
    let mut case = crate::cases_in::case_opened("GM0392", None, false, &[]);
    case.person_key = Some(key.person_key(&Bsn::parse(PERSON).unwrap()));
    p.publish_case_event(
        p.subjects.case_opened(&case.gemeentecode),
        &case.event_id.to_string(),
        &case,
    )
    .await;
    p.wait_until_caught_up().await;
    let anna = staff("anna", "GM0392");
    let application: ApplicationView = p
        .ask(
            "application_save",
            &anna,
            &ApplicationForm {
                case_id: Some(case.case_id),
                person: None,
                gemeentecode: None,
                ..complete_form("GM0392")
            },
        )
        .await
        .unwrap();
    let triaged: ApplicationView = p
        .ask(
            "triage_decide",
            &regisseur("pr-1"),
            &TriageDecision {
                application_id: application.application_id,
                outcome: TriageOutcome::Ico,
                reason: "voldoet aan A, B en D".into(),
                advice: None,
            },
        )
        .await
        .unwrap();
    let ico_id = triaged.outcome.unwrap().ico_id.unwrap();
    let before = p.count("SELECT count(*) FROM procesregie.access_log").await;

    for why in ["x".repeat(501), "Casus\nbekijken".to_owned()] {
        let refused = p
            .ask::<_, SuggestionList>(
                "suggestion_list",
                &anna,
                &json!({"case_id": case.case_id, "why": why}),
            )
            .await
            .unwrap_err();
        assert_eq!(refused.status, 400, "{refused:?}");
        assert_eq!(refused.invalid_params[0].name, "why", "{refused:?}");
    }
    assert_eq!(
        p.count("SELECT count(*) FROM procesregie.access_log").await,
        before,
        "a refused read logs nothing"
    );

    // The case page asks as Anna, with its reason.
    let shown: SuggestionList = p
        .ask(
            "suggestion_list",
            &anna,
            &json!({"case_id": case.case_id, "why": " Casus bekijken "}),
        )
        .await
        .unwrap();
    assert_eq!(
        shown.icos.iter().map(|i| i.ico_id).collect::<Vec<_>>(),
        [ico_id]
    );

    let reply: WhoSawReply = p
        .ask(WHO_SAW_VERB, &officer(), &json!({"bsn": PERSON}))
        .await
        .unwrap();
    let summaries: Vec<_> = reply
        .entries
        .iter()
        .filter(|e| e.user_id == "anna" && e.what == What::new(AccessRead::IcoList).to_log())
        .collect();
    assert_eq!(summaries.len(), 1, "{reply:#?}");
    assert_eq!(summaries[0].ico_id, Some(ico_id));
    assert_eq!(summaries[0].why.as_deref(), Some("Casus bekijken"));
    assert_eq!(
        summaries[0].gemeentecode.as_ref().map(|g| g.as_str()),
        Some("GM0392")
    );

    let theirs: WhoSawReply = p
        .ask(WHO_SAW_VERB, &officer(), &json!({"bsn": OTHER}))
        .await
        .unwrap();
    assert!(
        theirs.entries.iter().all(|e| e.what == WHO_SAW_VERB),
        "{theirs:#?}"
    );
    p.stop().await;
}
