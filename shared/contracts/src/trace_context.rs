//! The shape of the W3C Trace Context headers (<https://www.w3.org/TR/trace-context/>), for the
//! documents that describe them (OpenAPI, AsyncAPI) and the parser that reads them
//! (`rcn_runtime::trace_context`), so the three cannot drift apart.

/// A `traceparent` as rcn writes it (version 00): version, trace id, parent span id, flags, in
/// lowercase hex.
pub const TRACEPARENT_PATTERN: &str = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$";

/// The trace id alone (`Rcn-Trace-Id`, the log field `trace_id`).
pub const TRACE_ID_PATTERN: &str = "^[0-9a-f]{32}$";

/// The longest `tracestate` passed on (the specification's 32 members fit in 512 characters).
pub const MAX_TRACESTATE: usize = 512;
