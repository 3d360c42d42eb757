//! End-to-end: "who saw this person" across every service (issue 16). Person P's and person Q's
//! notices go through intake, router and casework; Haarlem staff open P's case and read the
//! routing decisions of its notice (as the case page does), Velsen staff read Q's; an RCN
//! coordinator inspects a dead letter holding P's BSN and one holding Q's. The privacy officer's
//! "who saw P" (as `rcn privacy who-saw` asks it: every service over NATS with the signed
//! identity) returns exactly P's reads — the router's, the dead-letter desk's, casework's — with
//! who, role, organisation, what and why, nothing of Q, and the question itself in every
//! service's answer, again on the next ask.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::casework_api::CaseRequest;
use rcn_contracts::dead_letters_api::{DeadLetterActRequest, DeadLetterShowReply};
use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_api::{AccessEntry, WHO_SAW_VERB, who_saw_subjects};
use rcn_contracts::routing_api::{DecisionsReply, DecisionsRequest};
use rcn_contracts::{Bsn, Gemeentecode};
use rcn_tests::{TestStack, release_notice_json};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

const P_KEY: &str = "PI-HAARLEM:PIH-2026-000123";
const Q_KEY: &str = "PI-HAARLEM:PIH-2026-000777";
/// The case page's reason, as the portal gives it to casework and the router.
const CASE_PAGE: &str =
    rcn_gateway::portal::reasons::page_reason(rcn_gateway::portal::reasons::Page::Case);
const P_LETTER_WHY: &str = "uitzoeken waarom de router de melding van P weigert";
const Q_LETTER_WHY: &str = "uitzoeken waarom de router de melding van Q weigert";

fn person(user: &str, role: Role, gm: Option<&str>) -> Identity {
    Identity {
        user_id: user.into(),
        role,
        gemeentecode: gm.map(|g| Gemeentecode::parse(g).unwrap()),
    }
}

/// Asks `subject` with `who`'s identity, signed as the gateway signs it.
async fn ask<Req: Serialize, Rep: DeserializeOwned>(
    stack: &TestStack,
    subject: String,
    who: &Identity,
    body: &Req,
) -> Result<Rep, ApiProblem> {
    let body = serde_json::to_vec(body).unwrap();
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

/// The entries of one service in an answer.
fn of<'a>(entries: &'a [AccessEntry], service: &str) -> Vec<&'a AccessEntry> {
    entries.iter().filter(|e| e.service == service).collect()
}

fn questions(entries: &[&AccessEntry]) -> usize {
    entries.iter().filter(|e| e.what == WHO_SAW_VERB).count()
}

#[tokio::test]
async fn who_saw_a_person_answers_with_every_services_reads_of_them_and_nothing_of_another() {
    let stack = TestStack::spawn().await;
    let subjects = stack.env.config.region.subjects();

    // P (Haarlem) and Q (Velsen).
    assert_eq!(
        stack.post_notice(&release_notice_json()).await.status(),
        202
    );
    let mut q = release_notice_json();
    q["notice_id"] = json!("PIH-2026-000777");
    q["person"] = json!({
        "bsn": "111222333", "family_name": "Bakker", "given_names": "Kees",
        "date_of_birth": "1985-02-03", "brp_municipality": "GM0453"
    });
    assert_eq!(stack.post_notice(&q).await.status(), 202);
    let case_p = stack.wait_for_case(P_KEY).await;
    let case_q = stack.wait_for_case(Q_KEY).await;
    stack.wait_for_decision(P_KEY).await;
    stack.wait_for_decision(Q_KEY).await;

    // Haarlem staff open P's case and read its routing decision, as the case page does; Velsen
    // staff do the same for Q.
    let anna = person("anna", Role::MunicipalStaff, Some("GM0392"));
    let vera = person("vera", Role::MunicipalStaff, Some("GM0453"));
    for (who, case_id, key) in [
        (&anna, case_p.case_id, P_KEY),
        (&vera, case_q.case_id, Q_KEY),
    ] {
        let _: serde_json::Value = ask(
            &stack,
            subjects.casework_api("case"),
            who,
            &CaseRequest {
                case_id,
                why: Some(CASE_PAGE.into()),
            },
        )
        .await
        .unwrap();
        let DecisionsReply::Decisions { decisions } = ask(
            &stack,
            subjects.router_decisions(),
            who,
            &DecisionsRequest {
                notice_keys: vec![key.into()],
                why: Some(CASE_PAGE.into()),
            },
        )
        .await
        .unwrap();
        assert_eq!(decisions.len(), 1, "{} sees the decision", who.user_id);
    }
    // Haarlem staff asking about Q's notice are shown nothing, so nothing is logged about Q.
    let DecisionsReply::Decisions { decisions } = ask(
        &stack,
        subjects.router_decisions(),
        &anna,
        &DecisionsRequest {
            notice_keys: vec![Q_KEY.into()],
            why: Some(CASE_PAGE.into()),
        },
    )
    .await
    .unwrap();
    assert!(decisions.is_empty());

    // An RCN coordinator inspects a dead letter holding P's BSN and one holding Q's.
    let rita = person("rita", Role::RcnCoordinator, None);
    for (key, bsn, why) in [
        ("PI-HAARLEM:dead-p", "123456782", P_LETTER_WHY),
        ("PI-HAARLEM:dead-q", "111222333", Q_LETTER_WHY),
    ] {
        let sequence = stack.router_dead_letter(key, bsn).await;
        let shown: DeadLetterShowReply = ask(
            &stack,
            subjects.dead_letters_show(),
            &rita,
            &DeadLetterActRequest {
                sequence,
                why: why.into(),
            },
        )
        .await
        .unwrap();
        assert!(shown.payload.contains(bsn));
    }

    // Only the privacy officer may ask; a refusal logs nothing (the next answers show no
    // question by anna).
    let p = Bsn::parse("123456782").unwrap();
    for (name, subject) in who_saw_subjects(&subjects) {
        let refused =
            ask::<_, serde_json::Value>(&stack, subject, &anna, &json!({"bsn": "123456782"}))
                .await
                .expect_err("refused");
        assert_eq!(refused.status, 403, "{name} refuses staff: {refused:?}");
    }

    let first = rcn::privacy::who_saw(&stack.nats, &subjects, stack.env.signer(), "fg", &p)
        .await
        .unwrap();
    assert!(
        first.missing.is_empty(),
        "every service answered: {:?}",
        first.missing
    );
    let entries = &first.entries;
    let shown = || format!("{entries:#?}");

    // The router: anna's read of P's routing decision, with the case page's reason; the
    // question.
    let router = of(entries, "router");
    let reads: Vec<_> = router.iter().filter(|e| e.what != WHO_SAW_VERB).collect();
    assert_eq!(reads.len(), 1, "{}", shown());
    let read = reads[0];
    assert_eq!(
        (read.user_id.as_str(), read.role, read.what.as_str()),
        ("anna", Role::MunicipalStaff, "routing_decisions")
    );
    assert_eq!(
        read.gemeentecode.as_ref().map(|g| g.as_str()),
        Some("GM0392")
    );
    assert_eq!(read.why.as_deref(), Some(CASE_PAGE));
    assert_eq!(questions(&router), 1, "{}", shown());

    // The dead-letter desk: rita's inspection of P's letter, with her reason; the question.
    let monitor = of(entries, "monitor");
    let reads: Vec<_> = monitor.iter().filter(|e| e.what != WHO_SAW_VERB).collect();
    assert_eq!(reads.len(), 1, "{}", shown());
    let read = reads[0];
    assert_eq!(
        (read.user_id.as_str(), read.role, read.what.as_str()),
        ("rita", Role::RcnCoordinator, "dead_letter_inspected")
    );
    assert_eq!(read.gemeentecode, None);
    assert_eq!(read.why.as_deref(), Some(P_LETTER_WHY));
    assert_eq!(questions(&monitor), 1, "{}", shown());

    // Casework: anna opened P's case.
    let casework = of(entries, "casework");
    assert!(
        casework.iter().any(|e| e.user_id == "anna"
            && e.what.starts_with("case_detail")
            && e.case_id == Some(case_p.case_id)
            && e.why.as_deref() == Some(CASE_PAGE)),
        "{}",
        shown()
    );
    assert_eq!(questions(&casework), 1, "{}", shown());

    // Intake and procesregie showed P to nobody: only the question.
    for service in ["intake", "procesregie"] {
        let theirs = of(entries, service);
        assert_eq!(theirs.len(), 1, "{service}: {}", shown());
        assert_eq!(
            (
                theirs[0].what.as_str(),
                theirs[0].user_id.as_str(),
                theirs[0].role
            ),
            (WHO_SAW_VERB, "fg", Role::PrivacyOfficer)
        );
    }

    // Nothing of Q: not vera's reads, not Q's letter, not Q's case; no refused asker.
    assert!(
        entries.iter().all(|e| e.user_id != "vera"
            && e.why.as_deref() != Some(Q_LETTER_WHY)
            && e.case_id != Some(case_q.case_id)
            && !(e.user_id == "anna" && e.what == WHO_SAW_VERB)),
        "{}",
        shown()
    );
    // Every entry is one of the above: the router's and the desk's reads, casework's reads by
    // anna, and the five questions.
    assert!(
        entries
            .iter()
            .all(|e| e.user_id == "anna" || e.user_id == "rita" || e.user_id == "fg"),
        "{}",
        shown()
    );

    // The question shows again on the next ask, now twice in every service.
    let second = rcn::privacy::who_saw(&stack.nats, &subjects, stack.env.signer(), "fg", &p)
        .await
        .unwrap();
    for (service, _) in who_saw_subjects(&subjects) {
        let theirs = of(&second.entries, service);
        assert_eq!(questions(&theirs), 2, "{service}: {:#?}", second.entries);
    }

    // And Q's answer holds Q's reads, none of P's.
    let q_answer = rcn::privacy::who_saw(
        &stack.nats,
        &subjects,
        stack.env.signer(),
        "fg",
        &Bsn::parse("111222333").unwrap(),
    )
    .await
    .unwrap();
    let q_entries = &q_answer.entries;
    assert!(
        q_entries
            .iter()
            .any(|e| e.service == "router" && e.user_id == "vera" && e.what == "routing_decisions"),
        "{q_entries:#?}"
    );
    assert!(
        q_entries
            .iter()
            .any(|e| e.service == "monitor" && e.why.as_deref() == Some(Q_LETTER_WHY)),
        "{q_entries:#?}"
    );
    assert!(
        q_entries.iter().all(|e| e.user_id != "anna"
            && e.why.as_deref() != Some(P_LETTER_WHY)
            && e.case_id != Some(case_p.case_id)),
        "{q_entries:#?}"
    );
    stack.stop().await;
}
