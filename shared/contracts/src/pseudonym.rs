//! Keys that link notices about the same person without making the BSN a key.
//!
//! A keyed hash (HMAC-SHA256 with the region's secret) turns the BSN into a pseudonym that cannot
//! be reversed without the secret. The *episode key* identifies one detention episode of one
//! person: the BSN plus the date detention started. Every notice of an episode (detention
//! started, updates, release planned or moved, unexpected release, transfer to another
//! institution, cancellation) carries the same `started_on`, so all of them land on one case. A
//! new detention later starts a new episode, and so a new case.

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::value::Bsn;

/// The secret behind the pseudonyms; configuration, never logged.
#[derive(Clone)]
pub struct PseudonymKey(Vec<u8>);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

impl PseudonymKey {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    fn digest(&self, parts: &[&str]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\x1f");
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The pseudonym of a person: the same for every notice about them, in this region.
    pub fn person_key(&self, bsn: &Bsn) -> String {
        self.digest(&["person", bsn.expose()])
    }

    /// The pseudonym of one detention episode of one person.
    pub fn episode_key(&self, bsn: &Bsn, started_on: NaiveDate) -> String {
        self.digest(&["episode", bsn.expose(), &started_on.to_string()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_distinct_and_do_not_contain_the_bsn() {
        let key = PseudonymKey::new("secret");
        let bsn = Bsn::parse("123456782").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let e = key.episode_key(&bsn, day);
        assert_eq!(e, key.episode_key(&bsn, day));
        assert_eq!(e.len(), 32);
        assert!(!e.contains("123456782"));
        assert_ne!(e, key.episode_key(&bsn, day.succ_opt().unwrap()));
        assert_ne!(e, PseudonymKey::new("other").episode_key(&bsn, day));
        assert_ne!(key.person_key(&bsn), e);
    }
}
