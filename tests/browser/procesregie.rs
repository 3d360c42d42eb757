//! Procesregie in the browser: a notice with a risk flag through the partner API becomes a
//! suggestion on the case; Haarlem's staff accept it and complete the application (first
//! incomplete, with what is missing shown); a procesregisseur decides ICO on the triage board and
//! runs the ICO (an action, a review, closure); the case shows the ICO throughout. And the race:
//! two procesregisseurs deciding the same application, one wins and the other sees it.

use rcn_contracts::Gemeentecode;
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::procesregie_api::{ApplicationStatus, ApplicationView};
use rcn_gateway::portal::users::{self, NewUser};
use rcn_tests::staff_browser::Browser;
use rcn_tests::{TestStack, release_notice_json};
use serde_json::json;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

async fn add(stack: &TestStack, user_id: &str, name: &str, role: Role, gemeente: Option<&str>) {
    let pool = rcn_gateway::tokens::open(stack.env.config.database_url().expect("set"))
        .await
        .expect("the gateway's schema");
    users::add(
        &pool,
        NewUser {
            user_id,
            display_name: name,
            role,
            gemeentecode: gemeente.map(|g| Gemeentecode::parse(g).expect("a code")),
            password: PASSWORD,
        },
    )
    .await
    .expect("the account is added");
    pool.close().await;
}

fn base(stack: &TestStack) -> String {
    format!("http://{}", stack.http)
}

/// Sets a form field's value directly (a date input takes typed keys in the browser's locale).
async fn set(b: &Browser, css: &str, value: &str) {
    b.client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1]",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap_or_else(|e| panic!("{css} takes a value: {e}"));
}

/// Reloads `path` until its main text contains `text` (procesregie learns of a case from the
/// CASES stream, a moment after casework opened it).
async fn wait_for_text(b: &Browser, path: &str, text: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        b.goto(path).await;
        let main = b.main_text().await;
        if main.contains(text) {
            return main;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{path} never showed {text:?}: {main}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// The href of the first element matching `css`.
async fn href(b: &Browser, css: &str) -> String {
    let url = b
        .client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no link {css}: {e}"))
        .attr("href")
        .await
        .expect("an attribute")
        .expect("an href");
    url.trim_start_matches(&base_of(&url)).to_owned()
}

fn base_of(url: &str) -> String {
    // Absolute hrefs come back whole; keep only the path and query.
    match url.find("://") {
        Some(i) => url[..url[i + 3..].find('/').map_or(url.len(), |j| i + 3 + j)].to_owned(),
        None => String::new(),
    }
}

#[tokio::test]
async fn a_risk_flag_becomes_an_ico_through_suggestion_application_and_triage_in_the_browser() {
    let stack = TestStack::spawn().await;
    add(
        &stack,
        "anna",
        "Anna de Vries",
        Role::MunicipalStaff,
        Some("GM0392"),
    )
    .await;
    add(
        &stack,
        "petra",
        "Petra Regisseur",
        Role::Procesregisseur,
        None,
    )
    .await;
    let mut notice = release_notice_json();
    let today = chrono::Utc::now().date_naive();
    notice["notice_id"] = format!("PROC-{}", Uuid::new_v4().simple()).into();
    notice["sent_at"] = chrono::Utc::now().to_rfc3339().into();
    notice["detention"]["started_on"] = (today - chrono::Days::new(30)).to_string().into();
    notice["detention"]["expected_release_on"] = (today + chrono::Days::new(40)).to_string().into();
    notice["risk_flags"] = json!(["DOMESTIC_VIOLENCE"]);
    assert_eq!(stack.post_notice(&notice).await.status(), 202);
    let key = format!(
        "PI-HAARLEM:{}",
        notice["notice_id"].as_str().expect("an id")
    );
    let case = stack.wait_for_case(&key).await;
    let case_path = format!("/casussen/{}", case.case_id);

    // The suggestion on the case, for Haarlem's staff: the rule, not the risk flag's details.
    let anna = Browser::open(&base(&stack), "procesregie").await;
    anna.sign_in("anna", PASSWORD).await;
    let page = wait_for_text(&anna, &case_path, "Voorstel: aanmelden voor procesregie").await;
    assert!(page.contains("risicosignaal in de melding"), "{page}");
    assert!(
        !anna.text("#procesregie").await.contains("huiselijk geweld"),
        "municipal staff do not see the risk flag's details in the suggestion"
    );
    anna.check_page("01-suggestie").await;

    // Accepting makes a draft from the case.
    anna.click("#procesregie form[action$='/voorstel/accepteren'] button")
        .await;
    assert!(
        anna.path().await.starts_with("/aanmeldingen/"),
        "{}",
        anna.path().await
    );
    let application_path = anna.path().await;
    assert!(
        anna.text("[role=status]")
            .await
            .contains("voorstel aangenomen")
    );
    assert!(anna.text("#ontbreekt").await.contains("Beschrijf het doel"));
    anna.check_page("02-aanmelding-concept").await;

    // First incomplete: submitting saves a draft and names what is missing, beside each field.
    anna.fill("#f-doel", "Een veilige woonplek en toezicht na ontslag.")
        .await;
    anna.client
        .execute("document.querySelector('#f-a').checked = true; document.querySelector('#f-b').checked = true", vec![])
        .await
        .expect("the criteria are ticked");
    anna.fill(
        "#f-a-toelichting",
        "Wonen, relaties en financiën lopen vast.",
    )
    .await;
    anna.fill("#f-partner-0-organisatie", "Veilig Thuis").await;
    anna.click("button[value=indienen]").await;
    assert_eq!(
        anna.path().await,
        application_path,
        "still the draft's form"
    );
    assert!(
        anna.text("[role=alert]")
            .await
            .contains("nog niet compleet")
    );
    let missing = anna.text("#ontbreekt").await;
    for m in [
        "Licht criterium B toe",
        "Criterium C",
        "Vul de contactpersoon in",
        "geïnformeerd",
    ] {
        assert!(missing.contains(m), "{m} is listed as missing: {missing}");
    }
    assert!(
        anna.has("#e-partner-0-contactpersoon").await && anna.has("#e-b-toelichting").await,
        "the errors stand beside their fields"
    );
    assert_eq!(
        anna.client
            .find(fantoccini::Locator::Css("#f-doel"))
            .await
            .expect("the goal field")
            .prop("value")
            .await
            .expect("its value")
            .as_deref(),
        Some("Een veilige woonplek en toezicht na ontslag."),
        "what was typed is kept"
    );
    anna.check_page("03-aanmelding-onvolledig").await;

    anna.fill("#f-b-toelichting", "Zorg en veiligheid zijn allebei nodig.")
        .await;
    anna.client
        .execute("document.querySelector('#f-c').checked = true; document.querySelector('#f-geinformeerd-nee').checked = true", vec![])
        .await
        .expect("C and 'nee' are chosen");
    anna.fill("#f-c-toelichting", "Er zijn kinderen in het gezin.")
        .await;
    anna.fill("#f-partner-0-contactpersoon", "K. Smit").await;
    anna.fill("#f-partner-0-telefoon", "0800-2000").await;
    anna.fill("#f-partner-0-email", "k.smit@veiligthuis.example")
        .await;
    anna.fill("#f-waarom", "Informeren brengt de partner in gevaar.")
        .await;
    anna.click("button[value=indienen]").await;
    let submitted = anna.main_text().await;
    assert!(
        submitted.contains("De aanmelding is ingediend"),
        "{submitted}"
    );
    assert!(
        submitted.contains("Op de agenda van de triage van"),
        "{submitted}"
    );
    anna.check_page("04-aanmelding-ingediend").await;
    let triage_path = href(&anna, "#uitkomst a[href^='/triage']").await;

    // The procesregisseur's triage board: the application on the agenda; an outcome without a
    // reason is refused beside the field, then ICO is recorded.
    let petra = Browser::open(&base(&stack), "procesregie").await;
    petra.sign_in("petra", PASSWORD).await;
    assert_eq!(
        petra.path().await,
        "/triage",
        "a procesregisseur starts at the triage"
    );
    petra.goto(&triage_path).await;
    let application_id = application_path
        .trim_start_matches("/aanmeldingen/")
        .to_owned();
    let section = format!("#aanmelding-{application_id}");
    let board = petra.main_text().await;
    assert!(board.contains("Deadline voor deze triage"), "{board}");
    assert!(petra.text(&section).await.contains("Anna de Vries"));
    petra.check_page("05-triage").await;
    petra
        .client
        .execute(
            &format!("document.querySelector('#u-ico-{application_id}').checked = true"),
            vec![],
        )
        .await
        .expect("ICO is chosen");
    petra
        .click(&format!("{section} form button[type=submit]"))
        .await;
    assert!(
        petra
            .text(&format!("#e-reden-{application_id}"))
            .await
            .contains("Geef de reden"),
        "the missing reason is named beside its field"
    );
    petra.check_page("06-triage-reden-ontbreekt").await;
    petra
        .fill(
            &format!("#r-{application_id}"),
            "A, B en C: huiselijk geweld en geen woning.",
        )
        .await;
    petra
        .click(&format!("{section} form button[type=submit]"))
        .await;
    assert!(
        petra.path().await.starts_with("/icos/"),
        "{}",
        petra.path().await
    );
    let ico_path = petra.path().await;
    assert!(
        petra
            .text("[role=status]")
            .await
            .contains("De ICO is geopend")
    );
    assert!(petra.text("#ico-status").await.contains("Lopend"));
    petra.check_page("07-ico").await;

    // The partners around the ICO: a row without its organisation is refused beside the field
    // and keeps what was typed; then a second partner joins the one from the application.
    let open_partners = "document.querySelector('#partners-wijzigen').open = true";
    petra
        .client
        .execute(open_partners, vec![])
        .await
        .expect("the partner form opens");
    petra.fill("#f-partner-1-contactpersoon", "A. Jansen").await;
    petra.click("#partners-wijzigen button[type=submit]").await;
    assert!(
        petra
            .text("#e-partner-1-organisatie")
            .await
            .contains("Vul de organisatie van deze partner in")
    );
    petra.check_page("07a-partners-onvolledig").await;
    petra
        .fill("#f-partner-1-organisatie", "Reclassering Nederland")
        .await;
    petra.fill("#f-partner-1-telefoon", "023-5551234").await;
    petra
        .fill("#f-partner-1-email", "a.jansen@reclassering.example")
        .await;
    petra.click("#partners-wijzigen button[type=submit]").await;
    assert!(
        petra
            .text("[role=status]")
            .await
            .contains("De partners zijn opgeslagen: 2 partners")
    );
    let partners = petra.text("#ico-partners").await;
    assert!(
        partners.contains("Veilig Thuis") && partners.contains("Reclassering Nederland: A. Jansen"),
        "{partners}"
    );
    petra
        .client
        .execute(open_partners, vec![])
        .await
        .expect("the partner form opens");
    petra.check_page("07b-partners").await;

    // The applicant sees the outcome; the case shows that it is in an ICO.
    anna.goto(&application_path).await;
    assert!(anna.text("#uitkomst").await.contains("ICO"));
    anna.check_page("08-uitkomst").await;
    anna.goto(&case_path).await;
    assert!(
        anna.text("#procesregie")
            .await
            .contains("Deze casus is in een ICO")
    );
    anna.check_page("09-casus-in-ico").await;

    // The plan van aanpak: an action (with a refused one first), a review, closure.
    petra.fill("#na-organisatie", "Gemeente Haarlem").await;
    petra
        .click("form[aria-labelledby='h-nieuwe-actie'] button")
        .await;
    assert!(
        petra
            .text("#e-na-omschrijving")
            .await
            .contains("Vul wat er moet gebeuren in")
    );
    petra.fill("#na-omschrijving", "Opvangplek regelen").await;
    set(
        &petra,
        "#na-deadline",
        &(today + chrono::Days::new(14)).to_string(),
    )
    .await;
    petra.select("#na-status", "in_progress").await;
    petra
        .click("form[aria-labelledby='h-nieuwe-actie'] button")
        .await;
    assert!(
        petra
            .text("[role=status]")
            .await
            .contains("toegevoegd aan het plan van aanpak")
    );
    let plan = petra.text("#h-plan ~ section").await;
    assert!(
        plan.contains("Gemeente Haarlem: Opvangplek regelen") && plan.contains("In uitvoering"),
        "{plan}"
    );
    petra.check_page("10-actie").await;
    petra
        .select("#h-plan ~ section select[name=status]", "done")
        .await;
    petra.click("#h-plan ~ section form button").await;
    assert!(
        petra
            .text("#h-plan ~ section .rcn-action-status")
            .await
            .contains("Afgerond")
    );

    set(&petra, "#ev-datum", &today.to_string()).await;
    petra
        .fill("#ev-verslag", "Opvang geregeld; toezicht loopt.")
        .await;
    set(
        &petra,
        "#ev-volgende",
        &(today + chrono::Days::new(28)).to_string(),
    )
    .await;
    petra
        .click("form[aria-labelledby='h-nieuwe-evaluatie'] button")
        .await;
    assert!(
        petra
            .text("[role=status]")
            .await
            .contains("De evaluatie is vastgelegd")
    );
    assert!(petra.text("#evaluaties").await.contains("Opvang geregeld"));
    petra.check_page("11-evaluatie").await;

    petra.goto("/icos").await;
    assert!(petra.main_text().await.contains("Mijn ICO's"));
    assert!(
        petra.has(&format!("a[href='{ico_path}']")).await,
        "the ICO is in Mijn ICO's"
    );
    petra.check_page("12-mijn-icos").await;
    petra.goto(&ico_path).await;
    petra.click("form[action$='/sluiten'] button").await;
    assert!(petra.text("#e-sl-reden").await.contains("Kies de reden"));
    petra.select("#sl-reden", "handed_back").await;
    petra
        .fill("#sl-toelichting", "Terug naar het lokale team.")
        .await;
    petra.click("form[action$='/sluiten'] button").await;
    assert!(
        petra
            .text("[role=status]")
            .await
            .contains("De ICO is gesloten")
    );
    assert!(
        petra
            .text("#ico-gesloten")
            .await
            .contains("Teruggegeven aan de reguliere keten")
    );
    assert!(
        !petra.has("form[action$='/acties']").await,
        "a closed ICO takes no changes"
    );
    petra.check_page("13-ico-gesloten").await;

    anna.goto(&case_path).await;
    assert!(
        anna.text("#procesregie")
            .await
            .contains("Deze casus was in een ICO (gesloten)")
    );
    anna.check_page("14-casus-ico-gesloten").await;
    anna.close().await;
    petra.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn two_procesregisseurs_decide_the_same_application_and_the_second_sees_the_first_outcome() {
    let stack = TestStack::spawn().await;
    add(
        &stack,
        "petra",
        "Petra Regisseur",
        Role::Procesregisseur,
        None,
    )
    .await;
    add(
        &stack,
        "quinten",
        "Quinten Jong",
        Role::Procesregisseur,
        None,
    )
    .await;
    // A complete application for someone not in casework, as Haarlem's staff would submit it.
    let anna = Identity {
        user_id: "anna".into(),
        role: Role::MunicipalStaff,
        gemeentecode: Some(Gemeentecode::parse("GM0392").expect("a code")),
    };
    let yes = |why: &str| json!({"met": true, "explanation": why});
    let form = json!({
        "person": {"family_name": "Wedloop", "given_names": "Rik"},
        "gemeentecode": "GM0392",
        "reason": "Overlast en schulden", "goal": "Rust in de buurt",
        "criteria": {"a": yes("wonen en geld"), "b": yes("zorg en politie"), "d": yes("overlast in de straat")},
        "partners": [{"organisation": "Politie", "contact": "J. de Boer", "phone": "0900-8844", "email": "j.deboer@politie.example"}],
        "informed": true, "submit": true,
    });
    let subject = stack
        .env
        .config
        .region
        .subjects()
        .procesregie_api("application_save");
    let body = serde_json::to_vec(&form).expect("a body");
    let headers = stack.env.signed(&anna.to_header(), &subject, &body);
    let reply = stack
        .nats
        .request_with_headers(subject, headers, body.into())
        .await
        .expect("procesregie answers");
    let application: ApplicationView =
        serde_json::from_slice::<ApiReply<ApplicationView>>(&reply.payload)
            .expect("an envelope")
            .into_result()
            .expect("saved");
    assert_eq!(
        application.status,
        ApplicationStatus::Submitted,
        "{:?}",
        application.missing
    );
    let id = application.application_id;
    let board = format!(
        "/triage?vergadering={}",
        application.triage_on.expect("a meeting")
    );

    let base = base(&stack);
    let (petra, quinten) = tokio::join!(
        Browser::open(&base, "procesregie-race-petra"),
        Browser::open(&base, "procesregie-race-quinten")
    );
    petra.sign_in("petra", PASSWORD).await;
    quinten.sign_in("quinten", PASSWORD).await;
    petra.goto(&board).await;
    quinten.goto(&board).await;
    let section = format!("#aanmelding-{id}");
    assert!(
        petra.has(&format!("{section} form")).await
            && quinten.has(&format!("{section} form")).await
    );
    petra
        .client
        .execute(
            &format!("document.querySelector('#u-ico-{id}').checked = true"),
            vec![],
        )
        .await
        .expect("ICO is chosen");
    petra.fill(&format!("#r-{id}"), "A, B en D").await;
    quinten
        .client
        .execute(
            &format!("document.querySelector('#u-not_accepted-{id}').checked = true"),
            vec![],
        )
        .await
        .expect("not accepted is chosen");
    quinten
        .fill(&format!("#r-{id}"), "Past beter bij het lokale team")
        .await;
    // Both press at the same moment; procesregie keeps exactly one.
    let button = format!("{section} form button[type=submit]");
    tokio::join!(petra.click(&button), quinten.click(&button));
    let petra_won = petra.path().await.starts_with("/icos/");
    let (winner, loser, winner_name, outcome) = if petra_won {
        (&petra, &quinten, "Petra Regisseur", "ICO")
    } else {
        (&quinten, &petra, "Quinten Jong", "Niet geaccepteerd")
    };
    assert!(
        winner
            .text("[role=status]")
            .await
            .contains("Uitkomst vastgelegd")
    );
    let refusal = loser.text("[role=alert]").await;
    assert!(
        refusal.contains(&format!(
            "{winner_name} heeft de uitkomst van deze aanmelding al vastgelegd: {outcome}"
        )) && refusal.contains("Uw uitkomst is niet vastgelegd"),
        "the second sees who decided what: {refusal}"
    );
    loser.goto(&board).await;
    assert!(
        loser.text(&section).await.contains(outcome),
        "the board shows the outcome taken"
    );
    assert!(
        !loser.has(&format!("{section} form")).await,
        "and no form to decide again"
    );
    loser.check_page("geweigerd").await;
    assert_eq!(
        stack
            .count(&format!(
                "SELECT count(*) FROM procesregie.applications WHERE application_id = '{id}' AND status = 'triaged'"
            ))
            .await,
        1
    );
    petra.close().await;
    quinten.close().await;
    stack.stop().await;
}
