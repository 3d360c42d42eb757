//! The *Overzicht* in a real browser: the RCN coordinator sees the region with data (procesregie's
//! triage backlog among it), narrows it to one municipality by week with Dutch `dd-mm-jjjj`
//! days, is told in Dutch when a day is not a date, downloads a table as CSV (BOM, `;`) and opens
//! the printable monthly report; a municipal user sees only their own municipality, whatever the
//! address asks.

use chrono::NaiveDate;
use rcn_contracts::Gemeentecode;
use rcn_contracts::envelope::ApiReply;
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::procesregie_api::{ApplicationStatus, ApplicationView};
use rcn_gateway::portal::fmt;
use rcn_tests::TestStack;
use rcn_tests::staff_browser::Browser;
use serde_json::json;

use super::{PASSWORD, add_user, base, haarlem_with_a_case};

/// Haarlem's staff submit a complete application for an ICO through procesregie's own API, as
/// the portal's form does: procesregie publishes `application_submitted` for the monitor.
async fn submit_an_application(stack: &TestStack) {
    let anna = Identity {
        user_id: "anna".into(),
        role: Role::MunicipalStaff,
        gemeentecode: Some(Gemeentecode::parse("GM0392").expect("a code")),
    };
    let yes = |why: &str| json!({"met": true, "explanation": why});
    let form = json!({
        "person": {"family_name": "Overzichtelijk", "given_names": "Olga"},
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
}

/// The type and value of the input matching `css`, as the page has them.
async fn input(b: &Browser, css: &str) -> (String, String, Option<String>) {
    let v = b
        .client
        .execute(
            "const e = document.querySelector(arguments[0]); return [e.type, e.value, e.getAttribute('aria-invalid')];",
            vec![json!(css)],
        )
        .await
        .expect("the script runs");
    (
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_str().unwrap_or_default().to_owned(),
        v[2].as_str().map(str::to_owned),
    )
}

/// The text of the page after `caption`, up to the next section's caption.
fn section_after<'a>(text: &'a str, caption: &str) -> &'a str {
    let rest = text.split_once(caption).map_or("", |(_, rest)| rest);
    rest.split_once("Procesregie:").map_or(rest, |(own, _)| own)
}

#[tokio::test]
async fn the_coordinator_reads_the_regions_overview_filters_it_and_downloads_csv_and_staff_see_only_their_own()
 {
    let (stack, _case) = haarlem_with_a_case(TestStack::spawn().await).await;
    submit_an_application(&stack).await;
    add_user(&stack, "rita", "Rita Coördinator", None).await;
    let rita = Browser::open(&base(&stack), "overzicht").await;
    rita.goto("/inloggen").await;
    rita.sign_in("rita", PASSWORD).await;

    // The monitor counts the Haarlem notice from the streams: wait until the overview has it.
    let mut text = String::new();
    for _ in 0..60 {
        rita.goto("/overzicht").await;
        text = rita.main_text().await;
        if text.contains("Meldingen per gemeente")
            && text.contains("Haarlem 1")
            && section_after(&text, "aanmeldingen die op de triage wachten, nu")
                .contains("Haarlem 1")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(text.contains("Overzicht van de regio"), "{text}");
    assert!(text.contains("Haarlem 1"), "one notice for Haarlem: {text}");
    assert!(text.contains("Te laat"), "{text}");
    assert!(
        text.contains("Routeringswachtrij nu"),
        "the RCN's own sections: {text}"
    );
    assert!(
        !text.contains("123456782") && !text.contains("Jansen"),
        "no BSN or name: {text}"
    );
    assert!(rita.has("svg.rcn-chart").await, "charts are drawn");
    // Procesregie: Haarlem's application waits for its triage (and counts for the region);
    // nothing has been triaged or opened yet.
    let waiting = section_after(&text, "aanmeldingen die op de triage wachten, nu");
    assert!(
        waiting.contains("Regio 1") && waiting.contains("Haarlem 1"),
        "the triage backlog: {waiting}"
    );
    for caption in [
        "Procesregie: uitkomst van de triage in de hele periode, de regio",
        "Procesregie: ICO's geopend en gesloten per maand, de regio",
        "Procesregie: gesloten ICO's naar reden, de regio",
        "Procesregie: lopende ICO's nu",
    ] {
        assert!(text.contains(caption), "{caption}: {text}");
    }
    assert!(
        !text.contains("Overzichtelijk") && !text.contains("Olga"),
        "no name from the application: {text}"
    );
    // The period's days in Dutch order, whatever the browser's locale (en-US here).
    let today = fmt::today();
    let dutch = |d: NaiveDate| d.format("%d-%m-%Y").to_string();
    let (kind, value, _) = input(&rita, "#f-tot").await;
    assert_eq!((kind.as_str(), value), ("text", dutch(today)));
    assert!(
        text.contains("dd-mm-jjjj"),
        "the fields say how to write a day: {text}"
    );
    rita.check_page("01-regio").await;

    rita.select("#f-gemeente", "GM0392").await;
    rita.select("#f-periode", "week").await;
    let from = today - chrono::Days::new(60);
    rita.fill("#f-van", &dutch(from)).await;
    rita.fill("#f-tot", &dutch(today)).await;
    rita.click(".rcn-filters button[type=submit]").await;
    let path = rita.path().await;
    assert!(path.starts_with("/overzicht"), "{path}");
    let text = rita.main_text().await;
    assert!(text.contains("Overzicht van gemeente Haarlem"), "{text}");
    assert!(
        text.contains(&format!(
            "Van {} tot en met {}",
            fmt::date(from),
            fmt::date(today)
        )),
        "the typed days are the period: {text}"
    );
    assert_eq!(input(&rita, "#f-van").await.1, dutch(from));
    assert!(text.contains("per week"), "{text}");
    assert!(
        text.contains("Meldingen per week voor gemeente Haarlem"),
        "{text}"
    );
    rita.check_page("02-haarlem-per-week").await;

    let href = rita
        .href("a[href^='/overzicht/export/meldingen.csv']")
        .await;
    assert!(
        href.contains("gemeente=GM0392") && href.contains("periode=week"),
        "{href}"
    );
    let csv = rita.fetch_bytes(&href).await;
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF", "UTF-8 with a byte-order mark");
    let csv = String::from_utf8(csv).expect("UTF-8");
    let header = csv.lines().next().unwrap_or_default();
    assert!(header.contains(';'), "`;` separates the fields: {header}");
    assert!(csv.contains("GM0392;"), "Haarlem's row: {csv}");

    // A day that does not exist, as someone might type it: a Dutch message at the field, the
    // typed text kept, and the figures of the default period below.
    rita.fill("#f-van", "31-02-2026").await;
    rita.click(".rcn-filters button[type=submit]").await;
    let text = rita.main_text().await;
    assert!(
        text.contains("‘31-02-2026’ is geen datum. Vul bij ‘Van’ een datum in als dd-mm-jjjj"),
        "{text}"
    );
    assert_eq!(
        input(&rita, "#f-van").await,
        ("text".into(), "31-02-2026".into(), Some("true".into()))
    );
    assert!(text.contains("Overzicht van gemeente Haarlem"), "{text}");
    rita.check_page("02b-datum-fout").await;

    rita.click("a[href^='/overzicht/maandrapport']").await;
    let text = rita.main_text().await;
    assert!(text.contains("Maandrapport"), "{text}");
    assert!(
        !rita.has(".rcn-filters").await,
        "the report has no filter form"
    );
    rita.check_page("03-maandrapport").await;
    rita.close().await;

    // Bloemendaal's staff: their own municipality only, even when the address asks for Haarlem.
    let carla = Browser::open(&base(&stack), "overzicht-gemeente").await;
    carla.goto("/inloggen").await;
    carla.sign_in("carla", PASSWORD).await;
    carla.goto("/overzicht?gemeente=GM0392").await;
    let text = carla.main_text().await;
    assert!(
        text.contains("Overzicht van gemeente Bloemendaal"),
        "{text}"
    );
    assert!(!text.contains("Haarlem"), "nothing of Haarlem: {text}");
    assert!(
        !text.contains("Routeringswachtrij nu"),
        "not the RCN's sections: {text}"
    );
    assert!(
        !carla.has("#f-gemeente").await,
        "no municipality filter for staff"
    );
    carla.check_page("04-gemeente").await;
    let csv = carla
        .fetch_bytes("/overzicht/export/meldingen.csv?gemeente=GM0392")
        .await;
    let csv = String::from_utf8(csv).expect("UTF-8");
    assert!(
        !csv.contains("GM0392"),
        "no Haarlem rows in their download: {csv}"
    );
    carla.close().await;
    stack.stop().await;
}
