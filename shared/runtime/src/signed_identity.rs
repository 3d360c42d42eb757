//! The caller's identity, signed by the gateway so nothing in transit can forge or move it.
//!
//! The gateway authenticates a person or partner and passes who they are in the `Rcn-Identity`
//! header. Any NATS user that may publish on a service's subject could write that header too, so
//! the gateway signs it (Ed25519, only the gateway holds the signing key; services hold the public
//! key) in `Rcn-Identity-Signature`:
//!
//! ```text
//! Rcn-Identity-Signature: v1.<issued at, unix ms>.<expires at, unix ms>.<nonce, 32 hex>.<signature, 128 hex>
//! ```
//!
//! The signature covers the identity header value, the NATS subject, the SHA-256 of the body,
//! both times and the nonce, so a signed identity cannot be moved to another subject or another
//! body, used after it expired ([`LIFETIME`]), or replayed within its lifetime to the same process
//! (each verifier remembers the nonces it accepted until they expire).
//!
//! This module must never accept an identity whose signature it did not check, and never put a key
//! in a `Debug` output or an error.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::headers;

/// How long a signed identity stays valid: long enough for a request to reach its service on a
/// busy system, short enough that a captured one is soon worthless.
pub const LIFETIME: Duration = Duration::from_secs(30);
/// The longest lifetime a verifier accepts, whatever the signer chose.
pub const MAX_LIFETIME: Duration = Duration::from_secs(120);
/// How far the signer's clock may run ahead of the verifier's.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5);
/// Nonces a verifier remembers at most; beyond it requests are refused until old ones expire.
const MAX_REMEMBERED: usize = 1_000_000;
/// The format version, first in the header and in the signed bytes.
const VERSION: &str = "v1";

/// Why a request's identity was not accepted: each says in plain words what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityRefused {
    #[error("the caller's identity is not signed by the gateway (Rcn-Identity-Signature missing)")]
    Unsigned,
    #[error(
        "the identity signature (Rcn-Identity-Signature) is not in the format v1.<issued>.<expires>.<nonce>.<signature>"
    )]
    Malformed,
    #[error(
        "the signed identity has expired; the gateway signs each request anew, so send it again"
    )]
    Expired,
    #[error("the signed identity is not valid yet or claims too long a lifetime")]
    BadLifetime,
    #[error(
        "the identity signature does not match this request: another subject, another body, or not signed with the gateway's key"
    )]
    BadSignature,
    #[error("this signed identity was used before; a signed identity is good for one request")]
    Replayed,
    #[error("too many signed requests at once; try again shortly")]
    Busy,
}

/// The gateway's key: signs the identities it passes on. Only the gateway holds it.
#[derive(Clone)]
pub struct IdentitySigner {
    key: SigningKey,
}

impl std::fmt::Debug for IdentitySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdentitySigner(public {})", self.public_key_hex())
    }
}

impl IdentitySigner {
    /// A new random key (the launcher's development key, tests).
    pub fn generate() -> Self {
        let mut seed = [0_u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The key from its 32-byte seed written as 64 hex digits (what [`Self::seed_hex`] gives).
    pub fn from_seed_hex(hex_seed: &str) -> Result<Self, String> {
        let seed = hex32(hex_seed).ok_or_else(|| {
            "an identity signing key is 64 hexadecimal digits (`rcn keys` makes one)".to_owned()
        })?;
        Ok(Self {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The seed as 64 hex digits, to store in a file of mode 0600.
    pub fn seed_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// The public key as 64 hex digits: what services are configured with.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// A verifier for this key's signatures.
    pub fn verifier(&self) -> IdentityVerifier {
        IdentityVerifier::new(self.key.verifying_key())
    }

    /// The headers that carry `identity` (the `Rcn-Identity` value) on a request to `subject`
    /// with `body`, signed for [`LIFETIME`]. The one way rcn signs an identity.
    pub fn sign(&self, identity: &str, subject: &str, body: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        self.sign_into(&mut h, identity, subject, body);
        h
    }

    /// As [`Self::sign`], into headers that carry more (a trace id).
    pub fn sign_into(&self, h: &mut HeaderMap, identity: &str, subject: &str, body: &[u8]) {
        let now = now_ms();
        let mut nonce = [0_u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let signature =
            self.signature_value(identity, subject, body, now, now + ms(LIFETIME), nonce);
        h.insert(headers::IDENTITY, identity);
        h.insert(headers::IDENTITY_SIGNATURE, signature.as_str());
    }

    /// The `Rcn-Identity-Signature` value for the given times and nonce. Public so tests can
    /// make signatures that are expired or not yet valid; production signs through [`Self::sign`].
    pub fn signature_value(
        &self,
        identity: &str,
        subject: &str,
        body: &[u8],
        issued_ms: u64,
        expires_ms: u64,
        nonce: [u8; 16],
    ) -> String {
        let signed = signed_bytes(identity, subject, body, issued_ms, expires_ms, &nonce);
        let signature = self.key.sign(&signed);
        format!(
            "{VERSION}.{issued_ms}.{expires_ms}.{}.{}",
            hex::encode(nonce),
            hex::encode(signature.to_bytes())
        )
    }
}

/// What a service checks signed identities with: the gateway's public key and the nonces it has
/// accepted. Clones share the memory of nonces.
#[derive(Clone)]
pub struct IdentityVerifier {
    key: VerifyingKey,
    seen: Arc<Mutex<Seen>>,
}

impl std::fmt::Debug for IdentityVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdentityVerifier({})", hex::encode(self.key.to_bytes()))
    }
}

impl PartialEq for IdentityVerifier {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl IdentityVerifier {
    fn new(key: VerifyingKey) -> Self {
        Self {
            key,
            seen: Arc::new(Mutex::new(Seen::default())),
        }
    }

    /// The verifier for the public key written as 64 hex digits.
    pub fn from_public_hex(public: &str) -> Result<Self, String> {
        let bytes = hex32(public).ok_or_else(|| {
            "an identity public key is 64 hexadecimal digits (`rcn keys` prints it)".to_owned()
        })?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| "the identity public key is not a valid Ed25519 key".to_owned())?;
        Ok(Self::new(key))
    }

    /// The public key as 64 hex digits.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// The request's `Rcn-Identity` value once its signature is checked: `None` when the request
    /// carries no identity (a service calling, or a partner on its own NATS account), an error
    /// when it carries one that is unsigned, expired, replayed or signed for another request.
    pub fn verify<'h>(
        &self,
        subject: &str,
        h: Option<&'h HeaderMap>,
        body: &[u8],
    ) -> Result<Option<&'h str>, IdentityRefused> {
        let Some(identity) = h.and_then(|h| h.get(headers::IDENTITY)) else {
            return Ok(None);
        };
        let identity = identity.as_str();
        let value = h
            .and_then(|h| h.get(headers::IDENTITY_SIGNATURE))
            .ok_or(IdentityRefused::Unsigned)?;
        let parsed = Parsed::parse(value.as_str()).ok_or(IdentityRefused::Malformed)?;
        let signed = signed_bytes(
            identity,
            subject,
            body,
            parsed.issued_ms,
            parsed.expires_ms,
            &parsed.nonce,
        );
        self.key
            .verify_strict(&signed, &parsed.signature)
            .map_err(|_| IdentityRefused::BadSignature)?;
        let now = now_ms();
        if parsed.expires_ms < now {
            return Err(IdentityRefused::Expired);
        }
        if parsed.issued_ms > now + ms(CLOCK_SKEW)
            || parsed.expires_ms <= parsed.issued_ms
            || parsed.expires_ms - parsed.issued_ms > ms(MAX_LIFETIME)
        {
            return Err(IdentityRefused::BadLifetime);
        }
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .admit(parsed.nonce, parsed.expires_ms, now)?;
        Ok(Some(identity))
    }
}

/// The nonces accepted and not yet expired.
#[derive(Default)]
struct Seen {
    nonces: HashMap<[u8; 16], u64>,
    /// When the map is pruned of expired nonces next (by size, so pruning stays amortised).
    prune_at: usize,
}

impl Seen {
    fn admit(&mut self, nonce: [u8; 16], expires_ms: u64, now: u64) -> Result<(), IdentityRefused> {
        if self.nonces.len() >= self.prune_at {
            self.nonces.retain(|_, expires| *expires >= now);
            self.prune_at = (self.nonces.len() * 2).max(1024);
        }
        if self.nonces.len() >= MAX_REMEMBERED {
            return Err(IdentityRefused::Busy);
        }
        match self.nonces.insert(nonce, expires_ms) {
            Some(_) => Err(IdentityRefused::Replayed),
            None => Ok(()),
        }
    }
}

struct Parsed {
    issued_ms: u64,
    expires_ms: u64,
    nonce: [u8; 16],
    signature: Signature,
}

impl Parsed {
    fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        if parts.next()? != VERSION {
            return None;
        }
        let issued_ms = parts.next()?.parse().ok()?;
        let expires_ms = parts.next()?.parse().ok()?;
        let nonce = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        let signature: [u8; 64] = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            issued_ms,
            expires_ms,
            nonce,
            signature: Signature::from_bytes(&signature),
        })
    }
}

/// What is signed: every field length-prefixed, so no two different requests sign the same bytes.
fn signed_bytes(
    identity: &str,
    subject: &str,
    body: &[u8],
    issued_ms: u64,
    expires_ms: u64,
    nonce: &[u8; 16],
) -> Vec<u8> {
    let digest = Sha256::digest(body);
    let mut out = Vec::with_capacity(128 + identity.len() + subject.len());
    for field in [
        b"rcn-identity".as_slice(),
        VERSION.as_bytes(),
        identity.as_bytes(),
        subject.as_bytes(),
        digest.as_slice(),
        &issued_ms.to_be_bytes(),
        &expires_ms.to_be_bytes(),
        nonce,
    ] {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s.trim()).ok()?.try_into().ok()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// The milliseconds since the Unix epoch now, for tests that sign with chosen times.
pub fn unix_ms_now() -> u64 {
    now_ms()
}

/// Reads a key kept in a file (surrounding white space ignored), naming the file when it cannot.
pub fn read_key_file(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHO: &str = r#"{"user_id":"anna","role":"rcn_coordinator"}"#;
    const SUBJECT: &str = "rcn.t.api.router.queue.list";

    fn signed(signer: &IdentitySigner, issued: u64, expires: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(headers::IDENTITY, WHO);
        let value = signer.signature_value(WHO, SUBJECT, b"{}", issued, expires, [7; 16]);
        h.insert(headers::IDENTITY_SIGNATURE, value.as_str());
        h
    }

    #[test]
    fn a_signed_identity_is_accepted_once() {
        let signer = IdentitySigner::generate();
        let verifier = signer.verifier();
        let h = signer.sign(WHO, SUBJECT, b"{}");
        assert_eq!(verifier.verify(SUBJECT, Some(&h), b"{}"), Ok(Some(WHO)));
        assert_eq!(
            verifier.verify(SUBJECT, Some(&h), b"{}"),
            Err(IdentityRefused::Replayed)
        );
        assert_eq!(verifier.verify(SUBJECT, None, b"{}"), Ok(None));
    }

    #[test]
    fn anything_else_is_refused() {
        let signer = IdentitySigner::generate();
        let verifier = signer.verifier();
        let h = signer.sign(WHO, SUBJECT, b"{}");
        let check = |subject: &str, h: &HeaderMap, body: &[u8]| {
            verifier.clone().verify(subject, Some(h), body).map(|_| ())
        };
        assert_eq!(
            check("rcn.t.api.casework.close_case", &h, b"{}"),
            Err(IdentityRefused::BadSignature)
        );
        assert_eq!(
            check(SUBJECT, &h, b"{\"x\":1}"),
            Err(IdentityRefused::BadSignature)
        );
        let other = IdentitySigner::generate().sign(WHO, SUBJECT, b"{}");
        assert_eq!(
            check(SUBJECT, &other, b"{}"),
            Err(IdentityRefused::BadSignature)
        );
        let mut unsigned = HeaderMap::new();
        unsigned.insert(headers::IDENTITY, WHO);
        assert_eq!(
            check(SUBJECT, &unsigned, b"{}"),
            Err(IdentityRefused::Unsigned)
        );
        let mut garbled = unsigned.clone();
        garbled.insert(headers::IDENTITY_SIGNATURE, "v1.1.2.zz.yy");
        assert_eq!(
            check(SUBJECT, &garbled, b"{}"),
            Err(IdentityRefused::Malformed)
        );
        // Another identity under the signature of the first.
        let mut swapped = h.clone();
        swapped.insert(
            headers::IDENTITY,
            r#"{"user_id":"mallory","role":"rcn_coordinator"}"#,
        );
        assert_eq!(
            check(SUBJECT, &swapped, b"{}"),
            Err(IdentityRefused::BadSignature)
        );
        let now = unix_ms_now();
        assert_eq!(
            check(SUBJECT, &signed(&signer, now - 60_000, now - 30_000), b"{}"),
            Err(IdentityRefused::Expired)
        );
        assert_eq!(
            check(SUBJECT, &signed(&signer, now, now + 3_600_000), b"{}"),
            Err(IdentityRefused::BadLifetime)
        );
        assert_eq!(
            check(SUBJECT, &signed(&signer, now + 60_000, now + 70_000), b"{}"),
            Err(IdentityRefused::BadLifetime)
        );
    }

    #[test]
    fn keys_round_trip_as_hex_and_never_show_the_secret() {
        let signer = IdentitySigner::generate();
        let again = IdentitySigner::from_seed_hex(&signer.seed_hex()).unwrap();
        assert_eq!(again.public_key_hex(), signer.public_key_hex());
        let verifier = IdentityVerifier::from_public_hex(&signer.public_key_hex()).unwrap();
        assert_eq!(verifier, signer.verifier());
        assert!(!format!("{signer:?}").contains(&signer.seed_hex()));
        assert!(IdentitySigner::from_seed_hex("abc").is_err());
        assert!(IdentityVerifier::from_public_hex("zz").is_err());
    }
}
