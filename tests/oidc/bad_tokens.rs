//! ID tokens that are wrong in one way each, from the fake provider: every one is refused with
//! the reason named, and nobody is signed in.

use rcn_contracts::identity::Role;
use rcn_gateway::portal::oidc::{CallbackQuery, IdTokenProblem, Oidc, OidcError, SignedIn};

use crate::fake_provider::{FakeProvider, Fault};
use crate::{CLIENT_ID, settings};

/// Signs in at a fake provider with `fault`, following its redirect by hand.
async fn sign_in_with(fault: Fault) -> Result<SignedIn, OidcError> {
    let provider = FakeProvider::start(CLIENT_ID, fault).await;
    sign_in_at(&provider).await
}

async fn sign_in_at(provider: &FakeProvider) -> Result<SignedIn, OidcError> {
    // Never visited: the test reads the provider's redirect itself.
    let oidc = Oidc::new(settings(
        &provider.issuer,
        "http://127.0.0.1:1/oidc/callback",
    ))
    .expect("the relying party");
    let (url, pending) = oidc.begin().await.expect("discovery of the fake provider");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let answer = http.get(url).send().await.expect("the provider answers");
    let location = answer.headers()["location"]
        .to_str()
        .expect("text")
        .to_owned();
    let back = reqwest::Url::parse(&location).expect("a URL");
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let query = CallbackQuery {
        code: param("code"),
        state: param("state"),
        ..Default::default()
    };
    oidc.finish(&pending, &query).await
}

async fn refused_for(fault: Fault) -> IdTokenProblem {
    match sign_in_with(fault).await {
        Err(e @ OidcError::IdToken { .. }) => {
            assert_eq!(e.kind(), "id_token_invalid");
            assert!(e.message_nl().contains("niet geldig"), "{}", e.message_nl());
            let OidcError::IdToken { problem, .. } = e else {
                unreachable!()
            };
            problem
        }
        other => panic!("{fault:?}: expected a refused ID token, got {other:?}"),
    }
}

#[tokio::test]
async fn a_good_token_from_the_fake_provider_signs_in_so_each_refusal_below_is_for_its_fault() {
    let signed_in = sign_in_with(Fault::None).await.expect("signed in");
    let identity = &signed_in.person.identity;
    assert_eq!(identity.user_id, "anna");
    assert_eq!(identity.role, Role::MunicipalStaff);
    assert_eq!(
        identity.gemeentecode.as_ref().map(|g| g.as_str()),
        Some("GM0392")
    );
    assert_eq!(signed_in.subject, "anna");
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    assert_eq!(
        refused_for(Fault::WrongKey).await,
        IdTokenProblem::Signature
    );
    let provider = FakeProvider::start(CLIENT_ID, Fault::UnknownKey).await;
    match sign_in_at(&provider).await {
        Err(OidcError::IdToken { problem, .. }) => assert_eq!(problem, IdTokenProblem::Signature),
        other => panic!("expected a refused signature, got {other:?}"),
    }
    assert_eq!(
        provider.jwks_fetches(),
        2,
        "an unknown key id: the keys were fetched again"
    );
}

#[tokio::test]
async fn a_token_signed_with_a_newly_rotated_key_is_accepted_after_fetching_the_keys_again() {
    let provider = FakeProvider::start(CLIENT_ID, Fault::RotatedKey).await;
    let signed_in = sign_in_at(&provider).await.expect("signed in");
    assert_eq!(signed_in.person.identity.user_id, "anna");
    assert_eq!(provider.jwks_fetches(), 2);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    assert_eq!(refused_for(Fault::Expired).await, IdTokenProblem::Expired);
}

#[tokio::test]
async fn a_token_for_another_client_is_refused() {
    assert_eq!(
        refused_for(Fault::WrongAudience).await,
        IdTokenProblem::Audience
    );
}

#[tokio::test]
async fn a_token_for_another_sign_in_is_refused() {
    assert_eq!(refused_for(Fault::WrongNonce).await, IdTokenProblem::Nonce);
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    assert_eq!(
        refused_for(Fault::WrongIssuer).await,
        IdTokenProblem::Issuer
    );
}

#[tokio::test]
async fn an_access_token_swapped_for_another_is_refused() {
    assert_eq!(
        refused_for(Fault::SwappedAccessToken).await,
        IdTokenProblem::AccessTokenHash
    );
}
