//! The staff portal in a real browser (headless Chromium over chromedriver): the whole stack in
//! this process on the real NATS and PostgreSQL, built-in accounts, axe-core on every page
//! looked at, and a screenshot of each (the folder is printed).

use rcn_contracts::Gemeentecode;
use rcn_contracts::identity::Role;
use rcn_gateway::portal::users::{self, NewUser};
use rcn_tests::staff_browser::Browser;
use rcn_tests::{TestStack, release_notice_json};

mod procesregie;
use uuid::Uuid;

mod dashboard;
mod need_to_know;
mod privacy;
mod rcn;

const PASSWORD: &str = "correct horse battery";

/// Adds a built-in account.
async fn add_user(stack: &TestStack, user_id: &str, name: &str, gemeente: Option<&str>) {
    let pool = rcn_gateway::tokens::open(stack.env.config.database_url().expect("set"))
        .await
        .expect("the gateway's schema");
    users::add(
        &pool,
        NewUser {
            user_id,
            display_name: name,
            role: if gemeente.is_some() {
                Role::MunicipalStaff
            } else {
                Role::RcnCoordinator
            },
            gemeentecode: gemeente.map(|g| Gemeentecode::parse(g).expect("a code")),
            password: PASSWORD,
        },
    )
    .await
    .expect("the account is added");
    pool.close().await;
}

/// A stack with Haarlem staff (Anna, Bert), a Bloemendaal user (Carla), and one Haarlem case
/// released soon; returns the stack and the case id.
async fn haarlem_with_a_case(stack: TestStack) -> (TestStack, Uuid) {
    add_user(&stack, "anna", "Anna de Vries", Some("GM0392")).await;
    add_user(&stack, "bert", "Bert Bakker", Some("GM0392")).await;
    add_user(&stack, "carla", "Carla Smit", Some("GM0377")).await;
    let mut notice = release_notice_json();
    let today = chrono::Utc::now().date_naive();
    notice["notice_id"] = format!("BROWSER-{}", Uuid::new_v4().simple()).into();
    notice["sent_at"] = chrono::Utc::now().to_rfc3339().into();
    notice["detention"]["started_on"] = (today - chrono::Days::new(30)).to_string().into();
    notice["detention"]["expected_release_on"] = (today + chrono::Days::new(40)).to_string().into();
    let response = stack.post_notice(&notice).await;
    assert_eq!(response.status(), 202, "the notice is accepted");
    let key = format!(
        "PI-HAARLEM:{}",
        notice["notice_id"].as_str().expect("an id")
    );
    let case = stack.wait_for_case(&key).await;
    assert_eq!(case.gemeentecode, "GM0392");
    (stack, case.case_id)
}

fn base(stack: &TestStack) -> String {
    format!("http://{}", stack.http)
}

#[tokio::test]
async fn haarlem_staff_sign_in_claim_a_task_change_its_status_and_sign_out() {
    let (stack, case_id) = haarlem_with_a_case(TestStack::spawn().await).await;
    let anna = Browser::open(&base(&stack), "werkdag").await;

    anna.goto("/taken").await;
    assert_eq!(
        anna.path().await,
        "/inloggen",
        "not signed in: to the sign-in page"
    );
    anna.check_page("01-inloggen").await;

    anna.sign_in("anna", PASSWORD).await;
    assert_eq!(anna.path().await, "/taken");
    assert!(anna.main_text().await.contains("Mijn taken"));
    anna.check_page("02-mijn-taken").await;

    anna.click("a[href='/taken/gemeente']").await;
    let inbox = anna.main_text().await;
    assert!(inbox.contains("Taken van de gemeente Haarlem"), "{inbox}");
    assert!(
        inbox.contains("Piet Jansen"),
        "the case's tasks are listed: {inbox}"
    );
    assert!(
        !inbox.contains("123456782"),
        "the inbox shows the BSN masked"
    );
    anna.check_page("03-taken-van-de-gemeente").await;

    anna.click(&format!("a[href='/casussen/{case_id}']")).await;
    let page = anna.main_text().await;
    assert!(page.contains("Casus Piet Jansen"), "{page}");
    assert!(
        page.contains("123456782"),
        "Haarlem's own staff see the full BSN"
    );
    assert!(page.contains("Ontslag gepland"), "the notice is listed");
    // Each notice with the router's decision and why, in Dutch.
    let routing = anna.text("#meldingen").await;
    assert!(routing.contains("Toegewezen"), "{routing}");
    assert!(
        routing.contains("BRP-inschrijving in Haarlem."),
        "the rule that decided, explained: {routing}"
    );
    anna.check_page("04-casus").await;

    anna.click("#taak-housing form[action$='/claimen'] button")
        .await;
    assert!(
        anna.text("[role=status]")
            .await
            .contains("U heeft de taak Onderdak geclaimd"),
        "the claim is confirmed"
    );
    anna.check_page("05-geclaimd").await;

    anna.select("#s-taak-housing", "in_progress").await;
    anna.fill("#n-taak-housing", "Intake bij de woningcorporatie gepland.")
        .await;
    anna.click("#taak-housing form[action$='/status'] button")
        .await;
    assert!(
        anna.text("[role=status]").await.contains("In behandeling"),
        "the status change is confirmed"
    );
    let section = anna.text("#taak-housing").await;
    assert!(section.contains("Onderdak: In behandeling"), "{section}");
    assert!(section.contains("Anna de Vries"), "{section}");
    anna.check_page("06-status-gewijzigd").await;

    anna.goto("/taken").await;
    assert!(
        anna.main_text().await.contains("Onderdak"),
        "the claimed task is in Mijn taken"
    );

    anna.click("form[action='/uitloggen'] button").await;
    assert!(anna.path().await.starts_with("/inloggen"));
    assert!(anna.main_text().await.contains("U bent uitgelogd"));
    anna.check_page("07-uitgelogd").await;
    anna.goto(&format!("/casussen/{case_id}")).await;
    assert!(
        anna.path().await.starts_with("/inloggen"),
        "after sign-out the case is out of reach"
    );
    anna.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_bloemendaal_user_gets_not_found_for_a_haarlem_case_and_a_disabled_user_is_signed_out() {
    let (stack, case_id) = haarlem_with_a_case(TestStack::spawn().await).await;
    let carla = Browser::open(&base(&stack), "bloemendaal").await;
    carla.sign_in("carla", PASSWORD).await;
    assert_eq!(carla.path().await, "/taken");

    carla.goto(&format!("/casussen/{case_id}")).await;
    let haarlem_case = carla.main_text().await;
    assert!(haarlem_case.contains("Niet gevonden"), "{haarlem_case}");
    assert!(!haarlem_case.contains("Jansen"));
    carla.check_page("01-haarlemse-casus").await;
    carla.goto(&format!("/casussen/{}", Uuid::new_v4())).await;
    assert_eq!(
        carla.main_text().await,
        haarlem_case,
        "another municipality's case looks exactly like one that does not exist"
    );
    carla.goto("/taken/gemeente").await;
    assert!(!carla.main_text().await.contains("Jansen"));

    // Disabled: the session ends at once, and signing in again fails.
    let pool = rcn_gateway::tokens::open(stack.env.config.database_url().expect("set"))
        .await
        .expect("the gateway's schema");
    assert_eq!(users::disable(&pool, "carla").await.expect("disabled"), 1);
    pool.close().await;
    carla.goto("/taken").await;
    assert!(carla.main_text().await.contains("Uw sessie is verlopen"));
    carla.sign_in("carla", PASSWORD).await;
    assert!(
        carla
            .main_text()
            .await
            .contains("De gebruikersnaam of het wachtwoord klopt niet")
    );
    carla.check_page("02-uitgeschakeld").await;
    carla.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn two_colleagues_claim_the_same_task_and_the_second_sees_who_has_it() {
    let (stack, case_id) = haarlem_with_a_case(TestStack::spawn().await).await;
    let base = base(&stack);
    let (anna, bert) = tokio::join!(
        Browser::open(&base, "wedloop-anna"),
        Browser::open(&base, "wedloop-bert")
    );
    let case = format!("/casussen/{case_id}");
    anna.sign_in("anna", PASSWORD).await;
    bert.sign_in("bert", PASSWORD).await;
    anna.goto(&case).await;
    bert.goto(&case).await;
    // Both see the task free; Anna is first.
    assert!(bert.has("#taak-income form[action$='/claimen']").await);
    anna.click("#taak-income form[action$='/claimen'] button")
        .await;
    bert.click("#taak-income form[action$='/claimen'] button")
        .await;
    assert!(anna.text("[role=status]").await.contains("geclaimd"));
    let refusal = bert.text("[role=alert]").await;
    assert!(
        refusal.contains("al geclaimd door Anna de Vries"),
        "the second sees who has it: {refusal}"
    );
    assert!(bert.text("#taak-income").await.contains("Anna de Vries"));
    bert.check_page("geweigerd").await;
    anna.close().await;
    bert.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let (stack, case_id) = haarlem_with_a_case(TestStack::spawn().await).await;
    let anna = Browser::open(&base(&stack), "csrf").await;
    anna.sign_in("anna", PASSWORD).await;
    anna.goto(&format!("/casussen/{case_id}")).await;
    anna.client
        .execute(
            "document.querySelector(\"#taak-debts form[action$='/claimen'] input[name=csrf]\").remove()",
            vec![],
        )
        .await
        .expect("the token is taken out of the form");
    anna.click("#taak-debts form[action$='/claimen'] button")
        .await;
    let refused = anna.main_text().await;
    assert!(refused.contains("Formulier geweigerd"), "{refused}");
    assert!(refused.contains("Er is niets gewijzigd"));
    anna.check_page("geweigerd").await;
    anna.goto(&format!("/casussen/{case_id}")).await;
    assert!(
        anna.text("#taak-debts")
            .await
            .contains("geclaimd door Niemand"),
        "the task is still free"
    );
    anna.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn an_idle_session_expires_and_the_sign_in_page_says_so() {
    let stack = TestStack::spawn_with_settings(&[
        ("RCN_GATEWAY_SESSION_IDLE_SECS", "2"),
        ("RCN_GATEWAY_SESSION_MAX_SECS", "60"),
    ])
    .await;
    add_user(&stack, "anna", "Anna de Vries", Some("GM0392")).await;
    let anna = Browser::open(&base(&stack), "verlopen").await;
    anna.sign_in("anna", PASSWORD).await;
    assert_eq!(anna.path().await, "/taken");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    anna.goto("/taken").await;
    assert_eq!(anna.path().await, "/inloggen?verlopen=1");
    assert!(anna.main_text().await.contains("Uw sessie is verlopen"));
    anna.check_page("inloggen").await;
    anna.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn an_rcn_coordinator_routes_a_waiting_notice_and_the_case_reaches_the_municipality() {
    let stack = TestStack::spawn().await;
    add_user(&stack, "anna", "Anna de Vries", Some("GM0392")).await;
    add_user(&stack, "rita", "Rita Visser", None).await;
    // No BRP municipality and no address: no rule can route it.
    let mut notice = release_notice_json();
    let today = chrono::Utc::now().date_naive();
    notice["notice_id"] = format!("BROWSER-{}", Uuid::new_v4().simple()).into();
    notice["sent_at"] = chrono::Utc::now().to_rfc3339().into();
    notice["detention"]["started_on"] = (today - chrono::Days::new(20)).to_string().into();
    notice["detention"]["expected_release_on"] = (today + chrono::Days::new(60)).to_string().into();
    notice["person"]["family_name"] = "Wachtrij".into();
    let person = notice["person"].as_object_mut().expect("a person");
    person.remove("brp_municipality");
    person.remove("address");
    person.insert("no_fixed_abode".into(), true.into());
    assert_eq!(stack.post_notice(&notice).await.status(), 202);
    let key = format!(
        "PI-HAARLEM:{}",
        notice["notice_id"].as_str().expect("an id")
    );
    let (outcome, _, _) = stack.wait_for_decision(&key).await;
    assert_eq!(outcome, "unroutable");

    let rita = Browser::open(&base(&stack), "routering").await;
    rita.sign_in("rita", PASSWORD).await;
    assert_eq!(rita.path().await, "/taken/gemeente");
    assert!(rita.main_text().await.contains("Taken in de regio"));
    rita.check_page("01-taken-in-de-regio").await;
    rita.click("a[href='/routering']").await;
    let queue = rita.main_text().await;
    assert!(
        queue.contains(&key),
        "the waiting notice is listed: {queue}"
    );
    assert!(
        !queue.contains("123456782"),
        "the queue shows the BSN masked"
    );
    rita.check_page("02-routeringswachtrij").await;
    rita.select("#g-melding-0", "GM0392").await;
    rita.fill(
        "#w-melding-0",
        "Volgens de casemanager woont hij bij zijn zus in Haarlem.",
    )
    .await;
    rita.click("#h-melding-0 ~ form button[type=submit]").await;
    assert!(
        rita.text("[role=status]")
            .await
            .contains("toegewezen aan Haarlem"),
        "the decision is confirmed"
    );
    rita.check_page("03-beslist").await;
    rita.close().await;

    stack.wait_for_case(&key).await;
    let anna = Browser::open(&base(&stack), "routering-haarlem").await;
    anna.sign_in("anna", PASSWORD).await;
    anna.goto("/taken/gemeente").await;
    assert!(
        anna.main_text().await.contains("Piet Wachtrij"),
        "the routed case is in Haarlem's inbox"
    );
    // The case says who routed it by hand, when and why.
    anna.click("a[href^='/casussen/']").await;
    let routing = anna.text("#meldingen").await;
    assert!(
        routing.contains("Besluit van de RCN-coördinator"),
        "{routing}"
    );
    assert!(
        routing.contains("handmatig besloten door Rita Visser")
            && routing
                .contains("met reden: “Volgens de casemanager woont hij bij zijn zus in Haarlem.”"),
        "{routing}"
    );
    anna.check_page("04-casus-routering").await;
    anna.close().await;
    stack.stop().await;
}
