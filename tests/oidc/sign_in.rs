//! Signing in through `oidc-provider`'s own pages in headless Chromium.

use rcn_gateway::portal::oidc::{Oidc, OidcError};
use rcn_tests::browser::Browser;

use crate::World;

#[tokio::test]
async fn the_authorization_request_asks_for_a_code_with_pkce_s256_state_and_nonce() {
    let world = World::start().await;
    let (url, _pending) = world.rp.rp.oidc.begin().await.expect("begin");
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert!(url.as_str().starts_with(&world.provider.issuer), "{url}");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["client_id"], crate::CLIENT_ID);
    assert_eq!(query["redirect_uri"], world.rp.url("/oidc/callback"));
    assert_eq!(query["scope"], "openid profile rcn");
    for fresh in ["state", "nonce", "code_challenge"] {
        assert!(query[fresh].len() >= 22, "{fresh} is long and random");
    }
    let (again, _) = world.rp.rp.oidc.begin().await.expect("begin");
    let again: std::collections::HashMap<String, String> =
        again.query_pairs().into_owned().collect();
    for fresh in ["state", "nonce", "code_challenge"] {
        assert_ne!(query[fresh], again[fresh], "a new {fresh} per sign-in");
    }
    world.provider.stop().await;
}

#[tokio::test]
async fn municipal_staff_sign_in_at_the_provider_and_get_their_role_and_municipality() {
    let world = World::start().await;
    let browser = Browser::start().await;
    world.sign_in(&browser, "anna", "oidc-anna").await;
    browser.screenshot("oidc-anna-signed-in").await;
    assert_eq!(browser.text_of("#outcome").await, "Aangemeld");
    assert_eq!(browser.text_of("#user-id").await, "anna");
    assert_eq!(browser.text_of("#role").await, "municipal_staff");
    assert_eq!(browser.text_of("#gemeentecode").await, "GM0392");
    // The name comes from the userinfo endpoint: oidc-provider keeps scope claims out of the ID
    // token in the code flow, so this also proves that path.
    assert_eq!(browser.text_of("#name").await, "Anna de Vries");
    browser.close().await;
    world.provider.stop().await;
}

#[tokio::test]
async fn an_unknown_role_or_staff_without_a_municipality_get_no_access_in_plain_dutch() {
    let world = World::start().await;
    for (login, reason) in [
        ("xander", "Uw rol (beheerder) geeft geen toegang tot rcn."),
        (
            "bert",
            "Uw account vermeldt niet voor welke gemeente u werkt",
        ),
    ] {
        // A browser of their own: the provider's session would otherwise sign in the last one.
        let browser = Browser::start().await;
        world
            .sign_in(&browser, login, &format!("oidc-{login}"))
            .await;
        browser.screenshot(&format!("oidc-{login}-no-access")).await;
        assert_eq!(browser.text_of("#outcome").await, "Geen toegang", "{login}");
        assert_eq!(browser.text_of("#kind").await, "no_access", "{login}");
        let shown = browser.text_of("#reason").await;
        assert!(shown.starts_with(reason), "{login}: {shown}");
        browser.close().await;
    }
    world.provider.stop().await;
}

#[tokio::test]
async fn a_callback_that_belongs_to_another_sign_in_is_refused() {
    let world = World::start().await;
    let browser = Browser::start().await;
    // A forged callback while a sign-in is pending (the browser waits at the provider's login).
    browser.goto(&world.rp.url("/inloggen/oidc")).await;
    browser.element("input[name=login]").await;
    browser
        .goto(&world.rp.url("/oidc/callback?code=forged&state=forged"))
        .await;
    assert_eq!(browser.text_of("#kind").await, "state_mismatch");

    // A sign-in started in this browser, left at the provider's login page…
    browser.goto(&world.rp.url("/inloggen/oidc")).await;
    browser.element("input[name=login]").await;
    let first = browser.current_url().await.expect("url");
    // …then a second one, which replaces it in the session; finishing the first must fail.
    browser.goto(&world.rp.url("/inloggen/oidc")).await;
    browser.element("input[name=login]").await;
    assert_ne!(browser.current_url().await.expect("url"), first);
    browser.goto(first.as_str()).await;
    world
        .log_in_at_provider(&browser, "anna", "oidc-stale")
        .await;
    browser.screenshot("oidc-state-mismatch").await;
    assert_eq!(browser.text_of("#outcome").await, "Aanmelden mislukt");
    assert_eq!(browser.text_of("#kind").await, "state_mismatch");
    assert!(
        browser
            .text_of("#reason")
            .await
            .starts_with("Dit antwoord van de inlogdienst hoort niet bij uw aanmelding.")
    );
    browser.close().await;
    world.provider.stop().await;
}

#[tokio::test]
async fn a_replayed_callback_is_refused_by_the_session_and_by_the_provider() {
    let world = World::start().await;
    let browser = Browser::start().await;
    world.sign_in(&browser, "anna", "oidc-replay").await;
    assert_eq!(browser.text_of("#outcome").await, "Aangemeld");
    let callback = browser.current_url().await.expect("url");
    assert!(
        callback.query().unwrap_or_default().contains("code="),
        "{callback}"
    );

    // The same callback again: its pending sign-in was used up.
    browser.goto(callback.as_str()).await;
    assert_eq!(browser.text_of("#kind").await, "no_pending_login");

    // Even if a session layer kept the pending sign-in, the used code buys nothing.
    browser.goto(&world.rp.url("/oidc/replay")).await;
    browser.screenshot("oidc-replayed-code").await;
    assert_eq!(browser.text_of("#outcome").await, "Aanmelden mislukt");
    assert_eq!(browser.text_of("#kind").await, "code_refused");
    browser.close().await;
    world.provider.stop().await;
}

#[tokio::test]
async fn signing_out_ends_the_session_at_the_provider_too() {
    let world = World::start().await;
    let browser = Browser::start().await;
    world.sign_in(&browser, "rita", "oidc-rita").await;
    assert_eq!(browser.text_of("#role").await, "rcn_coordinator");
    assert_eq!(browser.text_of("#gemeentecode").await, "-");

    // Without a session the module still gives the provider's logout URL, without a hint.
    let bare = world
        .rp
        .rp
        .oidc
        .end_session_url(None, &world.rp.url("/afgemeld"))
        .await
        .expect("discovered")
        .expect("oidc-provider has an end_session_endpoint");
    let q: std::collections::HashMap<String, String> = bare.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], crate::CLIENT_ID);
    assert_eq!(q["post_logout_redirect_uri"], world.rp.url("/afgemeld"));
    assert!(!q.contains_key("id_token_hint"));

    browser
        .element("#uitloggen")
        .await
        .click()
        .await
        .expect("sign out");
    // The provider asks to confirm; the ID token hint tells it who and for which client.
    let url = browser.current_url().await.expect("url");
    assert!(url.as_str().starts_with(&world.provider.issuer), "{url}");
    browser.screenshot("oidc-provider-logout").await;
    browser
        .element("button[name=logout][value=yes]")
        .await
        .click()
        .await
        .expect("confirm");
    assert_eq!(browser.text_of("#outcome").await, "U bent afgemeld");
    browser.screenshot("oidc-signed-out").await;

    // Signing in again asks for the login again: the provider's session ended too.
    browser
        .element("#inloggen")
        .await
        .click()
        .await
        .expect("again");
    browser.element("input[name=login]").await;
    browser.close().await;
    world.provider.stop().await;
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_said_in_plain_dutch() {
    // A port that was free a moment ago: nothing answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let oidc = Oidc::new(crate::settings(
        &format!("http://127.0.0.1:{port}"),
        "http://127.0.0.1:1/oidc/callback",
    ))
    .unwrap();
    let e = oidc.begin().await.unwrap_err();
    assert!(
        matches!(
            e,
            OidcError::Unavailable {
                step: "discovery",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.message_nl().contains("niet bereikbaar"));
}

#[tokio::test]
async fn cancelling_at_the_provider_signs_nobody_in_and_says_so() {
    let world = World::start().await;
    let browser = Browser::start().await;
    browser.goto(&world.rp.url("/inloggen/oidc")).await;
    browser
        .element(".login-help a")
        .await
        .click()
        .await
        .expect("cancel");
    browser.screenshot("oidc-cancelled").await;
    assert_eq!(browser.text_of("#outcome").await, "Aanmelden mislukt");
    assert_eq!(browser.text_of("#kind").await, "provider_refused");
    assert!(browser.text_of("#reason").await.contains("afgebroken"));
    browser.close().await;
    world.provider.stop().await;
}
