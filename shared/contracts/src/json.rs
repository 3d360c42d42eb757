//! Reading JSON that comes from outside (a partner, a person's browser, another service's
//! request): one decoder, so every edge refuses the same things with the same words.
//!
//! It reads exactly one document. `{…}xyz` or `{…}{…}` is refused, not read up to the first
//! closing brace: what a sender meant after it is unknown, and accepting half a message hides
//! the sender's bug. A structural problem names its JSON path (`person.bsn`) and never repeats
//! the value it found there, which may be personal data.

use serde::de::DeserializeOwned;

use crate::notice::Problem;

/// Decodes `bytes` as one JSON document of type `T`, and nothing after it but whitespace.
///
/// `document` names what is expected, with its article, for the messages: `"a release notice"`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], document: &str) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::new(
            "",
            format!("the request body is empty; send {document} as JSON"),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        // "." is the document itself; "?" is where serde could not tell (not JSON at all).
        let path = if path == "." || path == "?" {
            String::new()
        } else {
            path
        };
        Problem::new(path, describe(e.inner(), document))
    })?;
    // serde_json stops at the end of the first value; whatever follows must be whitespace.
    de.end().map_err(|_| {
        Problem::new(
            "",
            format!(
                "the body goes on after the end of the JSON document; send exactly one {}, and nothing after it",
                without_article(document)
            ),
        )
    })?;
    Ok(value)
}

fn without_article(document: &str) -> &str {
    document
        .strip_prefix("a ")
        .or_else(|| document.strip_prefix("an "))
        .unwrap_or(document)
}

/// Turns serde's message into one a sender can act on, without Rust type names or the value.
fn describe(e: &serde_json::Error, document: &str) -> String {
    let raw = e.to_string();
    // serde_json appends " at line X column Y"; the path already says where.
    let msg = raw.split(" at line ").next().unwrap_or(&raw).to_string();
    if let Some(field) = msg.strip_prefix("missing field ") {
        return format!("the field {field} is required");
    }
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let field = rest.split(',').next().unwrap_or(rest);
        return format!(
            "the field {field} is not part of {}",
            the(without_article(document))
        );
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        return format!("unknown value {rest}");
    }
    if let Some(rest) = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "))
    {
        // serde quotes the value it found (`123456782`); it may be a BSN, so never echo it.
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        let kind = found.split(['`', '"']).next().unwrap_or(found).trim();
        return format!("wrong type: found {kind}, expected {expected}");
    }
    if e.is_syntax() || e.is_eof() {
        // Here the position helps: there is no path to a field that could not be read.
        return format!("the body is not valid JSON ({raw})");
    }
    msg
}

fn the(noun: &str) -> String {
    format!("the {noun}")
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Greeting {
        to: String,
    }

    fn greeting(bytes: &[u8]) -> Result<Greeting, Problem> {
        decode(bytes, "a greeting")
    }

    #[test]
    fn one_document_with_whitespace_around_it_is_read() {
        assert_eq!(
            greeting(b" \n{\"to\": \"Anna\"}\r\n\t ").unwrap(),
            Greeting { to: "Anna".into() }
        );
    }

    #[test]
    fn anything_after_the_document_is_refused() {
        for body in [
            &b"{\"to\": \"Anna\"}xyz"[..],
            b"{\"to\": \"Anna\"}{\"to\": \"Bob\"}",
            b"{\"to\": \"Anna\"} 1",
            b"{\"to\": \"Anna\"}}",
            b"{\"to\": \"Anna\"}\0",
        ] {
            let p = greeting(body).unwrap_err();
            assert_eq!(p.path, "", "{}", String::from_utf8_lossy(body));
            assert_eq!(
                p.message,
                "the body goes on after the end of the JSON document; send exactly one greeting, and nothing after it"
            );
        }
    }

    #[test]
    fn problems_name_the_path_and_never_the_value() {
        let p = greeting(b"{\"to\": 123456782}").unwrap_err();
        assert_eq!(p.path, "to");
        assert!(!p.message.contains("123456782"), "{}", p.message);
        assert_eq!(
            greeting(b"{\"to\": \"A\", \"colour\": 1}")
                .unwrap_err()
                .message,
            "the field `colour` is not part of the greeting"
        );
        assert_eq!(
            greeting(b"  ").unwrap_err().message,
            "the request body is empty; send a greeting as JSON"
        );
        assert!(
            greeting(b"{not json")
                .unwrap_err()
                .message
                .starts_with("the body is not valid JSON")
        );
    }
}
