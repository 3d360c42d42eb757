//! Sign-in with OpenID Connect, tested for real: against the npm `oidc-provider` (an independent
//! implementation) in headless Chromium through the provider's own login and consent pages, and
//! against a small provider of our own only for tokens `oidc-provider` will not make (wrong key,
//! expired, wrong audience, wrong nonce).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod bad_tokens;
mod fake_provider;
mod portal;
mod rp;
mod sign_in;

use rcn_contracts::identity::Role;
use rcn_gateway::portal::oidc::{Oidc, OidcSettings, RoleTable};
use rcn_tests::browser::Browser;
use rcn_tests::oidc_provider::{OidcProvider, ProviderSetup};
use serde_json::json;

use rp::{RpAddress, TestRp};

pub const CLIENT_ID: &str = "rcn-portal";
pub const CLIENT_SECRET: &str = "test-client-secret-that-is-long-enough";

/// How the test provider's claims map to rcn: the role in `rcn_rol`, the municipality in
/// `gemeentecode`, both released with the scope `rcn`.
pub fn settings(issuer: &str, redirect_url: &str) -> OidcSettings {
    let mut s = OidcSettings::new(issuer, CLIENT_ID, redirect_url);
    s.client_secret = Some(rcn_gateway::portal::oidc::ClientSecret::new(CLIENT_SECRET));
    s.scopes = vec!["openid".into(), "profile".into(), "rcn".into()];
    s.claims.role = "rcn_rol".into();
    s.roles = RoleTable::Table(vec![
        ("nazorg".into(), Role::MunicipalStaff),
        ("rcn".into(), Role::RcnCoordinator),
        ("zvh".into(), Role::Procesregisseur),
    ]);
    s
}

/// `oidc-provider`, the relying party that uses our module, and a browser.
pub struct World {
    pub provider: OidcProvider,
    pub rp: TestRp,
}

impl World {
    /// The provider with the test accounts, and the relying party registered there.
    pub async fn start() -> Self {
        let address = RpAddress::bind().await;
        let provider = OidcProvider::start(&ProviderSetup {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_uris: vec![address.callback()],
            post_logout_redirect_uris: vec![address.signed_out()],
            accounts: json!({
                "anna": {"name": "Anna de Vries", "rcn_rol": "nazorg", "gemeentecode": "GM0392"},
                "rita": {"name": "Rita Jansen", "rcn_rol": "rcn"},
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
        let oidc =
            Oidc::new(settings(&provider.issuer, &address.callback())).expect("the relying party");
        let rp = address.serve(oidc);
        Self { provider, rp }
    }

    /// Starts signing in from the relying party's home page as the browser's user would, signs in
    /// at the provider as `login` (any password) and consents, taking screenshots named
    /// `<shots>-…`; returns on the relying party's answer page.
    pub async fn sign_in(&self, browser: &Browser, login: &str, shots: &str) {
        browser.goto(&self.rp.url("/")).await;
        browser
            .element("#inloggen")
            .await
            .click()
            .await
            .expect("click");
        self.log_in_at_provider(browser, login, shots).await;
    }

    /// On the provider's login page: signs in as `login` and consents when asked.
    pub async fn log_in_at_provider(&self, browser: &Browser, login: &str, shots: &str) {
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
        browser.screenshot(&format!("{shots}-provider-login")).await;
        browser
            .element("button[type=submit]")
            .await
            .click()
            .await
            .expect("sign in");
        // The consent page (first sign-in of this account for this client), then back to us.
        let consent = browser
            .wait()
            .at_most(rcn_tests::browser::BROWSER_PATIENCE)
            .for_element(fantoccini::Locator::Css(
                "input[name=prompt][value=consent], #outcome",
            ))
            .await
            .expect("the consent page or our answer");
        if consent.attr("name").await.ok().flatten().as_deref() == Some("prompt") {
            browser
                .screenshot(&format!("{shots}-provider-consent"))
                .await;
            browser
                .element("button[type=submit]")
                .await
                .click()
                .await
                .expect("consent");
        }
        browser.element("#outcome").await;
    }
}
