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
            && anna_row
                .contains("Casuspagina geopend om aan de casus te werken of hem te bekijken"),
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
