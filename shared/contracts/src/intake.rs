//! The intake request-reply contract on `rcn.<region>.intake.submit`: the request body is a
//! [`ReleaseNotice`](crate::ReleaseNotice) as JSON, the reply a [`SubmitReply`].

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::notice::Problem;

/// What intake answers to a submitted notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SubmitReply {
    /// The notice is durably accepted (or was already): it will be routed.
    Accepted { receipt: Receipt },
    /// The notice was not accepted; nothing was kept. Every problem found is listed.
    Rejected { problems: Vec<Problem> },
    /// Intake cannot keep the notice right now; send it again later (same notice_id).
    Unavailable { message: String, retry_after_seconds: u32 },
}

/// Proof of acceptance, for the sender's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Receipt {
    pub notice_id: String,
    pub received_at: DateTime<Utc>,
    pub status: ReceiptStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Accepted now.
    Accepted,
    /// The same notice_id was accepted before; this resend changes nothing.
    AlreadyReceived,
}
