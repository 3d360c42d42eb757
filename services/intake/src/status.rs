//! `rcn.<region>.api.intake.status`: a sender asks what became of one of its notices. The
//! institution comes from the caller's identity (the `Rcn-Identity` header the gateway sets),
//! never from the request, so an institution can only ever read its own notices.
//!
//! The answer carries no personal data: kind, times, outcome and a municipality code.

use async_nats::HeaderMap;
use chrono::{DateTime, Utc};
use rcn_contracts::events::RoutingOutcomeKind;
use rcn_contracts::intake::{
    NoticeState, NoticeStatus, PartnerIdentity, StatusReply, StatusRequest,
};
use rcn_contracts::{Gemeentecode, NoticeKind};
use rcn_runtime::headers;
use sqlx::PgPool;

#[derive(Debug)]
struct Row {
    notice_id: String,
    kind: NoticeKind,
    received_at: DateTime<Utc>,
    outcome: Option<RoutingOutcomeKind>,
    gemeentecode: Option<String>,
    decided_at: Option<DateTime<Utc>>,
}

/// Answers one status request; the caller's institution comes from the `Rcn-Identity` header.
pub async fn answer(
    pool: &PgPool,
    body: &[u8],
    request_headers: Option<&HeaderMap>,
) -> StatusReply {
    let Some(identity) = request_headers.and_then(|h| h.get(headers::IDENTITY)) else {
        return refused("the request carries no caller identity");
    };
    let Ok(identity) = PartnerIdentity::from_header(identity.as_str()) else {
        return refused("the caller identity is not a partner identity");
    };
    let Ok(request) = serde_json::from_slice::<StatusRequest>(body) else {
        return refused("the request is not a status request ({\"notice_id\": \"…\"})");
    };
    lookup(pool, &identity.institution_code, &request.notice_id).await
}

/// Answers a partner asking on its own NATS subject: the institution is the subject's last token.
pub async fn answer_partner(pool: &PgPool, institution_code: &str, body: &[u8]) -> StatusReply {
    if rcn_contracts::intake::check_institution_code(institution_code).is_err() {
        return refused("the status subject does not name a valid institution code");
    }
    let Ok(request) = serde_json::from_slice::<StatusRequest>(body) else {
        return refused("the request is not a status request ({\"notice_id\": \"…\"})");
    };
    lookup(pool, institution_code, &request.notice_id).await
}

/// The status of `institution_code`'s notice `notice_id`.
pub async fn lookup(pool: &PgPool, institution_code: &str, notice_id: &str) -> StatusReply {
    let notice_key = format!("{institution_code}:{notice_id}");
    let row = sqlx::query_as!(
        Row,
        r#"SELECT r.notice_id, r.kind AS "kind: NoticeKind", r.received_at,
                  o.outcome AS "outcome?: RoutingOutcomeKind", o.gemeentecode AS "gemeentecode?",
                  o.decided_at AS "decided_at?"
           FROM receipts r LEFT JOIN notice_outcomes o ON o.notice_key = r.notice_key
           WHERE r.notice_key = $1"#,
        notice_key,
    )
    .fetch_optional(pool)
    .await;
    let row = match row {
        Ok(Some(row)) => row,
        Ok(None) => return StatusReply::NotFound,
        Err(e) => {
            tracing::warn!(error = %e, "receipt ledger unavailable for a status request");
            return StatusReply::Unavailable {
                message: "the status of notices cannot be read right now; ask again later".into(),
                retry_after_seconds: 30,
            };
        }
    };
    match to_status(row) {
        Some(status) => StatusReply::Found { status },
        None => {
            tracing::error!(%notice_key, "a ledger row intake cannot read back");
            StatusReply::Unavailable {
                message: "the status of this notice cannot be read right now".into(),
                retry_after_seconds: 30,
            }
        }
    }
}

fn to_status(row: Row) -> Option<NoticeStatus> {
    let status = match row.outcome {
        None => NoticeState::Accepted,
        Some(RoutingOutcomeKind::Routed) => NoticeState::Routed,
        Some(RoutingOutcomeKind::OutOfRegion) => NoticeState::OutOfRegion,
        Some(RoutingOutcomeKind::Unroutable) => NoticeState::AwaitingManualRouting,
    };
    let gemeentecode = match row.gemeentecode {
        Some(code) => Some(Gemeentecode::parse(&code).ok()?),
        None => None,
    };
    Some(NoticeStatus {
        notice_id: row.notice_id,
        kind: row.kind,
        received_at: row.received_at,
        status,
        gemeentecode,
        decided_at: row.decided_at,
    })
}

fn refused(message: &str) -> StatusReply {
    StatusReply::Refused {
        message: message.into(),
    }
}
