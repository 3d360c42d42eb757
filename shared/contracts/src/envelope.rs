//! The one reply envelope of rcn's request-reply endpoints (`rcn_runtime::endpoint`): either
//! `{"ok": <the endpoint's reply>}` or `{"problem": {…}}`, the problem in the vocabulary of the
//! gateway's HTTP `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`,
//! `invalidParams`. A caller branches on the key, and on `status` the way it would on an HTTP
//! status; the gateway can pass a problem on unchanged.
//!
//! A problem names what went wrong in words for a person, never an internal error text, and
//! never a value from the request (it may be personal data): an invalid field is named by its
//! JSON path.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::notice::Problem;

/// The reply to every request on an rcn endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiReply<T> {
    /// The endpoint did what was asked; its own reply.
    Ok(T),
    /// The request was not carried out, and why.
    Problem(ApiProblem),
}

impl<T> ApiReply<T> {
    pub fn into_result(self) -> Result<T, ApiProblem> {
        match self {
            ApiReply::Ok(v) => Ok(v),
            ApiReply::Problem(p) => Err(p),
        }
    }
}

impl<T> From<Result<T, ApiProblem>> for ApiReply<T> {
    fn from(r: Result<T, ApiProblem>) -> Self {
        match r {
            Ok(v) => ApiReply::Ok(v),
            Err(p) => ApiReply::Problem(p),
        }
    }
}

/// What went wrong, as the gateway's problem+json says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiProblem {
    /// A URN naming the kind of problem, e.g. `urn:rcn:problem:invalid-request`: stable, to
    /// branch on.
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind in a few words, the same for every problem of that kind.
    pub title: String,
    /// The HTTP status the gateway answers with for this problem.
    pub status: u16,
    /// What went wrong this time, in words a person can act on.
    pub detail: String,
    /// For an invalid request: every problem, `name` being its JSON path (`decision.gemeentecode`;
    /// empty for the body as a whole).
    #[serde(
        rename = "invalidParams",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub invalid_params: Vec<InvalidParam>,
    /// Members a problem type adds (RFC 9457, section 3.2), e.g. `heldBy` on casework's
    /// `urn:rcn:problem:claimed-by-other`. Each type documents its own; none carries personal data.
    /// (Boxed: most problems have none, and a problem is the error side of many a `Result`.)
    #[serde(flatten, default)]
    pub extensions: Box<BTreeMap<String, serde_json::Value>>,
}

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InvalidParam {
    /// The JSON path, e.g. `person.address.postcode`; empty for the whole body.
    pub name: String,
    /// What is wrong there.
    pub reason: String,
}

impl From<Problem> for InvalidParam {
    fn from(p: Problem) -> Self {
        Self {
            name: p.path,
            reason: p.message,
        }
    }
}

impl ApiProblem {
    /// A problem of type `urn:rcn:problem:<kind>`. A service that defines its own kinds (casework's
    /// `claimed-by-other`) gives each one title and one status, like the constructors below.
    pub fn new(kind: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:rcn:problem:{kind}"),
            title: title.into(),
            status,
            detail: detail.into(),
            invalid_params: Vec::new(),
            extensions: Box::default(),
        }
    }

    /// Adds the extension member `name` (see [`ApiProblem::extensions`]).
    pub fn with_extension(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions.insert(name.to_owned(), value.into());
        self
    }

    /// The extension member `name` when it is a string.
    pub fn extension_str(&self, name: &str) -> Option<&str> {
        self.extensions
            .get(name)
            .and_then(serde_json::Value::as_str)
    }

    /// 400: the request is wrong; every problem found, by JSON path.
    pub fn invalid(problems: Vec<Problem>) -> Self {
        let detail = match problems.as_slice() {
            [one] if one.path.is_empty() => one.message.clone(),
            [one] => format!("{}: {}", one.path, one.message),
            _ => format!("the request has {} problems", problems.len()),
        };
        Self {
            invalid_params: problems.into_iter().map(InvalidParam::from).collect(),
            ..Self::new("invalid-request", "Invalid request", 400, detail)
        }
    }

    /// 401: the request does not say who is asking, or not readably.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new("unauthenticated", "Unauthenticated", 401, detail)
    }

    /// 403: the caller may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new("forbidden", "Forbidden", 403, detail)
    }

    /// 404: what the request names does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new("not-found", "Not found", 404, detail)
    }

    /// 409: the request cannot be carried out in the current state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new("conflict", "Conflict", 409, detail)
    }

    /// 500: something unexpected went wrong; it has been logged (never its text here).
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new("internal", "Internal error", 500, detail)
    }

    /// 503: the service cannot answer now; nothing was changed, ask again later.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new("unavailable", "Service unavailable", 503, detail)
    }

    /// 504: the service did not finish in time; ask again (a change either committed whole or
    /// not at all).
    pub fn timed_out(detail: impl Into<String>) -> Self {
        Self::new("timeout", "Timed out", 504, detail)
    }

    /// The `type` without its `urn:rcn:problem:` prefix (`invalid-request`), for logs.
    pub fn short_kind(&self) -> &str {
        self.kind
            .strip_prefix("urn:rcn:problem:")
            .unwrap_or(&self.kind)
    }
}

/// A request body an endpoint reads: one JSON document read by the shared decoder
/// ([`crate::json::decode`]), which refuses trailing input and names the JSON path of a problem.
pub trait RequestBody: Sized {
    /// Parses the body; a structural problem names its path.
    fn from_json(bytes: &[u8]) -> Result<Self, Problem>;
}

/// The body of a request that takes no parameters: empty, or `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParameters {}

impl RequestBody for NoParameters {
    fn from_json(bytes: &[u8]) -> Result<Self, Problem> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {});
        }
        crate::json::decode(bytes, "an empty request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reads_like_the_gateways_problem_json() {
        let reply: ApiReply<()> = ApiReply::Problem(ApiProblem::invalid(vec![Problem::new(
            "decision.gemeentecode",
            "GM followed by four digits",
        )]));
        let v = serde_json::to_value(&reply).unwrap();
        let p = &v["problem"];
        assert_eq!(p["type"], "urn:rcn:problem:invalid-request");
        assert_eq!(p["status"], 400);
        assert_eq!(p["invalidParams"][0]["name"], "decision.gemeentecode");
        assert_eq!(
            p["detail"],
            "decision.gemeentecode: GM followed by four digits"
        );
        let back: ApiReply<()> = serde_json::from_value(v).unwrap();
        assert_eq!(back, reply);
        let forbidden = serde_json::to_value(ApiProblem::forbidden("no")).unwrap();
        assert!(forbidden.get("invalidParams").is_none(), "{forbidden}");
    }

    #[test]
    fn an_extension_member_sits_beside_the_standard_ones_and_reads_back() {
        let p = ApiProblem::conflict("taken").with_extension("heldBy", "anna");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["heldBy"], "anna");
        assert_eq!(v["status"], 409);
        let back: ApiProblem = serde_json::from_value(v).unwrap();
        assert_eq!(back.extension_str("heldBy"), Some("anna"));
        assert_eq!(back, p);
        assert!(ApiProblem::conflict("x").extensions.is_empty());
    }

    #[test]
    fn an_empty_request_is_empty_or_an_empty_object() {
        assert!(NoParameters::from_json(b"").is_ok());
        assert!(NoParameters::from_json(b" {} ").is_ok());
        assert_eq!(
            NoParameters::from_json(br#"{"x": 1}"#).unwrap_err().path,
            "x"
        );
        assert!(NoParameters::from_json(b"{}{}").is_err());
    }
}
