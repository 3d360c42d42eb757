//! Need to know on the case page (issue 16): the institution's note on the care condition is
//! health data. Anna claims the care task and reads it; Bert, her colleague in Haarlem who does
//! not hold it, sees that there is a note and, in Dutch, who may read it, not the note itself.

use rcn_tests::staff_browser::Browser;
use rcn_tests::{TestStack, release_notice_json};
use uuid::Uuid;

use super::{PASSWORD, add_user, base};

const CARE_NOTE: &str = "Methadonprogramma, overdracht aan verslavingszorg nodig";
const WITHHELD: &str = "Notitie alleen zichtbaar voor wie de zorgtaak heeft";

/// Haarlem's Anna and Bert, and a Haarlem case whose screening has a note on care.
async fn haarlem_case_with_a_care_note(stack: &TestStack) -> Uuid {
    add_user(stack, "anna", "Anna de Vries", Some("GM0392")).await;
    add_user(stack, "bert", "Bert Bakker", Some("GM0392")).await;
    let mut notice = release_notice_json();
    let today = chrono::Utc::now().date_naive();
    notice["notice_id"] = format!("BROWSER-{}", Uuid::new_v4().simple()).into();
    notice["sent_at"] = chrono::Utc::now().to_rfc3339().into();
    notice["detention"]["started_on"] = (today - chrono::Days::new(30)).to_string().into();
    notice["detention"]["expected_release_on"] = (today + chrono::Days::new(40)).to_string().into();
    notice["conditions"]["care"] = serde_json::json!({"status": "needs_action", "note": CARE_NOTE});
    let response = stack.post_notice(&notice).await;
    assert_eq!(response.status(), 202, "the notice is accepted");
    let key = format!(
        "PI-HAARLEM:{}",
        notice["notice_id"].as_str().expect("an id")
    );
    stack.wait_for_case(&key).await.case_id
}

#[tokio::test]
async fn a_colleague_who_does_not_hold_the_care_task_sees_that_there_is_a_note_not_what_it_says() {
    let stack = TestStack::spawn().await;
    let case_id = haarlem_case_with_a_care_note(&stack).await;
    let base = base(&stack);
    let case = format!("/casussen/{case_id}");

    // Nobody holds the care task yet: Anna sees that there is a note, claims the task, reads it.
    let anna = Browser::open(&base, "zorgnotitie-anna").await;
    anna.sign_in("anna", PASSWORD).await;
    anna.goto(&case).await;
    assert!(!anna.main_text().await.contains(CARE_NOTE));
    anna.click("#taak-care form[action$='/claimen'] button")
        .await;
    let text = anna.main_text().await;
    assert!(
        text.contains(CARE_NOTE),
        "the holder reads the note: {text}"
    );
    assert!(!text.contains(WITHHELD), "{text}");
    anna.check_page("01-zorgnotitie-houder").await;
    anna.close().await;

    // Bert, same municipality, does not hold it.
    let bert = Browser::open(&base, "zorgnotitie-bert").await;
    bert.sign_in("bert", PASSWORD).await;
    bert.goto(&case).await;
    let text = bert.main_text().await;
    assert!(!text.contains(CARE_NOTE), "no health data for Bert: {text}");
    let row = bert
        .text("section[aria-labelledby='h-voorwaarden'] table tbody")
        .await;
    let care = row
        .lines()
        .find(|l| l.starts_with("Zorg"))
        .unwrap_or_else(|| panic!("a row for care: {row}"));
    assert!(care.contains(WITHHELD), "{care}");
    // The history (folded away in a <details>) says so too: read from the page's HTML.
    let html = String::from_utf8(bert.fetch_bytes(&case).await).expect("the page is UTF-8");
    assert!(
        html.contains("notitie alleen zichtbaar voor wie de zorgtaak heeft")
            && !html.contains(CARE_NOTE),
        "the care task's history withholds its notes"
    );
    // The other conditions' notes he reads as before.
    assert!(text.contains("Geen woning na vrijlating."), "{text}");
    bert.check_page("02-zorgnotitie-afgeschermd").await;
    bert.close().await;
    stack.stop().await;
}
