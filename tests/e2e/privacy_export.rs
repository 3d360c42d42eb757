//! End-to-end: the person's right of access (AVG art. 15, issue 16). Two persons' notices go
//! through intake, router and casework (the first one's risk flag on into procesregie: an
//! application, the triage, an ICO with an action); the privacy officer exports person 1 as the
//! CLI does (`rcn::privacy::export`: every service asked over NATS with the signed identity) and
//! gets every record the test made for person 1 and nothing of person 2; anyone else is refused
//! by every service and nothing is logged for them; the export itself is logged in each service
//! with who, why and the pseudonym, never the BSN.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::envelope::{ApiProblem, ApiReply};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::privacy_export::{ExportRequest, RecipientKind, export_subjects};
use rcn_contracts::procesregie_api::{
    ApplicationStatus, ApplicationView, Criteria, Criterion, IcoView, Partner, SuggestionList,
    SuggestionRule,
};
use rcn_contracts::{Bsn, Condition};
use rcn_runtime::testing::eventually;
use rcn_tests::{TestStack, release_notice_json};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);
const WHY: &str = "Inzageverzoek van 1 december 2026, kenmerk AVG-2026-017";

fn person(user: &str, role: Role, gm: Option<&str>) -> Identity {
    Identity {
        user_id: user.into(),
        role,
        gemeentecode: gm.map(|g| rcn_contracts::Gemeentecode::parse(g).unwrap()),
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

async fn procesregie<Req: Serialize, Rep: DeserializeOwned>(
    stack: &TestStack,
    verb: &str,
    who: &Identity,
    body: &Req,
) -> Result<Rep, ApiProblem> {
    let subject = stack.env.config.region.subjects().procesregie_api(verb);
    ask(stack, subject, who, body).await
}

/// Accepts procesregie's risk-flag suggestion for `case_id` as `who`: the draft application.
async fn accept_suggestion(
    stack: &TestStack,
    who: &Identity,
    case_id: uuid::Uuid,
) -> ApplicationView {
    let rcn = person("rcn-1", Role::RcnCoordinator, None);
    let suggestion = eventually(PATIENCE, "a risk-flag suggestion", || async {
        let list: SuggestionList =
            procesregie(stack, "suggestion_list", &rcn, &json!({"case_id": case_id}))
                .await
                .ok()?;
        list.suggestions
            .into_iter()
            .find(|s| s.rule == SuggestionRule::RiskFlag)
    })
    .await;
    procesregie(
        stack,
        "suggestion_accept",
        who,
        &json!({"suggestion_id": suggestion.suggestion_id}),
    )
    .await
    .unwrap()
}

/// Rows of `schema`'s privacy_questions.
async fn questions(stack: &TestStack, schema: &str) -> i64 {
    stack
        .count(&format!("SELECT count(*) FROM {schema}.privacy_questions"))
        .await
}

#[tokio::test]
async fn the_privacy_officer_exports_every_record_of_one_person_and_nothing_of_another() {
    let stack = TestStack::spawn().await;

    // Person 1 (Piet Jansen, Haarlem): a planned release with a risk flag, then a moved date.
    let mut first = release_notice_json();
    first["risk_flags"] = json!(["DOMESTIC_VIOLENCE"]);
    assert_eq!(stack.post_notice(&first).await.status(), 202);
    let mut moved = release_notice_json();
    moved["notice_id"] = json!("PIH-2026-000124");
    moved["kind"] = json!("release_date_changed");
    moved["sent_at"] = json!("2026-11-25T10:00:00Z");
    moved["detention"]["expected_release_on"] = json!("2026-12-18");
    assert_eq!(stack.post_notice(&moved).await.status(), 202);

    // Person 2 (Kees Bakker, Velsen): a notice of their own, also with a risk flag.
    let mut other = release_notice_json();
    other["notice_id"] = json!("PIH-2026-000777");
    other["person"] = json!({
        "bsn": "111222333", "family_name": "Bakker", "given_names": "Kees",
        "date_of_birth": "1985-02-03", "brp_municipality": "GM0453"
    });
    other["risk_flags"] = json!(["TBS"]);
    assert_eq!(stack.post_notice(&other).await.status(), 202);

    let case1 = stack.wait_for_case("PI-HAARLEM:PIH-2026-000123").await;
    let case2 = stack.wait_for_case("PI-HAARLEM:PIH-2026-000777").await;
    assert_ne!(case1.case_id, case2.case_id);
    stack.wait_for_decision("PI-HAARLEM:PIH-2026-000124").await;
    eventually(PATIENCE, "the moved date on case 1", || async {
        (stack
            .count(&format!(
                "SELECT count(*) FROM casework.case_notices WHERE case_id = '{}'",
                case1.case_id
            ))
            .await
            == 2)
            .then_some(())
    })
    .await;

    // Anna (Haarlem) claims person 1's housing task: a history entry beyond "opened".
    let anna = person("anna", Role::MunicipalStaff, Some("GM0392"));
    let subjects = stack.env.config.region.subjects();
    let _: serde_json::Value = ask(
        &stack,
        subjects.casework_api("claim"),
        &anna,
        &json!({"task": {"case_id": case1.case_id, "condition": "housing"}}),
    )
    .await
    .unwrap();

    // Person 1 into procesregie: application → triage → ICO with an action.
    let draft = accept_suggestion(&stack, &anna, case1.case_id).await;
    let yes = |why: &str| Criterion {
        met: true,
        explanation: Some(why.into()),
    };
    let form = json!({
        "application_id": draft.application_id,
        "reason": "Huiselijk geweld en geen woning na ontslag",
        "goal": "Veilige woonplek en toezicht",
        "criteria": Criteria { a: yes("wonen, relaties"), b: yes("zorg en veiligheid"), c: yes("kinderen in het gezin"), d: Criterion::default() },
        "partners": [Partner { organisation: "Veilig Thuis".into(), contact: "K. Smit".into(), phone: "0800-2000".into(), email: "k.smit@veiligthuis.example".into() }],
        "informed": true,
        "submit": true,
    });
    let submitted: ApplicationView = procesregie(&stack, "application_save", &anna, &form)
        .await
        .unwrap();
    assert_eq!(
        submitted.status,
        ApplicationStatus::Submitted,
        "{:?}",
        submitted.missing
    );
    let pr = person("pr-1", Role::Procesregisseur, None);
    let triaged: ApplicationView = procesregie(
        &stack,
        "triage_decide",
        &pr,
        &json!({"application_id": submitted.application_id, "outcome": "ico", "reason": "A, B en C"}),
    )
    .await
    .unwrap();
    let ico_id = triaged.outcome.unwrap().ico_id.unwrap();
    let _: IcoView = procesregie(
        &stack,
        "ico_action",
        &pr,
        &json!({"ico_id": ico_id, "owner_organisation": "Reclassering Nederland", "description": "Toezicht afspreken", "due_on": "2026-12-20", "status": "open"}),
    )
    .await
    .unwrap();
    // Person 2's application (a draft) must not show in person 1's export.
    let velsen = person("vera", Role::MunicipalStaff, Some("GM0453"));
    let other_application = accept_suggestion(&stack, &velsen, case2.case_id).await;

    // Anyone but the privacy officer is refused by every service, and nothing is logged.
    let schemas = ["intake", "router", "casework", "procesregie"];
    let mut before = Vec::new();
    for s in schemas {
        before.push(questions(&stack, s).await);
    }
    let request = ExportRequest {
        bsn: Bsn::parse("123456782").unwrap(),
        why: WHY.into(),
    };
    let s = export_subjects(&subjects);
    for who in [
        &anna,
        &pr,
        &person("rcn-1", Role::RcnCoordinator, None),
        &person("admin", Role::Administrator, None),
    ] {
        for (name, subject) in [
            ("intake", s.intake.clone()),
            ("router", s.router.clone()),
            ("casework", s.casework.clone()),
            ("procesregie", s.procesregie.clone()),
        ] {
            let refused = ask::<_, serde_json::Value>(&stack, subject, who, &request)
                .await
                .expect_err("refused");
            assert_eq!(
                refused.status, 403,
                "{name} refuses {}: {refused:?}",
                who.user_id
            );
        }
    }
    for (s, n) in schemas.iter().zip(&before) {
        assert_eq!(
            questions(&stack, s).await,
            *n,
            "{s} logged nothing for a refusal"
        );
    }

    // The privacy officer's export, as `rcn privacy export` makes it.
    let export = rcn::privacy::export(
        &stack.nats,
        &subjects,
        stack.env.signer(),
        "fg",
        &request.bsn,
        WHY,
    )
    .await
    .unwrap();
    assert!(
        export.complete(),
        "every service answered: {:?}",
        export.missing
    );
    let text = serde_json::to_string(&export).unwrap();

    // Every record the test made for person 1.
    let intake = export.intake.as_ref().unwrap();
    let keys: Vec<&str> = intake
        .notices
        .iter()
        .map(|n| n.notice_key.as_str())
        .collect();
    assert_eq!(
        keys,
        ["PI-HAARLEM:PIH-2026-000123", "PI-HAARLEM:PIH-2026-000124"]
    );
    let router = export.router.as_ref().unwrap();
    assert_eq!(router.decisions.len(), 2, "{:?}", router.decisions);
    for d in &router.decisions {
        assert_eq!(d.gemeentecode.as_ref().unwrap().as_str(), "GM0392");
        assert!(!d.reason.is_empty());
    }
    let casework = export.casework.as_ref().unwrap();
    assert_eq!(casework.cases.len(), 1);
    let case = &casework.cases[0];
    assert_eq!(case.case_id, case1.case_id);
    assert_eq!(
        case.person.bsn, "123456782",
        "the person's own BSN, in full"
    );
    assert_eq!(case.person.family_name, "Jansen");
    assert_eq!(case.notices.len(), 2);
    assert_eq!(case.conditions.len(), 5);
    for c in &case.conditions {
        assert!(
            c.history.iter().any(|h| h.change == "opened"),
            "{:?} has its history",
            c.condition
        );
    }
    let housing = case
        .conditions
        .iter()
        .find(|c| c.condition == Condition::Housing)
        .unwrap();
    assert!(
        housing
            .history
            .iter()
            .any(|h| h.change == "claimed" && h.by == "anna")
    );
    assert_eq!(housing.claimed_by.as_deref(), Some("anna"));
    let procesregie = export.procesregie.as_ref().unwrap();
    let apps: Vec<_> = procesregie
        .applications
        .iter()
        .map(|a| a.application_id)
        .collect();
    assert_eq!(apps, [submitted.application_id]);
    assert_eq!(procesregie.icos.len(), 1);
    assert_eq!(procesregie.icos[0].ico_id, ico_id);
    assert_eq!(procesregie.icos[0].actions.len(), 1);

    // The recipients: Haarlem (routing, case, application) and the partners.
    let named = |kind: RecipientKind, name: &str| {
        export
            .recipients
            .iter()
            .any(|r| r.kind == kind && r.name == name)
    };
    assert!(
        named(RecipientKind::Municipality, "GM0392"),
        "{:?}",
        export.recipients
    );
    assert!(named(RecipientKind::Partner, "Veilig Thuis"));
    assert!(named(RecipientKind::Partner, "Reclassering Nederland"));
    assert!(
        !named(RecipientKind::Municipality, "GM0453"),
        "person 2's municipality"
    );

    // Nothing of person 2: no id, name or BSN anywhere in the JSON.
    for theirs in [
        case2.case_id.to_string(),
        other_application.application_id.to_string(),
        "PIH-2026-000777".into(),
        "Bakker".into(),
        "Kees".into(),
        "111222333".into(),
        "*****2333".into(),
    ] {
        assert!(
            !text.contains(&theirs),
            "person 2's {theirs} is in the export"
        );
    }

    // The export is logged in every service: who, why, the pseudonym — never the BSN.
    for schema in schemas {
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&format!(
            "SELECT user_id, role, person_key, why FROM {schema}.privacy_questions
             WHERE question = 'privacy_export'"
        ))
        .fetch_all(&stack.db)
        .await
        .unwrap();
        assert_eq!(rows.len(), 1, "{schema}: {rows:?}");
        let (user, role, person_key, why) = &rows[0];
        assert_eq!(
            (user.as_str(), role.as_str()),
            ("fg", "privacy_officer"),
            "{schema}"
        );
        assert_eq!(why.as_deref(), Some(WHY), "{schema}");
        assert!(
            !person_key.contains("123456782") && person_key.len() >= 32,
            "{schema}"
        );
    }
    // ... and shows in "who saw this person", in every service the export asked, with its reason.
    let who_saw = rcn::privacy::who_saw(
        &stack.nats,
        &subjects,
        stack.env.signer(),
        "fg",
        &request.bsn,
    )
    .await
    .unwrap();
    assert!(who_saw.missing.is_empty(), "{:?}", who_saw.missing);
    for service in schemas {
        assert!(
            who_saw.entries.iter().any(|e| e.service == service
                && e.what == "privacy_export"
                && e.user_id == "fg"
                && (service == "procesregie" || e.why.as_deref() == Some(WHY))),
            "{service}: {:?}",
            who_saw.entries
        );
    }
    stack.stop().await;
}
