//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): the `traceparent` header that
//! makes one notice one trace across gateway → intake → router → casework, over HTTP at the edge
//! and in NATS headers between services (also through the outboxes, whose rows keep the headers).
//!
//! A *hop* is one service's part of the work (an HTTP request, a NATS request, a consumed
//! message): its span takes the incoming `traceparent` as its parent, and what the hop sends on
//! carries the same trace id with the hop's own span id as parent ([`enter_hop`]). When spans are
//! exported ([`crate::telemetry`]), those ids are the exported spans' ids; when not, the hop gets a
//! random span id of its own, so the trace id still travels and logs still join.
//!
//! The trace id is also the `Rcn-Trace-Id` log field and header (32 lowercase hex digits): one
//! value to search logs and traces by.
//!
//! Never fails a request or a message: a missing or malformed `traceparent` starts a new trace.
//! Holds no personal data: ids and flags only (and a partner's `tracestate`, passed through).

use std::fmt;

use async_nats::HeaderMap;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::headers;

/// The `sampled` flag of `trace-flags`.
const SAMPLED: u8 = 0x01;
use rcn_contracts::trace_context::MAX_TRACESTATE;

/// A `traceparent` value: version 00, a 16-byte trace id, the 8-byte id of the caller's span,
/// and the flags.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    pub flags: u8,
}

/// Why a `traceparent` was not taken (the caller starts a new trace).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceParentError {
    #[error("traceparent must be 55 characters in version 00")]
    Length,
    #[error("traceparent version must be two lowercase hex digits other than ff")]
    Version,
    #[error("traceparent must be version-traceid-parentid-flags in lowercase hex")]
    Format,
    #[error("traceparent trace id is all zeros")]
    ZeroTraceId,
    #[error("traceparent parent id is all zeros")]
    ZeroParentId,
}

impl TraceParent {
    /// Parses a `traceparent` strictly: version 00 exactly as specified (55 characters,
    /// lowercase hex, non-zero ids); a higher version when its first 55 characters read as
    /// version 00 and anything after them starts with `-` (the specification's rule for versions
    /// it does not know yet); `ff` never.
    pub fn parse(value: &str) -> Result<Self, TraceParentError> {
        let b = value.as_bytes();
        if b.len() < 2 || !b[..2].iter().all(|c| is_lower_hex(*c)) || &b[..2] == b"ff" {
            return Err(TraceParentError::Version);
        }
        let v00 = &b[..2] == b"00";
        if (v00 && b.len() != 55) || (!v00 && (b.len() < 55 || (b.len() > 55 && b[55] != b'-'))) {
            return Err(TraceParentError::Length);
        }
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return Err(TraceParentError::Format);
        }
        let trace_id: [u8; 16] = hex_bytes(&b[3..35]).ok_or(TraceParentError::Format)?;
        let parent_id: [u8; 8] = hex_bytes(&b[36..52]).ok_or(TraceParentError::Format)?;
        let [flags] = hex_bytes::<1>(&b[53..55]).ok_or(TraceParentError::Format)?;
        if trace_id == [0; 16] {
            return Err(TraceParentError::ZeroTraceId);
        }
        if parent_id == [0; 8] {
            return Err(TraceParentError::ZeroParentId);
        }
        Ok(Self {
            trace_id,
            parent_id,
            // Version 00 defines `sampled` (and level 2 `random`); others are not passed on.
            flags: flags & 0x03,
        })
    }

    /// The trace id as 32 lowercase hex digits (also the `Rcn-Trace-Id` value).
    pub fn trace_id_hex(&self) -> String {
        hex::encode(self.trace_id)
    }

    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }
}

impl fmt::Display for TraceParent {
    /// The header value, version 00.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.parent_id),
            self.flags
        )
    }
}

impl fmt::Debug for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceParent({self})")
    }
}

/// A trace context as it travels: the `traceparent` and the vendors' `tracestate` (passed on as
/// it came, when it looks like one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub parent: TraceParent,
    pub state: Option<String>,
}

impl TraceContext {
    /// From the header values; `None` when `traceparent` is missing or malformed (then
    /// `tracestate` is dropped too, as the specification says).
    pub fn from_values(traceparent: Option<&str>, tracestate: Option<&str>) -> Option<Self> {
        let parent = TraceParent::parse(traceparent?.trim()).ok()?;
        Some(Self {
            parent,
            state: tracestate
                .map(str::trim)
                .filter(|s| valid_tracestate(s))
                .map(str::to_owned),
        })
    }

    /// From a NATS message's headers.
    pub fn from_nats(h: Option<&HeaderMap>) -> Option<Self> {
        let h = h?;
        Self::from_values(
            h.get(headers::TRACEPARENT).map(|v| v.as_str()),
            h.get(headers::TRACESTATE).map(|v| v.as_str()),
        )
    }

    /// From HTTP request headers (a partner's or a browser's).
    pub fn from_http(h: &http::HeaderMap) -> Option<Self> {
        let one = |name: &str| {
            // A repeated traceparent is ambiguous: ignored, as the specification allows.
            let mut values = h.get_all(name).iter();
            let first = values.next()?.to_str().ok()?;
            values.next().is_none().then_some(first)
        };
        let state = h
            .get_all(headers::TRACESTATE)
            .iter()
            .map(|v| v.to_str().ok())
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join(","));
        Self::from_values(
            one(headers::TRACEPARENT),
            state.as_deref().filter(|s| !s.is_empty()),
        )
    }

    /// A new trace: random ids, sampled.
    pub fn new_root() -> Self {
        Self {
            parent: TraceParent {
                trace_id: random_nonzero(),
                parent_id: random_nonzero(),
                flags: SAMPLED,
            },
            state: None,
        }
    }

    /// The trace id as 32 lowercase hex digits: the `Rcn-Trace-Id` log field.
    pub fn trace_id(&self) -> String {
        self.parent.trace_id_hex()
    }

    /// The `traceparent` value to send.
    pub fn traceparent(&self) -> String {
        self.parent.to_string()
    }

    /// The headers to send with what this hop causes: `traceparent`, `tracestate` when there is
    /// one, and `Rcn-Trace-Id` (the trace id, for logs of services that read only that).
    pub fn header_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            (headers::TRACEPARENT, self.traceparent()),
            (headers::TRACE_ID, self.trace_id()),
        ];
        if let Some(s) = &self.state {
            pairs.push((headers::TRACESTATE, s.clone()));
        }
        pairs
    }

    /// Adds [`TraceContext::header_pairs`] to NATS headers.
    pub fn insert_into(&self, h: &mut HeaderMap) {
        for (name, value) in self.header_pairs() {
            h.insert(name, value.as_str());
        }
    }

    /// This context as a remote parent for OpenTelemetry.
    fn otel_parent(&self) -> opentelemetry::Context {
        let state = self
            .state
            .as_deref()
            .and_then(|s| s.parse::<TraceState>().ok())
            .unwrap_or_default();
        opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from_bytes(self.parent.trace_id),
            SpanId::from_bytes(self.parent.parent_id),
            TraceFlags::new(self.parent.flags),
            true,
            state,
        ))
    }
}

/// Makes `span`, not yet entered, the hop of the trace `incoming` (its remote parent), and
/// returns the context to pass on: the same trace, with the hop's span as parent. Without
/// `incoming` the hop starts a new trace. The span's `trace_id` field, when it declares one, is
/// filled in.
pub fn enter_hop(span: &tracing::Span, incoming: Option<&TraceContext>) -> TraceContext {
    if let Some(parent) = incoming {
        set_remote_parent(span, parent);
    }
    let hop = hop_of(span, incoming);
    span.record("trace_id", hop.trace_id());
    hop
}

/// Sets the remote parent of a span not yet entered; nothing when spans are not exported.
pub fn set_remote_parent(span: &tracing::Span, parent: &TraceContext) {
    // Err: no OpenTelemetry layer (export off) or the span is disabled — nothing to link.
    let _ = span.set_parent(parent.otel_parent());
}

/// The context a hop passes on once its span has its parent: the exported span's ids, or, when
/// spans are not exported, the incoming trace (or a new one) with a random span id for the hop.
pub fn hop_of(span: &tracing::Span, incoming: Option<&TraceContext>) -> TraceContext {
    let state = incoming.and_then(|c| c.state.clone());
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    if sc.is_valid() {
        return TraceContext {
            parent: TraceParent {
                trace_id: sc.trace_id().to_bytes(),
                parent_id: sc.span_id().to_bytes(),
                flags: sc.trace_flags().to_u8() & 0x03,
            },
            state,
        };
    }
    match incoming {
        Some(c) => TraceContext {
            parent: TraceParent {
                parent_id: random_nonzero(),
                ..c.parent
            },
            state,
        },
        None => TraceContext::new_root(),
    }
}

tokio::task_local! {
    /// The hop in hand, for code that sends on without a [`TraceContext`] in its arguments (the
    /// gateway's handlers).
    static CURRENT: TraceContext;
}

/// Runs `work` with `trace` as the hop in hand ([`current`]).
pub async fn scope<F: Future>(trace: TraceContext, work: F) -> F::Output {
    CURRENT.scope(trace, work).await
}

/// The hop in hand, inside [`scope`].
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(Clone::clone).ok()
}

fn is_lower_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

fn hex_bytes<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N || !digits.iter().all(|c| is_lower_hex(*c)) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}

fn random_nonzero<const N: usize>() -> [u8; N] {
    use rand::Rng;
    let mut bytes = [0u8; N];
    while bytes == [0; N] {
        rand::thread_rng().fill(&mut bytes[..]);
    }
    bytes
}

/// A `tracestate` we pass on: printable ASCII without spaces at the ends, bounded in length.
/// Its members are the vendors' business; a malformed one is dropped, never an error.
fn valid_tracestate(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TRACESTATE
        && s.bytes().all(|c| (0x20..0x7f).contains(&c))
        && s.split(',').all(|member| {
            let m = member.trim();
            m.is_empty()
                || m.split_once('=')
                    .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_read_and_written_back_the_same() {
        let p = TraceParent::parse(VALID).unwrap();
        assert_eq!(p.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex::encode(p.parent_id), "00f067aa0ba902b7");
        assert!(p.sampled());
        assert_eq!(p.to_string(), VALID);
        let unsampled = TraceParent::parse(&VALID.replace("-01", "-00")).unwrap();
        assert!(!unsampled.sampled());
    }

    #[test]
    fn a_higher_version_is_read_by_the_version_00_fields_and_sent_on_as_00() {
        let p = TraceParent::parse(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes",
        )
        .unwrap();
        assert_eq!(p.to_string(), VALID);
        let exact = TraceParent::parse(&VALID.replacen("00", "cc", 1)).unwrap();
        assert_eq!(exact.to_string(), VALID);
    }

    #[test]
    fn invalid_versions_are_refused() {
        for value in [
            VALID.replacen("00", "ff", 1),
            VALID.replacen("00", "0g", 1),
            VALID.replacen("00", "0A", 1),
            VALID.replacen("00", "0", 1),
            // Version 00 takes nothing after the flags.
            format!("{VALID}-extra"),
            // A higher version must separate what follows with '-'.
            format!("{}x", VALID.replacen("00", "01", 1)),
        ] {
            let e = TraceParent::parse(&value).unwrap_err();
            assert!(
                matches!(e, TraceParentError::Version | TraceParentError::Length),
                "{value}: {e:?}"
            );
        }
    }

    #[test]
    fn all_zero_ids_are_refused() {
        assert_eq!(
            TraceParent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            Err(TraceParentError::ZeroTraceId)
        );
        assert_eq!(
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
            Err(TraceParentError::ZeroParentId)
        );
    }

    #[test]
    fn wrong_lengths_and_shapes_are_refused() {
        for value in [
            "",
            "00",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // 31-digit trace id
            "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01", // 33
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01", // 15-digit parent id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-001",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", // upper case
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba9 2b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736+00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01é",
        ] {
            assert!(TraceParent::parse(value).is_err(), "{value:?} was taken");
        }
    }

    #[test]
    fn an_invalid_traceparent_yields_no_context_and_drops_the_tracestate() {
        assert_eq!(
            TraceContext::from_values(Some("00-garbage"), Some("rojo=00f067aa0ba902b7")),
            None
        );
        assert_eq!(
            TraceContext::from_values(None, Some("rojo=00f067aa0ba902b7")),
            None
        );
        let ok =
            TraceContext::from_values(Some(VALID), Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"))
                .unwrap();
        assert_eq!(
            ok.state.as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
        let bad_state = TraceContext::from_values(Some(VALID), Some("no equals sign")).unwrap();
        assert_eq!(bad_state.state, None);
    }

    #[test]
    fn http_headers_are_read_and_a_repeated_traceparent_is_ignored() {
        let mut h = http::HeaderMap::new();
        h.insert("traceparent", VALID.parse().unwrap());
        h.append("tracestate", "a=1".parse().unwrap());
        h.append("tracestate", "b=2".parse().unwrap());
        let c = TraceContext::from_http(&h).unwrap();
        assert_eq!(c.traceparent(), VALID);
        assert_eq!(c.state.as_deref(), Some("a=1,b=2"));
        h.append("traceparent", VALID.parse().unwrap());
        assert_eq!(TraceContext::from_http(&h), None);
    }

    #[test]
    fn a_hop_without_exported_spans_keeps_the_trace_and_gets_its_own_span_id() {
        let incoming = TraceContext::from_values(Some(VALID), Some("a=1")).unwrap();
        let span = tracing::info_span!("hop", trace_id = tracing::field::Empty);
        let hop = enter_hop(&span, Some(&incoming));
        assert_eq!(hop.trace_id(), incoming.trace_id());
        assert_ne!(hop.parent.parent_id, incoming.parent.parent_id);
        assert_eq!(hop.parent.flags, incoming.parent.flags);
        assert_eq!(hop.state.as_deref(), Some("a=1"));
        let root = enter_hop(&span, None);
        assert_ne!(root.trace_id(), incoming.trace_id());
        assert!(TraceParent::parse(&root.traceparent()).is_ok());
    }

    #[test]
    fn new_roots_are_valid_and_differ() {
        let (a, b) = (TraceContext::new_root(), TraceContext::new_root());
        assert_ne!(a.trace_id(), b.trace_id());
        assert_eq!(TraceParent::parse(&a.traceparent()), Ok(a.parent));
        let pairs = a.header_pairs();
        assert!(pairs.contains(&(headers::TRACE_ID, a.trace_id())));
    }
}
