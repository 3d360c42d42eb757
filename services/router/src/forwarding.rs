//! Out of region: a notice whose municipality is served by another rcn region is sent there on
//! `rcn.<target>.intake.forwarded`, through the outbox in the same transaction as the decision,
//! and recorded in `forwards` so the RCN sees it until the target region acknowledges it.
//!
//! The target is the `region` of the neighbour in the region file; without one (or for a
//! municipality that is not a listed neighbour) nothing is sent, and the decision's reason tells
//! the coordinator to forward by hand. It must never forward to a region it cannot name.
//!
//! The target acknowledges on `rcn.<this-region>.api.router.forwarded.ack` ([`acknowledge`]);
//! until then the forward is listed by [`unacknowledged`].

use chrono::{DateTime, SubsecRound, Utc};
use rcn_contracts::SCHEMA_VERSION;
use rcn_contracts::Subjects;
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::{NoticeAccepted, RoutingRule};
use rcn_contracts::forwarding::{ForwardAcknowledged, NoticeForwarded};
use rcn_contracts::notice::Problem;
use rcn_contracts::region::RegionTable;
use rcn_contracts::routing_api::{
    ForwardedAckReply, ForwardedAckRequest, ForwardedListReply, ForwardedNotice,
};
use rcn_contracts::subjects::Region;
use rcn_contracts::value::Gemeentecode;
use rcn_runtime::outbox;
use rcn_runtime::trace_context::TraceContext;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The rcn regions this region may forward to: the known regions of its neighbours.
pub fn target_regions(region: &RegionTable) -> Vec<Region> {
    let mut targets: Vec<Region> = region
        .neighbours
        .iter()
        .filter_map(|n| n.region.as_deref())
        // The region file checks each slug like a subject segment, so this does not drop any.
        .filter_map(|slug| Region::parse(slug).ok())
        .collect();
    targets.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    targets.dedup();
    targets
}

/// The region serving `code`, when the region file names one.
pub fn target_of(region: &RegionTable, code: &Gemeentecode) -> Option<Region> {
    region
        .neighbour(code)
        .and_then(|n| n.region.as_deref())
        .and_then(|slug| Region::parse(slug).ok())
}

/// What is forwarded, and why.
#[derive(Debug)]
pub struct Forward<'a> {
    pub from: &'a Subjects,
    pub target: Region,
    pub gemeentecode: &'a Gemeentecode,
    pub rule: RoutingRule,
    pub reason: &'a str,
    pub accepted: &'a NoticeAccepted,
    pub at: DateTime<Utc>,
    pub trace: Option<&'a TraceContext>,
}

/// Records the forward and enqueues it, inside the caller's transaction. Idempotent per notice.
pub async fn enqueue(tx: &mut PgConnection, f: Forward<'_>) -> Result<(), sqlx::Error> {
    let event = NoticeForwarded {
        schema_version: SCHEMA_VERSION,
        event_id: Uuid::now_v7(),
        from_region: f.from.region().as_str().to_owned(),
        gemeentecode: f.gemeentecode.clone(),
        rule: f.rule,
        reason: f.reason.to_owned(),
        forwarded_at: f.at,
        accepted: f.accepted.clone(),
    };
    let inserted = sqlx::query!(
        "INSERT INTO forwards (notice_key, target_region, gemeentecode, event_id, forwarded_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (notice_key) DO NOTHING",
        f.accepted.notice_key,
        f.target.as_str(),
        f.gemeentecode.as_str(),
        event.event_id,
        f.at,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        let subject = f.target.subjects().intake_forwarded();
        outbox::enqueue(
            tx,
            outbox::Event {
                event_id: event.event_id,
                subject,
                payload: &event,
                trace: f.trace,
            },
        )
        .await?;
    }
    Ok(())
}

/// The forwards not yet acknowledged, oldest first.
pub async fn unacknowledged(pool: &PgPool) -> Result<ForwardedListReply, ApiProblem> {
    let rows = sqlx::query!(
        "SELECT notice_key, target_region, gemeentecode, forwarded_at FROM forwards
         WHERE acknowledged_at IS NULL ORDER BY forwarded_at, notice_key",
    )
    .fetch_all(pool)
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "cannot list forwarded notices");
            return Err(ApiProblem::unavailable(
                "the forwarded notices cannot be listed right now",
            ));
        }
    };
    let forwards = rows
        .into_iter()
        .filter_map(|row| {
            Some(ForwardedNotice {
                gemeentecode: Gemeentecode::parse(&row.gemeentecode).ok()?,
                notice_key: row.notice_key,
                target_region: row.target_region,
                forwarded_at: row.forwarded_at,
            })
        })
        .collect();
    Ok(ForwardedListReply::Forwarded { forwards })
}

/// Records that the target region received a forwarded notice; once. The first
/// acknowledgement is announced on ROUTING (`forward_acknowledged`, through the outbox in the same
/// transaction), so the monitor can count the forwards still waiting.
pub async fn acknowledge(
    pool: &PgPool,
    subjects: &Subjects,
    request: &ForwardedAckRequest,
) -> Result<ForwardedAckReply, ApiProblem> {
    if request.notice_key.trim().is_empty() || Region::parse(&request.region).is_err() {
        return Err(ApiProblem::invalid(vec![Problem::new(
            "",
            "name the notice_key and your region's subject segment",
        )]));
    }
    let now = Utc::now().trunc_subsecs(6);
    let row = record_acknowledgement(pool, subjects, request, now).await;
    match row {
        Ok(Some(row)) => {
            // A concurrent acknowledgement that committed during this statement is not in its
            // snapshot: then the time is this attempt's, off by moments.
            let at = row.acknowledged_at.unwrap_or(now);
            if row.just_now {
                tracing::info!(notice_key = %request.notice_key, region = %request.region, "forward acknowledged");
                Ok(ForwardedAckReply::Acknowledged {
                    acknowledged_at: at,
                })
            } else {
                Ok(ForwardedAckReply::AlreadyAcknowledged {
                    acknowledged_at: at,
                })
            }
        }
        Ok(None) => Ok(ForwardedAckReply::UnknownForward {
            message: format!(
                "no notice {:?} was forwarded to region {}",
                request.notice_key, request.region
            ),
        }),
        Err(e) => {
            tracing::error!(error = %e, "cannot record an acknowledgement");
            Err(ApiProblem::unavailable(
                "the acknowledgement cannot be recorded right now; send it again",
            ))
        }
    }
}

/// What [`record_acknowledgement`] found.
struct Acknowledgement {
    just_now: bool,
    acknowledged_at: Option<DateTime<Utc>>,
}

/// Marks the forward acknowledged (one statement, so two acknowledgements at once cannot both
/// "acknowledge") and, the first time, enqueues the event announcing it; one transaction.
async fn record_acknowledgement(
    pool: &PgPool,
    subjects: &Subjects,
    request: &ForwardedAckRequest,
    now: DateTime<Utc>,
) -> Result<Option<Acknowledgement>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"WITH updated AS (
             UPDATE forwards SET acknowledged_at = $3
             WHERE notice_key = $1 AND target_region = $2 AND acknowledged_at IS NULL
             RETURNING acknowledged_at, gemeentecode, forwarded_at
         )
         SELECT true AS "just_now!", acknowledged_at, gemeentecode AS "gemeentecode!",
                forwarded_at AS "forwarded_at!"
         FROM updated
         UNION ALL
         SELECT false, acknowledged_at, gemeentecode, forwarded_at FROM forwards
         WHERE notice_key = $1 AND target_region = $2
         ORDER BY 1 DESC LIMIT 1"#,
        request.notice_key.trim(),
        request.region,
        now,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let found = Acknowledgement {
        just_now: row.just_now,
        acknowledged_at: row.acknowledged_at,
    };
    if found.just_now {
        // A code the router stored itself always parses; a row that somehow does not is still
        // acknowledged, only not announced.
        match Gemeentecode::parse(&row.gemeentecode) {
            Ok(gemeentecode) => {
                let event = ForwardAcknowledged {
                    schema_version: SCHEMA_VERSION,
                    event_id: Uuid::now_v7(),
                    notice_key: request.notice_key.trim().to_owned(),
                    target_region: request.region.clone(),
                    gemeentecode,
                    forwarded_at: row.forwarded_at,
                    acknowledged_at: found.acknowledged_at.unwrap_or(now),
                };
                outbox::enqueue(
                    &mut tx,
                    outbox::Event {
                        event_id: event.event_id,
                        subject: subjects.forward_acknowledged(),
                        payload: &event,
                        trace: None,
                    },
                )
                .await?;
            }
            Err(e) => {
                tracing::warn!(error = %e, "a forward with an unreadable gemeentecode was acknowledged without an event")
            }
        }
    }
    tx.commit().await?;
    Ok(Some(found))
}
