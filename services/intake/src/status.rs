//! `rcn.<region>.api.intake.status`: a sender asks what became of one of its notices. The
//! institution comes from the caller's identity (the `Rcn-Identity` header the gateway sets),
//! never from the request, so an institution can only ever read its own notices.
//!
//! The answer carries no personal data: kind, times, outcome and a municipality code.

use chrono::{DateTime, Utc};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::RoutingOutcomeKind;
use rcn_contracts::intake::{
    self, DEFAULT_RETRY_AFTER_SECONDS, NoticeState, NoticeStatus, StatusRequest,
};
use rcn_contracts::{Gemeentecode, NoticeKind};
use rcn_runtime::endpoint::Request;
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

/// Answers one status request: the institution is the one the endpoint kit read (from the
/// `Rcn-Identity` header through the gateway, or from a partner's own subject), never the body.
pub async fn of_request(
    pool: &PgPool,
    request: &Request<StatusRequest>,
) -> Result<NoticeStatus, ApiProblem> {
    let Some(partner) = &request.partner else {
        return Err(ApiProblem::unauthenticated(
            "the request carries no caller identity",
        ));
    };
    lookup(pool, &partner.institution_code, &request.body.notice_id).await
}

/// The status of `institution_code`'s notice `notice_id`.
pub async fn lookup(
    pool: &PgPool,
    institution_code: &str,
    notice_id: &str,
) -> Result<NoticeStatus, ApiProblem> {
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
        Ok(None) => {
            return Err(ApiProblem::not_found(
                "no notice of your institution has this notice_id",
            ));
        }
        Err(e) => {
            tracing::warn!(error = %e, "receipt ledger unavailable for a status request");
            return Err(intake::unavailable(
                "the status of notices cannot be read right now; ask again later",
                DEFAULT_RETRY_AFTER_SECONDS,
            ));
        }
    };
    to_status(row).ok_or_else(|| {
        tracing::error!(%notice_key, "a ledger row intake cannot read back");
        intake::unavailable(
            "the status of this notice cannot be read right now",
            DEFAULT_RETRY_AFTER_SECONDS,
        )
    })
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
