//! Sign-in to the portal with OpenID Connect: the authorization code flow with PKCE (S256),
//! `state` and `nonce`, as the NL GOV OIDC profile asks, against the provider named in the
//! settings (found by discovery). The session layer calls three things:
//!
//! - [`Oidc::begin`]: where to send the browser, and a [`PendingLogin`] it keeps server-side
//!   (never in a cookie or URL: it holds the PKCE verifier);
//! - [`Oidc::finish`] with that record and the callback's query: checks `state` (and `iss`),
//!   exchanges the code, verifies the ID token (signature, issuer, audience, expiry, nonce,
//!   `at_hash`), and maps the claims to an [`Identity`](rcn_contracts::identity::Identity) and a
//!   display name, or says why not;
//! - [`Oidc::end_session_url`]: where to send the browser to sign out at the provider too.
//!
//! It never logs a token, code, verifier or the client secret, and it decides nothing about
//! sessions: it has no storage of its own.
//!
//! Wiring: `Settings::oidc` (read from `RCN_OIDC_*`) is `Some` when sign-in with OpenID Connect
//! is configured; `Oidc::new(settings)` makes the one shared relying party (no I/O: the provider
//! is discovered on first use). Pages show [`OidcError::message_nl`] under "Geen toegang" when
//! [`OidcError::is_no_access`], else under "Aanmelden mislukt".

mod claims;
mod settings;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken};
use openidconnect::url::Url;
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LanguageTag,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

pub use claims::{NoAccess, Person};
pub use settings::{ClaimNames, ClientSecret, OidcSettings, RoleTable};

/// How long a started sign-in may take, from [`Oidc::begin`] to the callback.
pub const LOGIN_TIME_LIMIT: Duration = Duration::from_secs(10 * 60);

/// How long the provider's discovery document and keys are used before they are fetched again
/// (sooner when a token is signed with a key they do not hold: the provider rotated its keys).
const METADATA_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// What the session layer keeps server-side between [`Oidc::begin`] and [`Oidc::finish`].
/// Serialisable so it can live in the session store; its `Debug` shows none of its secrets.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    state: String,
    nonce: String,
    pkce_verifier: String,
    /// Unix seconds; a sign-in older than [`LOGIN_TIME_LIMIT`] is refused.
    started_at: i64,
}

impl PendingLogin {
    /// When the sign-in was started.
    pub fn started_at(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(self.started_at, 0).unwrap_or_default()
    }
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PendingLogin(started {})", self.started_at())
    }
}

/// The query of the provider's redirect to `/oidc/callback`.
#[derive(Clone, Default, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// RFC 9207: the issuer that answers; when present it must be ours (mix-up defence).
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl fmt::Debug for CallbackQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackQuery")
            .field("code", &self.code.as_ref().map(|_| "***"))
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// A completed sign-in.
#[derive(Clone)]
pub struct SignedIn {
    pub person: Person,
    /// The provider's subject (`sub`), whatever claim the user id comes from.
    pub subject: String,
    /// The raw ID token, kept server-side with the session as the `id_token_hint` for
    /// [`Oidc::end_session_url`]; never shown or logged.
    pub id_token: String,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignedIn({:?})", self.person)
    }
}

/// What was wrong with the ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdTokenProblem {
    /// The token response held no ID token.
    Missing,
    /// Not signed by a key of the provider (or not signed at all, or with a refused algorithm).
    Signature,
    Expired,
    /// Not issued for this client.
    Audience,
    /// Issued by someone else than the configured issuer.
    Issuer,
    /// Not the answer to this sign-in (a replayed or injected token).
    Nonce,
    /// The access token does not belong to the ID token (`at_hash`).
    AccessTokenHash,
    /// Malformed, or refused for another reason.
    Other,
}

impl IdTokenProblem {
    fn of(e: &ClaimsVerificationError) -> Self {
        match e {
            ClaimsVerificationError::Expired(_) => Self::Expired,
            ClaimsVerificationError::InvalidAudience(_) => Self::Audience,
            ClaimsVerificationError::InvalidIssuer(_) => Self::Issuer,
            ClaimsVerificationError::InvalidNonce(_) => Self::Nonce,
            ClaimsVerificationError::SignatureVerification(_) => Self::Signature,
            _ => Self::Other,
        }
    }
}

/// Why a sign-in did not succeed. [`OidcError::kind`] is a stable code for logs and tests;
/// [`OidcError::message_nl`] is what the page says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the OpenID provider cannot be reached or answered badly at {step}: {reason}")]
    Unavailable { step: &'static str, reason: String },
    #[error("the sign-in took longer than {} minutes", LOGIN_TIME_LIMIT.as_secs() / 60)]
    Expired,
    #[error("the provider ended the sign-in with {error:?}")]
    ProviderRefused { error: String },
    #[error("the callback's state does not belong to this browser's sign-in")]
    StateMismatch,
    #[error("the callback names another issuer than the configured one")]
    IssuerMismatch,
    #[error("the callback holds no authorization code")]
    MissingCode,
    #[error("the provider refused the authorization code: {error}")]
    CodeRefused { error: String },
    #[error("the ID token is not valid: {problem:?} ({detail})")]
    IdToken {
        problem: IdTokenProblem,
        detail: String,
    },
    #[error("signed in at the provider, but no access: {0}")]
    NoAccess(#[from] NoAccess),
}

impl OidcError {
    /// A stable code: `unavailable`, `expired`, `provider_refused`, `state_mismatch`,
    /// `issuer_mismatch`, `missing_code`, `code_refused`, `id_token_invalid`, `no_access`.
    pub fn kind(&self) -> &'static str {
        match self {
            OidcError::Unavailable { .. } => "unavailable",
            OidcError::Expired => "expired",
            OidcError::ProviderRefused { .. } => "provider_refused",
            OidcError::StateMismatch => "state_mismatch",
            OidcError::IssuerMismatch => "issuer_mismatch",
            OidcError::MissingCode => "missing_code",
            OidcError::CodeRefused { .. } => "code_refused",
            OidcError::IdToken { .. } => "id_token_invalid",
            OidcError::NoAccess(_) => "no_access",
        }
    }

    /// Whether the page to show is "geen toegang" (the person is known at the provider but may
    /// not use rcn), rather than "aanmelden mislukt".
    pub fn is_no_access(&self) -> bool {
        matches!(self, OidcError::NoAccess(_))
    }

    /// What the page tells the person, in Dutch.
    pub fn message_nl(&self) -> String {
        const AGAIN: &str = "Probeer opnieuw aan te melden.";
        match self {
            OidcError::Unavailable { .. } => {
                "De inlogdienst is nu niet bereikbaar. Probeer het over enkele minuten opnieuw."
                    .into()
            }
            OidcError::Expired => format!("Het aanmelden duurde te lang. {AGAIN}"),
            OidcError::ProviderRefused { error } if error == "access_denied" => {
                format!("Het aanmelden is bij de inlogdienst afgebroken. {AGAIN}")
            }
            OidcError::ProviderRefused { .. } => {
                format!("De inlogdienst heeft het aanmelden niet afgerond. {AGAIN}")
            }
            OidcError::StateMismatch | OidcError::IssuerMismatch | OidcError::MissingCode => {
                format!("Dit antwoord van de inlogdienst hoort niet bij uw aanmelding. {AGAIN}")
            }
            OidcError::CodeRefused { .. } => {
                format!("De inlogdienst heeft deze aanmelding al afgehandeld of geweigerd. {AGAIN}")
            }
            OidcError::IdToken { .. } => format!(
                "Het bewijs van aanmelding van de inlogdienst is niet geldig, dus u bent niet aangemeld. {AGAIN}"
            ),
            OidcError::NoAccess(no) => no.reason_nl(),
        }
    }
}

/// Every claim, as the provider sent it (for the userinfo endpoint's answer).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AllClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for AllClaims {}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The relying party: one per gateway, shared by every request.
pub struct Oidc {
    settings: OidcSettings,
    http: openidconnect::reqwest::Client,
    provider: Mutex<Option<(Instant, Arc<ProviderMetadataWithLogout>)>>,
}

impl fmt::Debug for Oidc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oidc({})", self.settings.issuer)
    }
}

impl Oidc {
    /// A relying party for `settings`; the provider is discovered on first use, so the gateway
    /// starts while the provider is down (sign-in then says it cannot reach it).
    pub fn new(settings: OidcSettings) -> Result<Self, OidcError> {
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would let a provider's answer send us anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("rcn-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OidcError::Unavailable {
                step: "setting up the HTTP client",
                reason: e.to_string(),
            })?;
        Ok(Self {
            settings,
            http,
            provider: Mutex::new(None),
        })
    }

    /// [`Oidc::new`] and discovery at once, for a caller that wants to fail early.
    pub async fn discover(settings: OidcSettings) -> Result<Self, OidcError> {
        let oidc = Self::new(settings)?;
        oidc.provider(false).await?;
        Ok(oidc)
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// Starts a sign-in: the provider's authorization URL to redirect the browser to, and the
    /// record to keep until the callback.
    pub async fn begin(&self) -> Result<(Url, PendingLogin), OidcError> {
        let provider = self.provider(false).await?;
        let client = self.client(&provider)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_ui_locale(LanguageTag::new("nl".into()));
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            started_at: chrono::Utc::now().timestamp(),
        };
        Ok((url, pending))
    }

    /// Completes a sign-in from the provider's callback. The caller removes `pending` from the
    /// session before calling, so a callback is used once.
    pub async fn finish(
        &self,
        pending: &PendingLogin,
        query: &CallbackQuery,
    ) -> Result<SignedIn, OidcError> {
        let result = self.finish_inner(pending, query).await;
        match &result {
            Ok(signed_in) => tracing::info!(
                user_id = %signed_in.person.identity.user_id,
                role = signed_in.person.identity.role.as_str(),
                "signed in with OpenID Connect"
            ),
            Err(e) => tracing::warn!(kind = e.kind(), error = %e, "OpenID Connect sign-in refused"),
        }
        result
    }

    async fn finish_inner(
        &self,
        pending: &PendingLogin,
        query: &CallbackQuery,
    ) -> Result<SignedIn, OidcError> {
        let age = chrono::Utc::now().timestamp() - pending.started_at;
        if !(0..=LOGIN_TIME_LIMIT.as_secs() as i64).contains(&age) {
            return Err(OidcError::Expired);
        }
        let state_matches = query
            .state
            .as_deref()
            .is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
        if !state_matches {
            return Err(OidcError::StateMismatch);
        }
        if let Some(error) = &query.error {
            return Err(OidcError::ProviderRefused {
                error: error.chars().take(64).collect(),
            });
        }
        if let Some(iss) = &query.iss
            && iss.trim_end_matches('/') != self.settings.issuer.trim_end_matches('/')
        {
            return Err(OidcError::IssuerMismatch);
        }
        let code = query
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(OidcError::MissingCode)?;

        let provider = self.provider(false).await?;
        let client = self.client(&provider)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unavailable {
                step: "the token endpoint",
                reason: e.to_string(),
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => OidcError::CodeRefused {
                    error: r.error().to_string(),
                },
                other => OidcError::Unavailable {
                    step: "the token endpoint",
                    reason: other.to_string(),
                },
            })?;
        let id_token = tokens.id_token().ok_or(OidcError::IdToken {
            problem: IdTokenProblem::Missing,
            detail: "the token response has no id_token".into(),
        })?;
        let nonce = Nonce::new(pending.nonce.clone());

        // A key the cached set lacks may be a rotated one: fetch the provider's keys once more.
        let unknown_key = matches!(
            id_token.claims(&client.id_token_verifier(), &nonce),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey
            ))
        );
        let client = if unknown_key {
            self.client(&*self.provider(true).await?)?
        } else {
            client
        };
        drop(provider);
        let verifier = client.id_token_verifier();
        let verified = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| OidcError::IdToken {
                problem: IdTokenProblem::of(&e),
                detail: e.to_string(),
            })?;
        if let Some(expected) = verified.access_token_hash() {
            let alg = id_token.signing_alg().map_err(token_problem)?;
            let key = id_token.signing_key(&verifier).map_err(token_problem)?;
            let actual =
                AccessTokenHash::from_token(tokens.access_token(), alg, key).map_err(|e| {
                    OidcError::IdToken {
                        problem: IdTokenProblem::AccessTokenHash,
                        detail: e.to_string(),
                    }
                })?;
            if actual != *expected {
                return Err(OidcError::IdToken {
                    problem: IdTokenProblem::AccessTokenHash,
                    detail: "at_hash does not match the access token".into(),
                });
            }
        }
        let subject = verified.subject().as_str().to_owned();
        let raw = id_token.to_string();
        let mut claims = verified_payload(&raw)?;

        let names = &self.settings.claims;
        let incomplete = [&names.role, &names.gemeentecode, &names.name]
            .iter()
            .any(|name| !claims.contains_key(name.as_str()));
        if incomplete && client.user_info_url().is_some() {
            // Providers that keep scope claims out of the ID token (as the spec allows for the
            // code flow) give them at the userinfo endpoint; the ID token's own claims win.
            let info: UserInfoClaims<AllClaims, CoreGenderClaim> = client
                .user_info(
                    tokens.access_token().clone(),
                    Some(verified.subject().clone()),
                )
                .map_err(|e| OidcError::Unavailable {
                    step: "the userinfo endpoint",
                    reason: e.to_string(),
                })?
                .request_async(&self.http)
                .await
                .map_err(|e| OidcError::Unavailable {
                    step: "the userinfo endpoint",
                    reason: e.to_string(),
                })?;
            if let Ok(Value::Object(extra)) = serde_json::to_value(&info) {
                for (name, value) in extra {
                    claims.entry(name).or_insert(value);
                }
            }
        }
        let person = claims::person(&claims, names, &self.settings.roles)?;
        Ok(SignedIn {
            person,
            subject,
            id_token: raw,
        })
    }

    /// Where to send the browser to end the session at the provider too (RP-initiated logout),
    /// coming back to `post_logout_redirect` (registered at the provider). `None` when the
    /// provider offers no `end_session_endpoint`: then only rcn's session ends.
    pub async fn end_session_url(
        &self,
        id_token_hint: Option<&str>,
        post_logout_redirect: &str,
    ) -> Result<Option<Url>, OidcError> {
        let provider = self.provider(false).await?;
        let Some(endpoint) = provider.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let redirect =
            PostLogoutRedirectUrl::new(post_logout_redirect.to_owned()).map_err(|e| {
                OidcError::Unavailable {
                    step: "the post-logout redirect URL",
                    reason: e.to_string(),
                }
            })?;
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.settings.client_id.clone()))
            .set_post_logout_redirect_uri(redirect)
            .add_ui_locale(LanguageTag::new("nl".into()));
        // An unreadable hint is left out: the provider then asks the person to confirm.
        if let Some(hint) = id_token_hint.and_then(|t| t.parse::<CoreIdToken>().ok()) {
            request = request.set_id_token_hint(&hint);
        }
        Ok(Some(request.http_get_url()))
    }

    /// The provider's metadata and keys, from the cache unless `refresh` or stale.
    async fn provider(&self, refresh: bool) -> Result<Arc<ProviderMetadataWithLogout>, OidcError> {
        if !refresh {
            let cached = self.provider.lock().expect("not poisoned").clone();
            if let Some((at, metadata)) = cached
                && at.elapsed() < METADATA_MAX_AGE
            {
                return Ok(metadata);
            }
        }
        let issuer =
            IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| OidcError::Unavailable {
                step: "the issuer URL",
                reason: e.to_string(),
            })?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Unavailable {
                step: "discovery",
                reason: discovery_reason(&e),
            })?;
        let metadata = Arc::new(metadata);
        *self.provider.lock().expect("not poisoned") = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn client(&self, provider: &ProviderMetadataWithLogout) -> Result<Client, OidcError> {
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone()).map_err(|e| {
            OidcError::Unavailable {
                step: "the redirect URL",
                reason: e.to_string(),
            }
        })?;
        Ok(CoreClient::from_provider_metadata(
            provider.clone(),
            ClientId::new(self.settings.client_id.clone()),
            self.settings
                .client_secret
                .as_ref()
                .map(|s| openidconnect::ClientSecret::new(s.expose().to_owned())),
        )
        .set_redirect_uri(redirect))
    }
}

fn token_problem(e: SignatureVerificationError) -> OidcError {
    OidcError::IdToken {
        problem: IdTokenProblem::Signature,
        detail: e.to_string(),
    }
}

/// A discovery error with its cause, which the crate's own message leaves out.
fn discovery_reason<E: std::error::Error>(e: &E) -> String {
    let mut reason = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    reason
}

/// Every claim of an ID token whose signature and claims were verified already: the payload,
/// as JSON, so the configured claim names can be looked up whatever they are.
fn verified_payload(raw: &str) -> Result<Map<String, Value>, OidcError> {
    let payload = raw.split('.').nth(1).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .ok_or(OidcError::IdToken {
            problem: IdTokenProblem::Other,
            detail: "the verified ID token's claims are not a JSON object".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc() -> Oidc {
        // Nothing listens there: every test below must be decided before any request.
        Oidc::new(OidcSettings::new(
            "http://127.0.0.1:9",
            "rcn",
            "http://127.0.0.1:8080/oidc/callback",
        ))
        .unwrap()
    }

    fn pending(started_secs_ago: i64) -> PendingLogin {
        PendingLogin {
            state: "the-state".into(),
            nonce: "the-nonce".into(),
            pkce_verifier: "v".repeat(43),
            started_at: chrono::Utc::now().timestamp() - started_secs_ago,
        }
    }

    fn callback(state: Option<&str>) -> CallbackQuery {
        CallbackQuery {
            code: Some("a-code".into()),
            state: state.map(Into::into),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_callback_for_another_sign_in_is_refused_before_anything_is_asked() {
        let oidc = oidc();
        for state in [
            None,
            Some(""),
            Some("other"),
            Some("the-stat"),
            Some("the-state2"),
        ] {
            let e = oidc
                .finish(&pending(0), &callback(state))
                .await
                .unwrap_err();
            assert_eq!(e, OidcError::StateMismatch, "{state:?}");
            assert!(e.message_nl().contains("hoort niet bij uw aanmelding"));
        }
    }

    #[tokio::test]
    async fn a_sign_in_that_took_too_long_is_refused() {
        let late = pending(LOGIN_TIME_LIMIT.as_secs() as i64 + 1);
        let e = oidc()
            .finish(&late, &callback(Some("the-state")))
            .await
            .unwrap_err();
        assert_eq!(e, OidcError::Expired);
        assert_eq!(e.kind(), "expired");
    }

    #[tokio::test]
    async fn the_providers_error_and_a_foreign_issuer_are_refused() {
        let oidc = oidc();
        let mut q = callback(Some("the-state"));
        q.error = Some("access_denied".into());
        let e = oidc.finish(&pending(0), &q).await.unwrap_err();
        assert_eq!(e.kind(), "provider_refused");
        assert!(e.message_nl().contains("afgebroken"));

        let mut q = callback(Some("the-state"));
        q.iss = Some("https://evil.example".into());
        let e = oidc.finish(&pending(0), &q).await.unwrap_err();
        assert_eq!(e, OidcError::IssuerMismatch);

        let mut q = callback(Some("the-state"));
        q.code = None;
        assert_eq!(
            oidc.finish(&pending(0), &q).await.unwrap_err(),
            OidcError::MissingCode
        );
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_said_in_plain_words() {
        let e = oidc().begin().await.unwrap_err();
        assert_eq!(e.kind(), "unavailable");
        assert!(e.message_nl().contains("niet bereikbaar"));
    }

    #[test]
    fn the_pending_record_round_trips_and_hides_its_secrets() {
        let p = pending(0);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<PendingLogin>(&json).unwrap(), p);
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("the-state") && !shown.contains("vvvv"),
            "{shown}"
        );
        let q = callback(Some("s"));
        assert!(!format!("{q:?}").contains("a-code"));
    }
}
