//! The staff portal's own sign-in through `oidc-provider`, in the browser: the whole stack runs
//! with `RCN_OIDC_*` set, the login page offers "Inloggen via uw organisatie", and the session
//! the callback starts is the portal's (its pages, its sign-out through the provider).
//! axe-core runs on every page of ours in the flow (the login chooser, the page after sign-in,
//! "Geen toegang" for an unknown role and for a missing claim, a stray callback, the signed-out
//! page): no serious or critical violation, and a screenshot of each. The provider's own pages
//! are screenshotted only: they are not ours to fix.

use std::time::Duration;

use fantoccini::Locator;
use rcn_tests::TestStack;
use rcn_tests::browser::{BROWSER_PATIENCE, Browser};
use rcn_tests::oidc_provider::{OidcProvider, ProviderSetup};
use serde_json::json;

use crate::{CLIENT_ID, CLIENT_SECRET};

struct Site {
    base: String,
    provider: OidcProvider,
    stack: TestStack,
}

impl Site {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let provider = OidcProvider::start(&ProviderSetup {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uris: vec![format!("{base}/oidc/callback")],
            post_logout_redirect_uris: vec![format!("{base}/inloggen?afgemeld=1")],
            accounts: json!({
                "anna": {"name": "Anna de Vries", "rcn_rol": "nazorg", "gemeentecode": "GM0392"},
                "xander": {"name": "Xander Bakker", "rcn_rol": "beheerder"},
                "bert": {"name": "Bert Smit", "rcn_rol": "nazorg"},
            })
            .as_object()
            .expect("an object")
            .clone(),
            scopes: json!({"rcn": ["rcn_rol", "gemeentecode"]})
                .as_object()
                .expect("an object")
                .clone(),
        })
        .await;
        let addr = format!("127.0.0.1:{port}");
        let redirect = format!("{base}/oidc/callback");
        let stack = TestStack::spawn_with_settings(&[
            ("RCN_HTTP_ADDR", addr.as_str()),
            ("RCN_GATEWAY_PUBLIC_URL", base.as_str()),
            ("RCN_OIDC_ISSUER", provider.issuer.as_str()),
            ("RCN_OIDC_CLIENT_ID", CLIENT_ID),
            ("RCN_OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("RCN_OIDC_REDIRECT_URL", redirect.as_str()),
            ("RCN_OIDC_SCOPES", "openid profile rcn"),
            ("RCN_OIDC_ROLE_CLAIM", "rcn_rol"),
            (
                "RCN_OIDC_ROLE_MAP",
                "nazorg=municipal_staff;rcn=rcn_coordinator",
            ),
        ])
        .await;
        Self {
            base,
            provider,
            stack,
        }
    }

    /// From the portal's login page through the provider's login (and consent) pages, back to
    /// the portal: returns the element that ended the wait (our page's `h1`).
    async fn sign_in(&self, browser: &Browser, login: &str, shots: &str) {
        browser.goto(&format!("{}/inloggen", self.base)).await;
        browser.check_page(&format!("{shots}-portal-login")).await;
        browser
            .element("#inloggen-oidc")
            .await
            .click()
            .await
            .expect("click");
        browser
            .element("input[name=login]")
            .await
            .send_keys(login)
            .await
            .expect("type the login");
        browser
            .element("input[name=password]")
            .await
            .send_keys("any password")
            .await
            .expect("type the password");
        browser
            .element("button[type=submit]")
            .await
            .click()
            .await
            .expect("sign in");
        let next = browser
            .wait()
            .at_most(BROWSER_PATIENCE)
            .for_element(Locator::Css(
                "input[name=prompt][value=consent], h1.utrecht-heading-1",
            ))
            .await
            .expect("the consent page or the portal");
        if next.attr("name").await.ok().flatten().as_deref() == Some("prompt") {
            browser
                .element("button[type=submit]")
                .await
                .click()
                .await
                .expect("consent");
        }
        browser.element("h1.utrecht-heading-1").await;
    }
}

#[tokio::test]
async fn staff_sign_in_to_the_portal_through_their_organisation_and_sign_out_there_too() {
    let site = Site::start().await;
    let browser = Browser::start().await;
    site.sign_in(&browser, "anna", "portal-oidc-anna").await;
    // Municipal staff land on their own tasks, signed in as the provider said.
    let url = browser.current_url().await.expect("a url");
    assert_eq!(url.path(), "/taken", "{url}");
    assert_eq!(browser.text_of("h1").await, "Mijn taken");
    let page = browser.source().await.expect("the page");
    assert!(
        page.contains("Anna de Vries"),
        "the name from the provider is shown"
    );
    browser.check_page("portal-oidc-anna-mijn-taken").await;
    let stored: (String, Option<String>) = sqlx::query_as(
        "SELECT role, gemeentecode FROM gateway.portal_users WHERE user_id = 'anna'",
    )
    .fetch_one(&site.stack.db)
    .await
    .expect("the person is known to the portal");
    assert_eq!(stored, ("municipal_staff".into(), Some("GM0392".into())));
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM gateway.portal_oidc_logins")
        .fetch_one(&site.stack.db)
        .await
        .expect("count");
    assert_eq!(pending, 0, "the callback took its sign-in record");

    // Signing out goes through the provider's end-session page and back to ours.
    browser
        .element("form[action='/uitloggen'] button")
        .await
        .click()
        .await
        .expect("sign out");
    let mut at_provider = false;
    for _ in 0..100 {
        let url = browser.current_url().await.expect("a url");
        if url.as_str().starts_with(&site.provider.issuer) {
            at_provider = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        at_provider,
        "sign-out goes to the provider's end-session page"
    );
    browser.screenshot("portal-oidc-provider-sign-out").await;
    browser
        .element("button[name=logout][value=yes]")
        .await
        .click()
        .await
        .expect("confirm at the provider");
    let mut back = false;
    for _ in 0..100 {
        let url = browser.current_url().await.expect("a url");
        if url.as_str().starts_with(&site.base) && url.path() == "/inloggen" {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        back,
        "back on the portal's login page after the provider signed out"
    );
    assert!(
        browser
            .source()
            .await
            .expect("the page")
            .contains("U bent uitgelogd"),
        "the signed-out page says so"
    );
    browser.check_page("portal-oidc-signed-out").await;
    // The portal session is over: its pages send the browser to the login page.
    browser.goto(&format!("{}/taken", site.base)).await;
    assert_eq!(
        browser.current_url().await.expect("a url").path(),
        "/inloggen"
    );
    browser.close().await;
    site.stack.stop().await;
    site.provider.stop().await;
}

#[tokio::test]
async fn a_role_rcn_does_not_know_gets_no_access_and_no_session() {
    let site = Site::start().await;
    let browser = Browser::start().await;
    site.sign_in(&browser, "xander", "portal-oidc-xander").await;
    assert_eq!(browser.text_of("h1").await, "Geen toegang");
    let page = browser.source().await.expect("the page");
    assert!(
        page.contains("beheerder"),
        "the page names the role it does not know"
    );
    browser.check_page("portal-oidc-xander-geen-toegang").await;
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM gateway.portal_sessions")
        .fetch_one(&site.stack.db)
        .await
        .expect("count");
    assert_eq!(sessions, 0);
    // A callback replayed or made up by hand finds no sign-in of this browser.
    browser
        .goto(&format!("{}/oidc/callback?code=abc&state=def", site.base))
        .await;
    let page = browser.source().await.expect("the page");
    assert!(page.contains("hoort niet bij een inlogpoging"), "{page}");
    browser.check_page("portal-oidc-losse-callback").await;
    browser.close().await;
    site.stack.stop().await;
    site.provider.stop().await;
}

#[tokio::test]
async fn municipal_staff_without_a_municipality_claim_get_a_page_naming_it_and_no_session() {
    let site = Site::start().await;
    let browser = Browser::start().await;
    site.sign_in(&browser, "bert", "portal-oidc-bert").await;
    assert_eq!(browser.text_of("h1").await, "Geen toegang");
    let main = browser.text_of("main").await;
    assert!(
        main.contains("niet voor welke gemeente u werkt") && main.contains("gemeentecode"),
        "the page names the missing claim: {main}"
    );
    browser
        .check_page("portal-oidc-bert-gemeentecode-ontbreekt")
        .await;
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM gateway.portal_sessions")
        .fetch_one(&site.stack.db)
        .await
        .expect("count");
    assert_eq!(sessions, 0);
    browser.close().await;
    site.stack.stop().await;
    site.provider.stop().await;
}
