//! Rule 2: asks an address register (Haal Centraal BAG-style, over HTTP) in which municipality
//! the last address lies.
//!
//! The request is `GET {RCN_ADDRESS_REGISTER_URL}/adressen?postcode=2011AB&huisnummer=12`, plus
//! `huisletter` and `huisnummertoevoeging` when the notice has them, with `Accept:
//! application/hal+json` and `X-Api-Key` when configured. The answer this client reads:
//!
//! ```json
//! {"_embedded": {"adressen": [{"gemeenteIdentificatie": "0392", "...": "..."}]}}
//! ```
//!
//! `gemeenteIdentificatie` is the CBS code without `GM` (`"0392"` → `GM0392`; `"GM0392"` is read
//! too). No addresses (or HTTP 404) means the register does not know the address; addresses in
//! more than one municipality make the answer ambiguous. Every other field is ignored.
//!
//! Each request has a timeout; a timeout, a connection failure, HTTP 429 or 5xx is retried with
//! exponential back-off; after that the look-up has failed. A circuit breaker skips the register
//! after several failed look-ups in a row, so a register that is down does not cost each notice
//! a timeout. In all those cases the answer is [`AddressLookupResult::Unavailable`] with why, and
//! the router falls back to the PC4 table.
//!
//! It must never send the BSN or a name (only postcode and house number leave the process), and
//! never log the address: log lines name the status and the failure, and the caller logs the
//! notice key.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rcn_contracts::notice::Address;
use rcn_contracts::value::Gemeentecode;
use rcn_runtime::backoff::OUTSIDE_REGISTER;
use rcn_runtime::config::Secret;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::breaker::{CircuitBreaker, Permit};
use crate::rules::AddressLookupResult;
use crate::settings::AddressRegisterSettings;

/// A larger answer is not an answer to one address.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// A client of one address register, shared by all of the router's workers.
#[derive(Debug)]
pub struct AddressRegister {
    client: reqwest::Client,
    /// `{base}/adressen`.
    adressen_url: String,
    api_key: Option<Secret>,
    timeout: Duration,
    retries: u32,
    breaker: CircuitBreaker,
}

/// The register's answer about one address, and how many requests it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub result: AddressLookupResult,
    /// 0 when the register was not asked (not configured, or skipped by the circuit breaker).
    pub attempts: u32,
}

/// Why the register client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the address register client: {0}")]
pub struct SetupError(#[source] reqwest::Error);

impl AddressRegister {
    /// The register configured by `RCN_ADDRESS_REGISTER_*`, or `None` when no URL is set.
    pub fn from_settings(
        settings: Option<&AddressRegisterSettings>,
    ) -> Result<Option<Self>, SetupError> {
        let Some(settings) = settings else {
            return Ok(None);
        };
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("rcn-router/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SetupError)?;
        Ok(Some(Self {
            client,
            adressen_url: format!("{}/adressen", settings.url.trim_end_matches('/')),
            api_key: settings.api_key.clone(),
            timeout: settings.timeout,
            retries: settings.retries,
            breaker: CircuitBreaker::new(settings.breaker_failures, settings.breaker_cooldown),
        }))
    }

    /// Looks `address` up, with retries; never fails: a register that cannot answer is an
    /// [`AddressLookupResult::Unavailable`] saying why.
    pub async fn look_up(&self, address: &Address) -> Lookup {
        if let Permit::Refused { until } = self.breaker.permit(Instant::now()) {
            let secs = until
                .saturating_duration_since(Instant::now())
                .as_secs()
                .max(1);
            let why = format!("skipped: it failed repeatedly, it is tried again in about {secs}s");
            return Lookup {
                result: AddressLookupResult::Unavailable { why },
                attempts: 0,
            };
        }
        let mut attempts = 0;
        // The pauses between retries: the one back-off policy, 100 ms doubling.
        let mut pauses = OUTSIDE_REGISTER.retries(self.retries as usize).delays();
        let why = loop {
            attempts += 1;
            match self.ask(address).await {
                Attempt::Answered(result) => {
                    self.breaker.succeeded();
                    return Lookup { result, attempts };
                }
                Attempt::Refused(why) => {
                    // The register works; it did not like this address. Not a reason to skip it.
                    self.breaker.succeeded();
                    return Lookup {
                        result: AddressLookupResult::Unavailable { why },
                        attempts,
                    };
                }
                Attempt::Failed(why) => {
                    tracing::debug!(attempt = attempts, why = %why, "address register request failed");
                    match pauses.next() {
                        Some(pause) => tokio::time::sleep(pause).await,
                        None => break why,
                    }
                }
                Attempt::Broken(why) => break why,
            }
        };
        if self.breaker.failed(Instant::now()) {
            tracing::warn!(cooldown = ?self.breaker.cooldown(), why = %why,
                "address register keeps failing; skipping it for a while");
        } else {
            tracing::warn!(attempts, why = %why, "address register could not be asked; the PC4 table decides");
        }
        let tries = if attempts == 1 {
            "1 attempt".to_owned()
        } else {
            format!("{attempts} attempts")
        };
        Lookup {
            result: AddressLookupResult::Unavailable {
                why: format!("{why}; {tries}"),
            },
            attempts,
        }
    }

    async fn ask(&self, address: &Address) -> Attempt {
        let mut query: Vec<(&str, String)> = vec![
            ("postcode", address.postcode.as_str().to_owned()),
            ("huisnummer", address.house_number.to_string()),
        ];
        if let Some(letter) = address
            .house_letter
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            query.push(("huisletter", letter.trim().to_owned()));
        }
        if let Some(addition) = address.addition.as_deref().filter(|s| !s.trim().is_empty()) {
            query.push(("huisnummertoevoeging", addition.trim().to_owned()));
        }
        let mut request = self.client.get(&self.adressen_url).query(&query).header(
            reqwest::header::ACCEPT,
            "application/hal+json, application/json",
        );
        if let Some(key) = &self.api_key {
            request = request.header("X-Api-Key", key.expose());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Failed(self.describe(e)),
        };
        let status = response.status();
        match status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Attempt::Answered(AddressLookupResult::NotFound),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                return Attempt::Refused(format!(
                    "it refused the address as a query (HTTP {})",
                    status.as_u16()
                ));
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Attempt::Broken(format!(
                    "it refused access (HTTP {}); check RCN_ADDRESS_REGISTER_API_KEY",
                    status.as_u16()
                ));
            }
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                return Attempt::Failed(format!("it answered HTTP {}", s.as_u16()));
            }
            s => return Attempt::Broken(format!("it answered HTTP {}", s.as_u16())),
        }
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Attempt::Failed(self.describe(e)),
        };
        if body.len() > MAX_ANSWER_BYTES {
            return Attempt::Broken(format!(
                "its answer is larger than {MAX_ANSWER_BYTES} bytes"
            ));
        }
        match read_answer(&body) {
            Ok(result) => Attempt::Answered(result),
            Err(why) => Attempt::Broken(why),
        }
    }

    /// Why a request failed, in words; without the URL, which holds the address.
    fn describe(&self, e: reqwest::Error) -> String {
        let why = if e.is_timeout() {
            format!("no answer within {} ms", self.timeout.as_millis())
        } else if e.is_connect() {
            "it cannot be reached".to_owned()
        } else {
            "the request failed".to_owned()
        };
        tracing::debug!(error = %e.without_url(), "address register request error");
        why
    }
}

impl Lookup {
    /// The look-up as it is recorded in a decision's `inputs`.
    pub fn to_input(&self) -> serde_json::Value {
        let mut v = match &self.result {
            AddressLookupResult::Found { gemeentecode } => {
                serde_json::json!({"result": "found", "gemeentecode": gemeentecode})
            }
            AddressLookupResult::NotFound => serde_json::json!({"result": "not_found"}),
            AddressLookupResult::Ambiguous { candidates } => {
                serde_json::json!({"result": "ambiguous", "candidates": candidates})
            }
            AddressLookupResult::Unavailable { why } => {
                serde_json::json!({"result": "unavailable", "why": why})
            }
            AddressLookupResult::NotConfigured => serde_json::json!({"result": "not_configured"}),
        };
        v["attempts"] = self.attempts.into();
        v
    }

    /// The answer when no register is configured.
    pub fn not_configured() -> Self {
        Self {
            result: AddressLookupResult::NotConfigured,
            attempts: 0,
        }
    }
}

/// What one request came to.
enum Attempt {
    /// The register answered about the address.
    Answered(AddressLookupResult),
    /// The register works but would not answer this query: not retried, not held against it.
    Refused(String),
    /// May work on a retry (timeout, connection, 429, 5xx).
    Failed(String),
    /// Will not work on a retry (access refused, an answer of another shape): counts as failure.
    Broken(String),
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "_embedded", default)]
    embedded: Option<Embedded>,
}

#[derive(Deserialize)]
struct Embedded {
    #[serde(default)]
    adressen: Vec<Adres>,
}

#[derive(Deserialize)]
struct Adres {
    #[serde(rename = "gemeenteIdentificatie", default)]
    gemeente_identificatie: Option<String>,
}

/// Reads the register's JSON answer.
fn read_answer(body: &[u8]) -> Result<AddressLookupResult, String> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|_| "its answer is not the expected JSON (_embedded.adressen)".to_owned())?;
    let adressen = answer.embedded.map(|e| e.adressen).unwrap_or_default();
    if adressen.is_empty() {
        return Ok(AddressLookupResult::NotFound);
    }
    let mut codes = BTreeSet::new();
    for adres in &adressen {
        let code = adres
            .gemeente_identificatie
            .as_deref()
            .and_then(gemeentecode);
        match code {
            Some(code) => codes.insert(code),
            None => {
                return Err(
                    "its answer holds an address without a valid gemeenteIdentificatie".to_owned(),
                );
            }
        };
    }
    let mut codes: Vec<Gemeentecode> = codes.into_iter().collect();
    Ok(match codes.len() {
        1 => AddressLookupResult::Found {
            gemeentecode: codes.remove(0),
        },
        _ => AddressLookupResult::Ambiguous { candidates: codes },
    })
}

/// `"0392"` (BAG's gemeenteIdentificatie) or `"GM0392"` → `GM0392`.
fn gemeentecode(s: &str) -> Option<Gemeentecode> {
    let s = s.trim();
    let digits = s
        .strip_prefix("GM")
        .or_else(|| s.strip_prefix("gm"))
        .unwrap_or(s);
    if digits.len() != 4 {
        return None;
    }
    Gemeentecode::parse(&format!("GM{digits}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gm(s: &str) -> Gemeentecode {
        Gemeentecode::parse(s).expect("valid")
    }

    #[test]
    fn an_answer_with_one_municipality_is_found() {
        let body = br#"{"_embedded":{"adressen":[
            {"gemeenteIdentificatie":"0392","postcode":"2011AB","huisnummer":12},
            {"gemeenteIdentificatie":"GM0392","huisletter":"A"}]},"_links":{}}"#;
        assert_eq!(
            read_answer(body),
            Ok(AddressLookupResult::Found {
                gemeentecode: gm("GM0392")
            })
        );
    }

    #[test]
    fn no_addresses_means_not_found_and_several_municipalities_ambiguous() {
        assert_eq!(
            read_answer(br#"{"_embedded":{"adressen":[]}}"#),
            Ok(AddressLookupResult::NotFound)
        );
        assert_eq!(
            read_answer(br#"{"_links":{"self":{"href":"x"}}}"#),
            Ok(AddressLookupResult::NotFound)
        );
        let body = br#"{"_embedded":{"adressen":[{"gemeenteIdentificatie":"0394"},{"gemeenteIdentificatie":"0392"}]}}"#;
        assert_eq!(
            read_answer(body),
            Ok(AddressLookupResult::Ambiguous {
                candidates: vec![gm("GM0392"), gm("GM0394")]
            })
        );
    }

    #[test]
    fn an_answer_of_another_shape_is_refused_in_words() {
        assert!(
            read_answer(b"<html>")
                .unwrap_err()
                .contains("not the expected JSON")
        );
        let e = read_answer(br#"{"_embedded":{"adressen":[{"gemeenteIdentificatie":"392"}]}}"#)
            .unwrap_err();
        assert!(e.contains("gemeenteIdentificatie"), "{e}");
    }

    #[test]
    fn a_lookup_is_recorded_without_the_address() {
        let l = Lookup {
            result: AddressLookupResult::Found {
                gemeentecode: gm("GM0392"),
            },
            attempts: 2,
        };
        assert_eq!(
            l.to_input(),
            serde_json::json!({"result": "found", "gemeentecode": "GM0392", "attempts": 2})
        );
        assert_eq!(
            Lookup::not_configured().to_input()["result"],
            "not_configured"
        );
    }
}
