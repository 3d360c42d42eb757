//! The RCN coordinator's own pages in a real browser: *Dode berichten* (list, inspect with a
//! reason, replay), *Partnertoegang* (a token shown once, then revoked), the case with its
//! notices; and a municipal user refused all of them. axe-core and a screenshot on every page.

use async_nats::HeaderMap;
use rcn_contracts::events::NoticeAccepted;
use rcn_runtime::headers;
use rcn_tests::TestStack;
use rcn_tests::staff_browser::Browser;
use uuid::Uuid;

use super::{PASSWORD, add_user, base, haarlem_with_a_case};

/// A dead letter as the kit writes one when the router gave up on an accepted notice (a bug
/// since fixed); returns its notice key.
async fn router_dead_letter(stack: &TestStack) -> String {
    let subjects = stack.env.config.region.subjects();
    let js = async_nats::jetstream::new(stack.nats.clone());
    let mut notice = rcn_contracts::examples::release_notice();
    notice.notice_id = format!("DLQ-{}", Uuid::new_v4().simple());
    let key = format!("PI-HAARLEM:{}", notice.notice_id);
    let accepted = NoticeAccepted {
        schema_version: 1,
        notice_key: key.clone(),
        received_at: chrono::Utc::now(),
        person_key: "p-dlq".into(),
        episode_key: format!("e-{}", Uuid::new_v4().simple()),
        notice,
        forwarded_from: None,
    };
    let mut h = HeaderMap::new();
    h.insert(headers::DLQ_SERVICE, "router");
    h.insert(headers::DLQ_SUBJECT, subjects.notice_accepted().as_str());
    h.insert(
        headers::DLQ_ERROR,
        "the address register did not answer (circuit open)",
    );
    h.insert(headers::DLQ_DELIVERED, "5");
    rcn_runtime::nats::ensure_stream(&js, &subjects.dead_letter_stream())
        .await
        .expect("the DLQ stream");
    js.publish_with_headers(
        subjects.dead_letter("router"),
        h,
        serde_json::to_vec(&accepted).expect("serialises").into(),
    )
    .await
    .expect("published")
    .await
    .expect("stored");
    key
}

#[tokio::test]
async fn an_rcn_coordinator_replays_a_dead_letter_issues_and_revokes_a_token_and_reads_a_case() {
    let stack = TestStack::spawn().await;
    let (stack, case_id) = haarlem_with_a_case(stack).await;
    add_user(&stack, "rita", "Rita Visser", None).await;
    let key = router_dead_letter(&stack).await;
    let rita = Browser::open(&base(&stack), "rcn").await;
    rita.sign_in("rita", PASSWORD).await;

    // Dode berichten: the list shows service, age and reason, never the content.
    rita.click("a[href='/dode-berichten']").await;
    let list = rita.main_text().await;
    assert!(list.contains("Routering"), "{list}");
    assert!(list.contains("circuit open"), "{list}");
    assert!(!list.contains(&key) && !list.contains("Jansen"), "{list}");
    rita.check_page("01-dode-berichten").await;

    // One letter: its content only after a reason.
    rita.click("a[href^='/dode-berichten/']").await;
    assert!(!rita.main_text().await.contains(&key));
    rita.check_page("02-dood-bericht").await;
    rita.fill(
        "#reden-inzien",
        "Nagaan welke melding de router liet liggen.",
    )
    .await;
    rita.click("form[action$='/inzien'] button").await;
    let shown = rita.text(".rcn-payload").await;
    assert!(shown.contains(&key), "the payload is shown: {shown}");
    rita.check_page("03-inhoud-ingezien").await;

    // Replayed with a reason: it leaves the queue, the router decides, and who did it is shown.
    rita.fill("#reden-opnieuw", "Het adresregister werkt weer.")
        .await;
    rita.click("form[action$='/opnieuw-aanbieden'] button")
        .await;
    assert!(
        rita.text("[role=status]")
            .await
            .contains("opnieuw aangeboden"),
        "the replay is confirmed"
    );
    let after = rita.main_text().await;
    assert!(after.contains("Er zijn geen dode berichten."), "{after}");
    assert!(
        after.contains("Opnieuw aangeboden") && after.contains("rita"),
        "{after}"
    );
    assert!(after.contains("Het adresregister werkt weer."), "{after}");
    rita.check_page("04-opnieuw-aangeboden").await;
    let (outcome, code, _) = stack.wait_for_decision(&key).await;
    assert_eq!(
        (outcome.as_str(), code.as_deref()),
        ("routed", Some("GM0392"))
    );

    // Partnertoegang: a token shown once, working, then revoked.
    rita.click("a[href='/partnertoegang']").await;
    rita.check_page("05-partnertoegang").await;
    rita.fill("#instelling", "PI-HAARLEM").await;
    rita.fill("#naam", "Intakebalie browsertest").await;
    rita.click("form[action='/partnertoegang/uitgeven'] button")
        .await;
    let token = rita.text("#nieuwe-sleutel").await.trim().to_owned();
    assert!(token.starts_with("rcn_"), "the new token is shown: {token}");
    rita.check_page("06-sleutel-uitgegeven").await;
    let pool = rcn_gateway::tokens::open(stack.env.config.database_url().expect("set"))
        .await
        .expect("the gateway's schema");
    assert!(
        rcn_gateway::tokens::authenticate(&pool, &token)
            .await
            .unwrap()
            .is_some(),
        "the shown token works"
    );
    rita.goto("/partnertoegang").await;
    let again = rita.main_text().await;
    assert!(!again.contains(&token), "the token is never shown again");
    assert!(again.contains("Intakebalie browsertest"), "{again}");
    let id = &token["rcn_".len().."rcn_".len() + 32];
    rita.fill(&format!("#ri-{id}"), "Sleutel stond in een e-mail.")
        .await;
    rita.click(&format!(
        "form[action='/partnertoegang/{id}/intrekken'] button"
    ))
    .await;
    assert!(rita.text("[role=status]").await.contains("ingetrokken"));
    // The log, newest first: the revocation with its reason, then the issue, both in Rita's name.
    let rows = rita.rows("#logboek tbody tr").await;
    assert!(rows.len() >= 2, "{rows:?}");
    assert!(
        rows[0].contains("Rita Visser (RCN-coördinator)")
            && rows[0].contains("Ingetrokken")
            && rows[0].contains("Sleutel stond in een e-mail.")
            && rows[0].contains(&id[..8]),
        "{rows:?}"
    );
    assert!(
        rows[1].contains("Uitgegeven") && rows[1].contains("Rita Visser"),
        "{rows:?}"
    );
    rita.check_page("07-sleutel-ingetrokken").await;
    // A change on the command line (`rcn tokens`, through the same library) is logged as such.
    rcn_gateway::tokens::issue(
        &pool,
        "PI-ZAANSTAD",
        None,
        rcn_gateway::tokens::Actor::CommandLine,
        Some("Nieuwe inrichting aangesloten"),
    )
    .await
    .expect("issued on the command line");
    rita.goto("/partnertoegang").await;
    let rows = rita.rows("#logboek tbody tr").await;
    assert!(
        rows[0].contains("via de opdrachtregel")
            && rows[0].contains("PI-ZAANSTAD")
            && rows[0].contains("Nieuwe inrichting aangesloten"),
        "{rows:?}"
    );
    rita.check_page("07b-logboek-opdrachtregel").await;
    assert!(
        rcn_gateway::tokens::authenticate(&pool, &token)
            .await
            .unwrap()
            .is_none(),
        "a revoked token no longer works"
    );
    pool.close().await;

    // The case, with every notice received.
    rita.goto(&format!("/casussen/{case_id}")).await;
    let case = rita.main_text().await;
    assert!(case.contains("Ontvangen meldingen"), "{case}");
    rita.check_page("08-casus").await;
    rita.close().await;

    // A municipal user is refused every one of these pages, and is not offered them.
    let anna = Browser::open(&base(&stack), "rcn-gemeente").await;
    anna.sign_in("anna", PASSWORD).await;
    assert!(!anna.has("a[href='/dode-berichten']").await);
    assert!(!anna.has("a[href='/partnertoegang']").await);
    for path in ["/dode-berichten", "/dode-berichten/1", "/partnertoegang"] {
        anna.goto(path).await;
        let text = anna.main_text().await;
        assert!(text.contains("Geen toegang"), "{path}: {text}");
    }
    anna.check_page("09-geen-toegang").await;
    anna.close().await;
    stack.stop().await;
}
