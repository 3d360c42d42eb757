//! Value types that are valid by construction: a `Bsn` always passes the 11-proef, a
//! `Gemeentecode` is always `GM` + four digits, a `Postcode` is always a normalised Dutch postcode.
//!
//! They parse from strings (and deserialize through the same parser), so invalid input is refused
//! at the edge with a message a person can act on. A `Bsn` never prints itself in full through
//! `Debug` or `Display`: logs and error messages see the masked form only.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// A string type's JSON Schema: its pattern and what it means, for the published contract.
macro_rules! string_schema {
    ($ty:ident, $pattern:literal, $description:literal) => {
        impl JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "string", "pattern": $pattern, "description": $description})
            }
        }
    };
}

string_schema!(
    Bsn,
    "^[0-9]{9}$",
    "Burgerservicenummer: 9 digits passing the 11-proef"
);
string_schema!(
    Gemeentecode,
    "^GM[0-9]{4}$",
    "Gemeentecode (CBS municipality code): GM followed by 4 digits"
);
string_schema!(
    Postcode,
    "^[1-9][0-9]{3} ?[A-Za-z]{2}$",
    "Dutch postcode: 4 digits and 2 letters, e.g. 2011AB (one space allowed)"
);

/// Why a value was refused; the message is meant for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn invalid(msg: impl Into<String>) -> InvalidValue {
    InvalidValue(msg.into())
}

/// Burgerservicenummer: the Dutch citizen service number. Nine digits passing the 11-proef.
///
/// Personal data of a special kind here: never a key, never in a URL, subject, log line or metric.
/// `Debug` and `Display` show the masked form (`*****6782`); only `Serialize` and [`Bsn::expose`]
/// give the full number, for the places that need it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bsn(String);

impl Bsn {
    /// Parses a BSN: exactly nine digits, not all zeros, weighted sum (9..2, -1) divisible by 11.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.len() != 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("a BSN has exactly 9 digits"));
        }
        let digits: Vec<i32> = s.bytes().map(|b| i32::from(b - b'0')).collect();
        if digits.iter().all(|d| *d == 0) {
            return Err(invalid("a BSN cannot be all zeros"));
        }
        let sum: i32 = digits
            .iter()
            .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
            .map(|(d, w)| d * w)
            .sum();
        if sum % 11 != 0 {
            return Err(invalid("this is not a valid BSN (it fails the 11-proef)"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The full number, for the few places that must carry it (the wire, an authorised screen).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The masked form shown to anyone who does not need the number: `*****6782`.
    pub fn masked(&self) -> String {
        format!("*****{}", &self.0[5..])
    }
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bsn({})", self.masked())
    }
}

impl fmt::Display for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl TryFrom<String> for Bsn {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Bsn> for String {
    fn from(b: Bsn) -> Self {
        b.0
    }
}

/// Gemeentecode: the CBS code of a Dutch municipality, `GM` followed by four digits (`GM0392`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gemeentecode(String);

impl Gemeentecode {
    /// Parses `GM0392`; lower-case `gm0392` is accepted and normalised.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let up = s.trim().to_ascii_uppercase();
        let ok =
            up.len() == 6 && up.starts_with("GM") && up[2..].bytes().all(|b| b.is_ascii_digit());
        if !ok {
            return Err(invalid(
                "a gemeentecode is GM followed by four digits, like GM0392",
            ));
        }
        Ok(Self(up))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Gemeentecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Gemeentecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Gemeentecode {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Gemeentecode> for String {
    fn from(g: Gemeentecode) -> Self {
        g.0
    }
}

impl std::str::FromStr for Gemeentecode {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A Dutch postcode, normalised to `2011AB`: four digits (not starting with 0) and two letters
/// (not SA, SD or SS, which PostNL never issues). `2011 ab` is accepted and normalised.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let up = compact.to_ascii_uppercase();
        let b = up.as_bytes();
        let ok = b.len() == 6
            && (b'1'..=b'9').contains(&b[0])
            && b[1..4].iter().all(u8::is_ascii_digit)
            && b[4..].iter().all(u8::is_ascii_uppercase)
            && !matches!(&up[4..], "SA" | "SD" | "SS");
        if !ok || s.trim().len() > 7 {
            return Err(invalid(
                "a postcode is four digits and two letters, like 2011 AB",
            ));
        }
        Ok(Self(up))
    }

    /// The four-digit area (PC4) used by the region table as a fallback for routing.
    pub fn pc4(&self) -> u16 {
        self.0[..4].parse().unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Postcode {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Postcode> for String {
    fn from(p: Postcode) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsn_accepts_the_domain_vectors() {
        for ok in ["111222333", "123456782", "999999990", "012345672"] {
            assert!(Bsn::parse(ok).is_ok(), "{ok} should pass the 11-proef");
        }
    }

    #[test]
    fn bsn_rejects_failing_vectors_with_a_reason() {
        assert_eq!(
            Bsn::parse("111222334").unwrap_err().0,
            "this is not a valid BSN (it fails the 11-proef)"
        );
        assert_eq!(
            Bsn::parse("000000000").unwrap_err().0,
            "a BSN cannot be all zeros"
        );
        for bad in ["12345678", "1234567890", "12345678a", "", " 123456782"] {
            assert!(Bsn::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn bsn_never_prints_in_full() {
        let bsn = Bsn::parse("123456782").unwrap();
        assert_eq!(bsn.to_string(), "*****6782");
        assert_eq!(format!("{bsn:?}"), "Bsn(*****6782)");
        assert_eq!(bsn.expose(), "123456782");
        assert_eq!(serde_json::to_string(&bsn).unwrap(), "\"123456782\"");
    }

    #[test]
    fn bsn_deserialization_runs_the_11_proef() {
        assert!(serde_json::from_str::<Bsn>("\"111222334\"").is_err());
        assert!(serde_json::from_str::<Bsn>("\"111222333\"").is_ok());
    }

    #[test]
    fn gemeentecode_is_normalised_and_checked() {
        assert_eq!(Gemeentecode::parse("gm0392").unwrap().as_str(), "GM0392");
        for bad in ["0392", "GM392", "GM03920", "XX0392", "GM03a2", ""] {
            assert!(Gemeentecode::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn postcode_is_normalised_and_checked() {
        let p = Postcode::parse("2011 ab").unwrap();
        assert_eq!(p.as_str(), "2011AB");
        assert_eq!(p.pc4(), 2011);
        assert_eq!(Postcode::parse("1911XX").unwrap().pc4(), 1911);
        for bad in [
            "0123AB", "2011", "2011A", "2011SS", "2011SA", "2011SD", "20111AB", "AB2011",
            "2011 A B",
        ] {
            assert!(Postcode::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
