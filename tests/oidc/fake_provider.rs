//! A tiny OpenID provider of our own, ONLY for what `oidc-provider` will not do: hand out ID
//! tokens that are wrong in one chosen way. It speaks just enough of the protocol (discovery,
//! keys, an authorization endpoint that answers at once, a token endpoint that checks PKCE) for
//! the module to reach its token checks. With [`Fault::None`] its tokens are good, which proves
//! that each refusal is for the fault alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey, StandardClaims,
    SubjectIdentifier,
};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;

/// What is wrong with the ID token the provider hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Signed by another key under the provider's own key id.
    WrongKey,
    /// Signed by a key whose id the provider does not publish (not even after a refresh).
    UnknownKey,
    Expired,
    /// Issued for another client.
    WrongAudience,
    /// Issued for another sign-in.
    WrongNonce,
    /// Claims another issuer.
    WrongIssuer,
    /// Its `at_hash` is for another access token than the one sent with it.
    SwappedAccessToken,
    /// Not a fault: signed with a key the provider publishes only from its second key set on,
    /// as after a key rotation; a relying party that fetches the keys again accepts it.
    RotatedKey,
}

/// The claims rcn reads, besides `sub`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RcnClaims {
    rcn_rol: String,
    gemeentecode: String,
}

impl AdditionalClaims for RcnClaims {}

/// Two RSA keys, made once per test process (making one takes a moment).
fn keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem = || {
            rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                .expect("an RSA key")
                .to_pkcs1_pem(LineEnding::LF)
                .expect("PEM")
                .to_string()
        };
        (pem(), pem())
    })
}

fn signing_key(pem: &str, kid: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into()))).expect("a key")
}

struct Grant {
    nonce: String,
    code_challenge: String,
}

struct Provider {
    issuer: String,
    client_id: String,
    fault: Fault,
    grants: Mutex<HashMap<String, Grant>>,
    /// How often the key set was fetched.
    jwks_fetches: AtomicUsize,
}

/// A running fake provider.
pub struct FakeProvider {
    pub issuer: String,
    state: Arc<Provider>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeProvider {
    pub async fn start(client_id: &str, fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let issuer = format!("http://{}", listener.local_addr().expect("bound"));
        let state = Arc::new(Provider {
            issuer: issuer.clone(),
            client_id: client_id.into(),
            fault,
            grants: Mutex::default(),
            jwks_fetches: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake provider serves");
        });
        Self {
            issuer,
            state,
            server,
        }
    }

    /// How often a relying party fetched the key set.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }
}

async fn discovery(State(p): State<Arc<Provider>>) -> Response {
    Json(json!({
        "issuer": p.issuer,
        "authorization_endpoint": format!("{}/authorize", p.issuer),
        "token_endpoint": format!("{}/token", p.issuer),
        "jwks_uri": format!("{}/jwks", p.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn jwks(State(p): State<Arc<Provider>>) -> Response {
    let earlier = p.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let mut set = vec![signing_key(&keys().0, "good").as_verification_key()];
    if p.fault == Fault::RotatedKey && earlier > 0 {
        set.push(signing_key(&keys().1, "rotated").as_verification_key());
    }
    Json(CoreJsonWebKeySet::new(set)).into_response()
}

/// Answers at once, as if the person had signed in.
async fn authorize(
    State(p): State<Arc<Provider>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let code = uuid::Uuid::new_v4().simple().to_string();
    p.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: q.get("nonce").cloned().unwrap_or_default(),
            code_challenge: q.get("code_challenge").cloned().unwrap_or_default(),
        },
    );
    let mut back = openidconnect::url::Url::parse(&q["redirect_uri"]).expect("a redirect URI");
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", q.get("state").map(String::as_str).unwrap_or(""));
    Redirect::to(back.as_str()).into_response()
}

fn refuse(error: &str) -> Response {
    (
        axum::http::StatusCode::BAD_REQUEST,
        Json(json!({ "error": error })),
    )
        .into_response()
}

async fn token(State(p): State<Arc<Provider>>, Form(f): Form<HashMap<String, String>>) -> Response {
    let Some(grant) = f
        .get("code")
        .and_then(|c| p.grants.lock().unwrap().remove(c))
    else {
        return refuse("invalid_grant");
    };
    // PKCE S256, as a real provider checks it.
    let verifier = PkceCodeVerifier::new(f.get("code_verifier").cloned().unwrap_or_default());
    if PkceCodeChallenge::from_code_verifier_sha256(&verifier).as_str() != grant.code_challenge {
        return refuse("invalid_grant");
    }
    let fault = p.fault;
    let now = Utc::now();
    let (issued, expires) = if fault == Fault::Expired {
        (now - Duration::minutes(20), now - Duration::minutes(10))
    } else {
        (now, now + Duration::minutes(5))
    };
    let issuer = if fault == Fault::WrongIssuer {
        "http://127.0.0.1:1".to_owned()
    } else {
        p.issuer.clone()
    };
    let audience = if fault == Fault::WrongAudience {
        "another-client".to_owned()
    } else {
        p.client_id.clone()
    };
    let nonce = if fault == Fault::WrongNonce {
        "a-nonce-of-another-sign-in".to_owned()
    } else {
        grant.nonce
    };
    let claims = IdTokenClaims::<RcnClaims, CoreGenderClaim>::new(
        IssuerUrl::new(issuer).expect("a URL"),
        vec![Audience::new(audience)],
        expires,
        issued,
        StandardClaims::new(SubjectIdentifier::new("anna".into())),
        RcnClaims {
            rcn_rol: "nazorg".into(),
            gemeentecode: "GM0392".into(),
        },
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let key = match fault {
        Fault::WrongKey => signing_key(&keys().1, "good"),
        Fault::UnknownKey => signing_key(&keys().1, "rotated-away"),
        Fault::RotatedKey => signing_key(&keys().1, "rotated"),
        _ => signing_key(&keys().0, "good"),
    };
    let access_token = AccessToken::new(uuid::Uuid::new_v4().to_string());
    let id_token = IdToken::<
        RcnClaims,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >::new(
        claims,
        &key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&access_token),
        None,
    )
    .expect("signed");
    let sent_access_token = if fault == Fault::SwappedAccessToken {
        uuid::Uuid::new_v4().to_string()
    } else {
        access_token.secret().clone()
    };
    Json(json!({
        "access_token": sent_access_token,
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token.to_string(),
    }))
    .into_response()
}
