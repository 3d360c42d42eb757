//! NATS header names rcn uses. The trace context travels with every message so one notice is
//! one trace through gateway, intake, router and casework (see [`crate::trace_context`]).

/// JetStream's de-duplication header.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// Correlates the log lines of one notice across services: the W3C trace id of its
/// `traceparent` (32 lowercase hex digits), also the log field `trace_id`.
pub const TRACE_ID: &str = "Rcn-Trace-Id";
/// W3C Trace Context: version, trace id, the sender's span id, flags (see
/// [`crate::trace_context`]); in NATS headers and on HTTP requests to the gateway.
pub const TRACEPARENT: &str = "traceparent";
/// W3C Trace Context: vendors' state, passed on as it came with a valid `traceparent`.
pub const TRACESTATE: &str = "tracestate";
/// W3C Trace Context level 2: the gateway's answer names the trace and its span.
pub const TRACERESPONSE: &str = "traceresponse";
/// The caller's identity, set by the gateway on requests (the owning service authorises again).
pub const IDENTITY: &str = "Rcn-Identity";
/// The gateway's signature over the identity, the subject, the body and an expiry
/// (see [`crate::signed_identity`]); a service accepts no identity without it.
pub const IDENTITY_SIGNATURE: &str = "Rcn-Identity-Signature";
/// Dead-letter headers: why, where from, and how often it was tried.
pub const DLQ_ERROR: &str = "Rcn-Dlq-Error";
pub const DLQ_SUBJECT: &str = "Rcn-Dlq-Subject";
pub const DLQ_STREAM: &str = "Rcn-Dlq-Stream";
pub const DLQ_SEQUENCE: &str = "Rcn-Dlq-Sequence";
pub const DLQ_DELIVERED: &str = "Rcn-Dlq-Delivered";
pub const DLQ_SERVICE: &str = "Rcn-Dlq-Service";
pub const DLQ_MSG_ID: &str = "Rcn-Dlq-Msg-Id";
