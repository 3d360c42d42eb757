//! NATS header names rcn uses. The trace id travels with every message so one notice can be
//! followed through intake, router and casework in the logs.

/// JetStream's de-duplication header.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// Correlates the log lines of one notice across services.
pub const TRACE_ID: &str = "Rcn-Trace-Id";
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
