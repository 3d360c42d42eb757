//! End-to-end: the portal's page views in "who saw this person" (issue 16). Person P's notice
//! makes a Haarlem case, person Q's a Velsen one. Anna (Haarlem staff) signs in to the portal over
//! HTTP, opens P's case page and her municipality's task list; Vera (Velsen) opens Q's case page.
//! The privacy officer's "who saw P" then returns exactly Anna's reads of P — casework's case,
//! each task's history and the task-list row, the router's routing decisions, procesregie's
//! suggestions beside the case — each with the reason of the page that made it (the portal's one
//! table, `rcn_gateway::portal::reasons`), and nothing of Vera's; "who saw Q" nothing of Anna's.
//! The privacy officer's own portal page shows the reasons.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use rcn_contracts::identity::Role;
use rcn_contracts::privacy_api::{AccessEntry, WHO_SAW_VERB};
use rcn_contracts::{Bsn, Gemeentecode};
use rcn_gateway::portal::reasons::{Page, page_reason};
use rcn_gateway::portal::users::{self, NewUser};
use rcn_runtime::testing::eventually;
use rcn_tests::{PATIENCE, TestStack, release_notice_json};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use uuid::Uuid;

const P_KEY: &str = "PI-HAARLEM:PIH-2026-000123";
const Q_KEY: &str = "PI-HAARLEM:PIH-2026-000777";
const P_BSN: &str = "123456782";
const Q_BSN: &str = "111222333";
const PASSWORD: &str = "correct horse battery";

async fn add_user(stack: &TestStack, user_id: &str, role: Role, gemeente: Option<&str>) {
    let pool = rcn_gateway::tokens::open(stack.env.config.database_url().unwrap())
        .await
        .unwrap();
    users::add(
        &pool,
        NewUser {
            user_id,
            display_name: user_id,
            role,
            gemeentecode: gemeente.map(|g| Gemeentecode::parse(g).unwrap()),
            password: PASSWORD,
        },
    )
    .await
    .unwrap();
    pool.close().await;
}

/// A signed-in portal session, driven over HTTP as a browser without JavaScript would.
struct Portal {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

/// The value of cookie `name` among the response's `Set-Cookie` headers.
fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("a {name} cookie: {response:?}"))
        .to_owned()
}

/// The session form's CSRF token on a page.
fn csrf(html: &str) -> String {
    let start = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token")
        + r#"name="csrf" value=""#.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

impl Portal {
    async fn sign_in(stack: &TestStack, user_id: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let base = stack.url("");
        let form = client.get(format!("{base}/inloggen")).send().await.unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        let token = set_cookie(&form, "rcn_inlog");
        let signed_in = client
            .post(format!("{base}/inloggen"))
            .header(COOKIE, format!("rcn_inlog={token}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!(
                "csrf={token}&gebruikersnaam={user_id}&wachtwoord={}",
                PASSWORD.replace(' ', "+")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(
            signed_in.status(),
            StatusCode::SEE_OTHER,
            "{user_id} signs in"
        );
        let cookie = format!("rcn_sessie={}", set_cookie(&signed_in, "rcn_sessie"));
        Portal {
            client,
            base,
            cookie,
        }
    }

    /// Opens `path`; the page's HTML.
    async fn open(&self, path: &str) -> String {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{path}: {:?}",
            response.headers().get(LOCATION)
        );
        response.text().await.unwrap()
    }

    /// Posts a form of the page at `page` to `action`; the answer's HTML.
    async fn post(&self, page: &str, action: &str, fields: &str) -> String {
        let token = csrf(&self.open(page).await);
        let response = self
            .client
            .post(format!("{}{action}", self.base))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("csrf={token}&{fields}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{action}");
        response.text().await.unwrap()
    }
}

/// Waits until procesregie watches the case, so its suggestions from the case's opening are
/// there before the case page shows them.
async fn watched(stack: &TestStack, case_id: Uuid) {
    eventually(PATIENCE, "procesregie to watch the case", || async {
        sqlx::query_scalar::<_, Uuid>(
            "SELECT case_id FROM procesregie.watched_cases WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_optional(&stack.db)
        .await
        .ok()
        .flatten()
    })
    .await;
}

fn reads(entries: &[AccessEntry]) -> Vec<&AccessEntry> {
    entries.iter().filter(|e| e.what != WHO_SAW_VERB).collect()
}

/// How many of `entries` are `service`'s reads of kind `what` (the log word before any detail)
/// with the reason `why`.
fn count(entries: &[&AccessEntry], service: &str, what: &str, why: &str) -> usize {
    entries
        .iter()
        .filter(|e| {
            e.service == service
                && (e.what == what || e.what.starts_with(&format!("{what} ")))
                && e.why.as_deref() == Some(why)
        })
        .count()
}

#[tokio::test]
async fn a_page_view_in_the_portal_is_answered_by_who_saw_with_the_pages_reason() {
    let stack = TestStack::spawn().await;
    assert_eq!(
        stack.post_notice(&release_notice_json()).await.status(),
        202
    );
    let mut q = release_notice_json();
    q["notice_id"] = json!("PIH-2026-000777");
    q["person"] = json!({
        "bsn": Q_BSN, "family_name": "Bakker", "given_names": "Kees",
        "date_of_birth": "1985-02-03", "brp_municipality": "GM0453"
    });
    assert_eq!(stack.post_notice(&q).await.status(), 202);
    let case_p = stack.wait_for_case(P_KEY).await.case_id;
    let case_q = stack.wait_for_case(Q_KEY).await.case_id;
    stack.wait_for_decision(P_KEY).await;
    stack.wait_for_decision(Q_KEY).await;
    watched(&stack, case_p).await;
    watched(&stack, case_q).await;

    add_user(&stack, "anna", Role::MunicipalStaff, Some("GM0392")).await;
    add_user(&stack, "vera", Role::MunicipalStaff, Some("GM0453")).await;
    add_user(&stack, "fg", Role::PrivacyOfficer, None).await;

    // Anna opens P's case page and her municipality's tasks; Vera opens Q's case page.
    let anna = Portal::sign_in(&stack, "anna").await;
    let page = anna.open(&format!("/casussen/{case_p}")).await;
    assert!(page.contains("Jansen"), "P's case page");
    anna.open("/taken/gemeente").await;
    let vera = Portal::sign_in(&stack, "vera").await;
    assert!(
        vera.open(&format!("/casussen/{case_q}"))
            .await
            .contains("Bakker")
    );

    // What those pages showed of P, to count the reads by.
    let tasks: i64 =
        sqlx::query_scalar("SELECT count(*) FROM casework.condition_tasks WHERE case_id = $1")
            .bind(case_p)
            .fetch_one(&stack.db)
            .await
            .unwrap();
    assert!(tasks > 0);
    let suggestions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM procesregie.suggestions WHERE case_id = $1 AND status = 'open'",
    )
    .bind(case_p)
    .fetch_one(&stack.db)
    .await
    .unwrap();

    let subjects = stack.env.config.region.subjects();
    let p_bsn = Bsn::parse(P_BSN).unwrap();
    let answer = rcn::privacy::who_saw(&stack.nats, &subjects, stack.env.signer(), "fg", &p_bsn)
        .await
        .unwrap();
    assert!(answer.missing.is_empty(), "{:?}", answer.missing);
    let seen = reads(&answer.entries);
    let shown = || format!("{:#?}", answer.entries);
    let case_page = page_reason(Page::Case);
    let task_list = page_reason(Page::MunicipalityTasks);

    // Every read of P is Anna's, from Haarlem, about P's case, with one of her pages' reasons.
    for e in &seen {
        assert_eq!(
            (e.user_id.as_str(), e.role),
            ("anna", Role::MunicipalStaff),
            "{}",
            shown()
        );
        assert_eq!(e.gemeentecode.as_ref().map(|g| g.as_str()), Some("GM0392"));
        assert!(e.case_id.is_none() || e.case_id == Some(case_p), "{e:?}");
    }
    // Exactly those reads: the case page's in casework (the case, each task's history), the
    // router (the routing of its notice) and procesregie (its suggestions); the task list's
    // row in casework.
    assert_eq!(
        count(&seen, "casework", "case_detail", case_page),
        1,
        "{}",
        shown()
    );
    assert_eq!(
        count(&seen, "casework", "task_history", case_page),
        tasks as usize,
        "{}",
        shown()
    );
    assert_eq!(
        count(&seen, "casework", "inbox_row", task_list),
        1,
        "{}",
        shown()
    );
    assert_eq!(
        count(&seen, "router", "routing_decisions", case_page),
        1,
        "{}",
        shown()
    );
    assert_eq!(
        count(&seen, "procesregie", "suggestion_list", case_page),
        suggestions as usize,
        "{}",
        shown()
    );
    assert_eq!(
        seen.len(),
        3 + tasks as usize + suggestions as usize,
        "nothing else: {}",
        shown()
    );

    // Q's answer holds Vera's case page, and nothing of Anna's.
    let q_answer = rcn::privacy::who_saw(
        &stack.nats,
        &subjects,
        stack.env.signer(),
        "fg",
        &Bsn::parse(Q_BSN).unwrap(),
    )
    .await
    .unwrap();
    let q_seen = reads(&q_answer.entries);
    assert!(
        count(&q_seen, "casework", "case_detail", case_page) == 1
            && q_seen.iter().all(|e| e.user_id == "vera"),
        "{:#?}",
        q_answer.entries
    );

    // The privacy officer's own page says why, in the portal's words.
    let fg = Portal::sign_in(&stack, "fg").await;
    let page = fg
        .post(
            "/privacy",
            "/privacy/wie-heeft-ingezien",
            &format!("bsn={P_BSN}"),
        )
        .await;
    for reason in [case_page, task_list] {
        assert!(page.contains(reason), "the page shows “{reason}”");
    }
    assert!(
        !page.contains("zoals vastgelegd"),
        "every word has its Dutch"
    );
    assert!(!page.contains("vera"), "nothing of Q's reader");
    stack.stop().await;
}
