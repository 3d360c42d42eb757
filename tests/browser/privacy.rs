//! The privacy officer's *Wie heeft deze persoon ingezien* in a real browser: a Haarlem staff
//! member opens a case (the full BSN shown, logged with the reason), the officer enters the BSN
//! in the POST form and sees that read, then the question itself; a wrong BSN gets a Dutch error;
//! the BSN never appears in a URL or in full on the page; other roles are turned away. What was
//! read, why and by which part of rcn read in Dutch, not in the logs' machine words.

use rcn_contracts::Gemeentecode;
use rcn_contracts::identity::Role;
use rcn_gateway::portal::users::{self, NewUser};
use rcn_tests::TestStack;
use rcn_tests::staff_browser::Browser;

use super::{PASSWORD, base, haarlem_with_a_case};

async fn add_officer(stack: &TestStack) {
    let pool = rcn_gateway::tokens::open(stack.env.config.database_url().expect("set"))
        .await
        .expect("the gateway's schema");
    users::add(
        &pool,
        NewUser {
            user_id: "fg",
            display_name: "Fatima Gül",
            role: Role::PrivacyOfficer,
            gemeentecode: None::<Gemeentecode>,
            password: PASSWORD,
        },
    )
    .await
    .expect("the account is added");
    pool.close().await;
}

#[tokio::test]
async fn the_privacy_officer_sees_who_opened_a_persons_case_and_her_own_question() {
    let (stack, case_id) = haarlem_with_a_case(TestStack::spawn().await).await;
    add_officer(&stack).await;
    let base = base(&stack);

    // Anna (Haarlem) opens the case: a read of the full BSN, in casework's log.
    let anna = Browser::open(&base, "privacy-anna").await;
    anna.sign_in("anna", PASSWORD).await;
    anna.goto(&format!("/casussen/{case_id}")).await;
    assert!(anna.main_text().await.contains("123456782"));
    anna.close().await;

    // Carla (Bloemendaal) may not ask.
    let carla = Browser::open(&base, "privacy-carla").await;
    carla.sign_in("carla", PASSWORD).await;
    carla.goto("/privacy").await;
    assert!(
        carla
            .main_text()
            .await
            .contains("Alleen de functionaris gegevensbescherming"),
        "{}",
        carla.main_text().await
    );
    carla.close().await;

    let fg = Browser::open(&base, "privacy").await;
    fg.sign_in("fg", PASSWORD).await;
    assert_eq!(fg.path().await, "/privacy", "the officer starts here");
    assert!(
        fg.main_text()
            .await
            .contains("Wie heeft deze persoon ingezien")
    );
    fg.check_page("01-wie-heeft-ingezien").await;

    fg.fill("#bsn", "123456783").await;
    fg.click("form[action='/privacy/wie-heeft-ingezien'] button")
        .await;
    assert_eq!(fg.path().await, "/privacy/wie-heeft-ingezien");
    assert!(
        fg.main_text().await.contains("Dit is geen geldig BSN"),
        "{}",
        fg.main_text().await
    );
    fg.check_page("02-ongeldig-bsn").await;

    fg.fill("#bsn", "123456782").await;
    fg.click("form[action='/privacy/wie-heeft-ingezien'] button")
        .await;
    let answer = fg.main_text().await;
    assert!(!fg.path().await.contains("123456782"), "never in a URL");
    assert!(
        answer.contains("Ingezien: persoon met BSN *****6782"),
        "{answer}"
    );
    assert!(!answer.contains("123456782"), "shown masked: {answer}");
    let rows = fg.text("table tbody").await;
    let anna_row = rows
        .lines()
        .find(|l| l.contains("anna"))
        .unwrap_or_else(|| panic!("Anna's read is listed: {rows}"));
    assert!(
        anna_row.contains("Gemeente Haarlem")
            && anna_row.contains("Casusregistratie")
            && anna_row.contains("Casus geopend: met volledig BSN, zonder risicosignalen")
            && anna_row.contains(rcn_gateway::portal::reasons::page_reason(
                rcn_gateway::portal::reasons::Page::Case
            )),
        "the part of rcn, what and why in Dutch: {anna_row}"
    );
    assert!(
        rows.contains("Verloop van de taak Onderdak bekeken"),
        "the task histories the case page read, in Dutch: {rows}"
    );
    // None of the logs' machine words is left, and nothing is shown as logged.
    for word in [
        "casework",
        "case_detail",
        "task history",
        "task_history",
        "portal:",
        "true",
    ] {
        assert!(!rows.contains(word), "{word} in {rows}");
    }
    assert!(!fg.has(".rcn-as-logged").await, "every word has its Dutch");
    let questions = rows
        .lines()
        .filter(|l| l.contains("fg") && l.contains("Vraag: wie heeft deze persoon ingezien"))
        .count();
    assert!(questions >= 1, "the question itself is in the log: {rows}");
    fg.check_page("03-antwoord").await;

    // Another person: none of Anna's reads.
    fg.fill("#bsn", "111222333").await;
    fg.click("form[action='/privacy/wie-heeft-ingezien'] button")
        .await;
    let rows = fg.text("table tbody").await;
    assert!(!rows.contains("anna"), "{rows}");
    fg.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn the_privacy_officer_reads_what_every_service_removed_in_the_deletion_log() {
    let (stack, case_id) = haarlem_with_a_case(TestStack::spawn().await).await;
    add_officer(&stack).await;
    let base = base(&stack);

    let fg = Browser::open(&base, "verwijderlogboek").await;
    fg.sign_in("fg", PASSWORD).await;
    fg.click("nav a[href='/privacy/verwijderlogboek']").await;
    assert_eq!(fg.path().await, "/privacy/verwijderlogboek");
    assert!(
        fg.main_text().await.contains("Er is nog niets verwijderd"),
        "{}",
        fg.main_text().await
    );
    fg.check_page("04-verwijderlogboek-leeg").await;

    // Anna opens the case (one access-log row); four years on, that row has expired, the case
    // (still open) has not.
    let anna = Browser::open(&base, "verwijderlogboek-anna").await;
    anna.sign_in("anna", PASSWORD).await;
    anna.goto(&format!("/casussen/{case_id}")).await;
    anna.close().await;
    let reads = stack
        .count("SELECT count(*) FROM casework.access_log")
        .await;
    assert!(reads > 0);
    let now = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0).unwrap();
    let later = now.checked_add_months(chrono::Months::new(48)).unwrap();
    let clock = std::sync::Arc::new(rcn_runtime::retention::ManualClock::new(later));
    rcn::retention::run(&stack.env.config, false, clock)
        .await
        .expect("the retention run");
    assert_eq!(
        stack
            .count("SELECT count(*) FROM casework.access_log")
            .await,
        0
    );

    fg.goto("/privacy/verwijderlogboek").await;
    let text = fg.main_text().await;
    assert!(
        text.contains(&format!("Casussen (gemeenten): {reads}")),
        "the total per service: {text}"
    );
    let rows = fg.text("table tbody").await;
    let line = rows
        .lines()
        .find(|l| l.contains("Regels van het inzagelogboek"))
        .unwrap_or_else(|| panic!("the access-log rule is listed: {rows}"));
    assert!(
        line.contains("Casussen (gemeenten)")
            && line.contains("Inzagelogboek")
            && line.trim_end().ends_with(&reads.to_string()),
        "{line}"
    );
    for service in [
        "Ontvangst (intake)",
        "Routering",
        "Procesregie",
        "Monitor (dode berichten)",
    ] {
        assert!(rows.contains(service), "{service} answered: {rows}");
    }
    assert!(
        !text.contains("123456782") && !text.contains("Jansen"),
        "no personal data: {text}"
    );
    fg.check_page("05-verwijderlogboek").await;
    fg.close().await;

    // A municipal staff member is turned away, in Dutch.
    let carla = Browser::open(&base, "verwijderlogboek-carla").await;
    carla.sign_in("carla", PASSWORD).await;
    carla.goto("/privacy/verwijderlogboek").await;
    assert!(
        carla
            .main_text()
            .await
            .contains("Alleen de functionaris gegevensbescherming en de beheerder"),
        "{}",
        carla.main_text().await
    );
    carla.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn the_privacy_officer_makes_an_export_reads_the_dutch_document_and_downloads_its_json() {
    use base64::Engine as _;

    let (stack, case_id) = haarlem_with_a_case(TestStack::spawn().await).await;
    add_officer(&stack).await;
    let base = base(&stack);

    // Carla (Bloemendaal) may not make one.
    let carla = Browser::open(&base, "inzage-carla").await;
    carla.sign_in("carla", PASSWORD).await;
    carla.goto("/privacy/inzage").await;
    assert!(
        carla
            .main_text()
            .await
            .contains("Alleen de functionaris gegevensbescherming"),
        "{}",
        carla.main_text().await
    );
    carla.close().await;

    let fg = Browser::open(&base, "inzage").await;
    fg.sign_in("fg", PASSWORD).await;
    fg.click("a[href='/privacy/inzage']").await;
    assert_eq!(fg.path().await, "/privacy/inzage");
    assert!(fg.main_text().await.contains("Inzageverzoek (AVG art. 15)"));
    fg.check_page("04-inzageverzoek").await;

    // A wrong BSN and no reason: both said, in Dutch, nothing asked.
    fg.fill("#bsn", "123456783").await;
    fg.fill("#reden", " ").await;
    fg.click("form[action='/privacy/inzage'] button").await;
    let errors = fg.main_text().await;
    assert!(errors.contains("Dit is geen geldig BSN"), "{errors}");
    assert!(errors.contains("Vul de reden in"), "{errors}");
    fg.check_page("05-inzageverzoek-fouten").await;

    fg.fill("#bsn", "123456782").await;
    fg.fill("#reden", "Verzoek per brief van 1 december 2026")
        .await;
    fg.click("form[action='/privacy/inzage'] button").await;
    assert_eq!(
        fg.path().await,
        "/privacy/inzage",
        "the BSN is never in a URL"
    );
    let doc = fg.main_text().await;
    assert!(
        doc.contains("Overzicht van de gegevens over de persoon met BSN *****6782"),
        "{doc}"
    );
    assert!(!doc.contains("123456782"), "shown masked: {doc}");
    for words in [
        "Piet Jansen, geboren 1 april 1990",
        "Verzoek per brief van 1 december 2026",
        &format!("Casus {case_id}"),
        "Gemeente Haarlem",
        "BRP-inschrijving in Haarlem",
        "Voorwaarde: ID-bewijs",
        "Voorwaarde: Zorg",
        "Taak aangemaakt",
        "Ontvangers van gegevens over deze persoon",
    ] {
        assert!(doc.contains(words), "{words:?} in {doc}");
    }
    fg.check_page("06-inzage-overzicht").await;

    // The JSON download is the same export.
    let href = fg.href("#json-downloaden").await;
    let encoded = href
        .strip_prefix("data:application/json;base64,")
        .unwrap_or_else(|| panic!("a JSON data link: {href}"));
    let json: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64"),
    )
    .expect("JSON");
    assert_eq!(json["casework"]["cases"][0]["case_id"], case_id.to_string());
    assert_eq!(
        json["casework"]["cases"][0]["conditions"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
    assert_eq!(json["made_by"], "fg");
    assert_eq!(json["missing"], serde_json::json!([]));
    fg.close().await;

    // The export was logged, with its reason, in casework.
    let logged = stack
        .count(
            "SELECT count(*) FROM casework.privacy_questions WHERE user_id = 'fg'
             AND question = 'privacy_export' AND why = 'Verzoek per brief van 1 december 2026'",
        )
        .await;
    assert_eq!(logged, 1);
    stack.stop().await;
}
