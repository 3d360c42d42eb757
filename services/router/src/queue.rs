//! The RCN's manual routing queue: notices no rule could route, listed oldest first, and the
//! coordinator's decision about one of them.
//!
//! A decision is applied exactly once: `manual_decisions` is keyed by the notice, so of two
//! coordinators deciding at the same moment the second insert waits for the first transaction and
//! then finds its row; the second coordinator is told who decided and when. The decision, its
//! `NoticeRouted` (rule `manual`) and, out of region, the forward to the other region are written
//! in one transaction through the outbox. The kept notice is cleared in that transaction too.
//!
//! Both are about persons: the list (masked BSN, PC4, institution, release date) is written to the
//! access log, one row per person in one statement, with the reason the caller gave for listing
//! it, in the transaction that reads it; a decision in the transaction that records it, with the
//! coordinator's reason (`crate::access`).
//!
//! It must never answer with a database error's text, and never show a full BSN or a name.

use chrono::{SubsecRound, Utc};
use rcn_contracts::access_log::{Field, Read, What};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::{
    NoticeAccepted, NoticeRouted, RoutingOutcome, RoutingOutcomeKind, RoutingRule,
};
use rcn_contracts::identity::Identity;
use rcn_contracts::notice::Problem;
use rcn_contracts::region::RegionTable;
use rcn_contracts::routing_api::{
    ManualDecision, ManualRoutingKind, QueueDecideReply, QueueDecideRequest, QueueListReply,
    QueueListRequest, WaitingNotice,
};
use rcn_contracts::value::Gemeentecode;
use rcn_contracts::{SCHEMA_VERSION, Subjects};
use rcn_runtime::outbox;
use sqlx::PgPool;
use uuid::Uuid;

use crate::access::{self, Shown};
use crate::forwarding;
use rcn_runtime::trace_context::TraceContext;

const TRY_AGAIN: &str = "the routing queue cannot be reached right now; try again in a moment";

/// The queue of one router instance.
#[derive(Debug)]
pub struct Queue {
    pub pool: PgPool,
    pub region: RegionTable,
    pub subjects: Subjects,
}

impl Queue {
    /// The waiting notices, oldest first, shown to `who` (logged).
    pub async fn list(
        &self,
        who: &Identity,
        request: &QueueListRequest,
    ) -> Result<QueueListReply, ApiProblem> {
        let why = rcn_contracts::access_log::read_why(request.why.as_deref())
            .map_err(|p| ApiProblem::invalid(vec![p]))?;
        match self.waiting(who, request.limit(), why).await {
            Ok((notices, more)) => Ok(QueueListReply::Waiting { notices, more }),
            Err(e) => {
                tracing::error!(error = %e, "cannot list the routing queue");
                Err(ApiProblem::unavailable(TRY_AGAIN))
            }
        }
    }

    async fn waiting(
        &self,
        who: &Identity,
        limit: u32,
        why: Option<&str>,
    ) -> Result<(Vec<WaitingNotice>, bool), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query!(
            "SELECT d.notice_key, d.person_key, d.received_at, d.decided_at, d.reason, d.ambiguous, d.inputs, d.notice
             FROM decisions d
             WHERE d.outcome = 'unroutable' -- a literal, so the partial index decisions_waiting serves
               AND NOT EXISTS (SELECT 1 FROM manual_decisions m WHERE m.notice_key = d.notice_key)
             ORDER BY d.received_at, d.notice_key
             LIMIT $1",
            i64::from(limit) + 1,
        )
        .fetch_all(&mut *tx)
        .await?;
        let more = rows.len() > limit as usize;
        let mut notices = Vec::with_capacity(rows.len());
        let mut shown = Shown::default();
        for row in rows.into_iter().take(limit as usize) {
            shown.add(row.person_key, &row.notice_key);
            // A notice that no longer parses (an older contract) is still listed, without details.
            let accepted = kept_notice(row.notice);
            let notice = accepted.as_ref().map(|a| &a.notice);
            notices.push(WaitingNotice {
                notice_key: row.notice_key,
                received_at: row.received_at,
                queued_at: row.decided_at,
                reason: row.reason,
                ambiguous: row.ambiguous,
                inputs: row.inputs,
                notice_kind: notice.map(|n| n.kind),
                institution_code: notice.map(|n| n.sender.institution_code.clone()),
                bsn_masked: notice.map(|n| n.person.bsn.masked()),
                expected_release_on: notice.and_then(|n| n.detention.expected_release_on),
            });
        }
        let what = What::new(Read::RoutingQueue).with(Field::Bsn, false);
        access::log(&mut tx, who, &what, why, &shown).await?;
        tx.commit().await?;
        Ok((notices, more))
    }

    /// Records a coordinator's decision, once.
    pub async fn decide(
        &self,
        who: &Identity,
        request: &QueueDecideRequest,
        trace: Option<&TraceContext>,
    ) -> Result<QueueDecideReply, ApiProblem> {
        let problems = self.problems(request);
        if !problems.is_empty() {
            return Err(ApiProblem::invalid(problems));
        }
        match self.apply(who, request, trace).await {
            Ok(reply) => reply,
            Err(e) => {
                tracing::error!(notice_key = %request.notice_key, error = %e, "cannot record a manual routing decision");
                Err(ApiProblem::unavailable(format!(
                    "{TRY_AGAIN}; nothing was recorded"
                )))
            }
        }
    }

    /// What is wrong with the request, the region's rules included.
    fn problems(&self, request: &QueueDecideRequest) -> Vec<Problem> {
        let mut problems = request.problems();
        let code = &request.decision.gemeentecode;
        let path = "decision.gemeentecode";
        // A coordinator decides now, so the municipality must exist now: not unknown to CBS, and
        // not merged away (then the successor is the one to choose).
        let cbs = self.region.cbs();
        let Some(municipality) = cbs.get(code) else {
            problems.push(Problem::new(
                path,
                "is not a municipality in the CBS list of Dutch municipalities; choose an \
                 existing municipality",
            ));
            return problems;
        };
        if let (Some(successor), Some(merged_on)) =
            (&municipality.successor, municipality.merged_on())
        {
            let successor = cbs
                .get(successor)
                .map_or_else(|| successor.to_string(), ToString::to_string);
            problems.push(Problem::new(
                path,
                format!(
                    "this municipality merged into {successor} on {merged_on}; choose {successor}"
                ),
            ));
            return problems;
        }
        match request.decision.kind {
            ManualRoutingKind::Municipality if !self.region.is_member(code) => {
                let members: Vec<String> = self
                    .region
                    .municipalities
                    .iter()
                    .map(|m| format!("{} ({})", m.code, m.name))
                    .collect();
                problems.push(Problem::new(
                    path,
                    format!(
                        "{code} is not a municipality of {}; choose one of {}, or decide out_of_region",
                        self.region.name,
                        members.join(", ")
                    ),
                ));
            }
            ManualRoutingKind::OutOfRegion if self.region.is_member(code) => {
                problems.push(Problem::new(
                    path,
                    format!(
                        "{code} is a municipality of {}; decide kind municipality",
                        self.region.name
                    ),
                ));
            }
            _ => {}
        }
        problems
    }

    async fn apply(
        &self,
        who: &Identity,
        request: &QueueDecideRequest,
        trace: Option<&TraceContext>,
    ) -> Result<Result<QueueDecideReply, ApiProblem>, sqlx::Error> {
        let key = request.notice_key.trim();
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query!(
            r#"SELECT outcome AS "outcome: RoutingOutcomeKind", gemeentecode, rule AS "rule: RoutingRule", notice, person_key
               FROM decisions WHERE notice_key = $1"#,
            key,
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Ok(QueueDecideReply::UnknownNotice {
                message: format!("no notice has the key {key:?}"),
            }));
        };
        if row.outcome != RoutingOutcomeKind::Unroutable {
            return Ok(Ok(QueueDecideReply::NotWaiting {
                message: format!(
                    "notice {key} is not waiting for a decision: rule {} decided {} {}",
                    row.rule.as_str(),
                    row.outcome.as_str(),
                    row.gemeentecode.unwrap_or_default()
                ),
            }));
        }
        let code = request.decision.gemeentecode.clone();
        let (outcome, kind) = match request.decision.kind {
            ManualRoutingKind::Municipality => (
                RoutingOutcome::Routed {
                    gemeentecode: code.clone(),
                },
                RoutingOutcomeKind::Routed,
            ),
            ManualRoutingKind::OutOfRegion => (
                RoutingOutcome::OutOfRegion {
                    gemeentecode: code.clone(),
                },
                RoutingOutcomeKind::OutOfRegion,
            ),
        };
        // Microseconds: what PostgreSQL keeps, so this reply and a later "already decided" agree.
        let decided_at = Utc::now().trunc_subsecs(6);
        let event_id = Uuid::now_v7();
        let decided_by = request.decided_by.trim();
        let why = request.why.trim();
        let inserted = sqlx::query!(
            "INSERT INTO manual_decisions (notice_key, outcome, gemeentecode, decided_by, why, decided_at, event_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (notice_key) DO NOTHING",
            key,
            kind as RoutingOutcomeKind,
            code.as_str(),
            decided_by,
            why,
            decided_at,
            event_id,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            // Someone else's decision committed first (the insert waited for it).
            tx.rollback().await?;
            return self.already_decided(key).await.map(Ok);
        }
        let Some(accepted) = kept_notice(row.notice) else {
            tx.rollback().await?;
            tracing::error!(notice_key = %key, "a waiting notice has no kept payload; it cannot be decided here");
            return Ok(Err(ApiProblem::conflict(format!(
                "the content of notice {key} is not kept, so it cannot be routed from here; ask the institution to send it again"
            ))));
        };
        let reason = format!("decided by hand by {decided_by}: {why}");
        let subject = match &outcome {
            RoutingOutcome::OutOfRegion { gemeentecode } => {
                self.subjects.out_of_region(gemeentecode)
            }
            _ => self.subjects.routed(&code),
        };
        let event = NoticeRouted {
            schema_version: SCHEMA_VERSION,
            event_id,
            notice_key: accepted.notice_key.clone(),
            person_key: accepted.person_key.clone(),
            episode_key: accepted.episode_key.clone(),
            outcome: outcome.clone(),
            rule: RoutingRule::Manual,
            reason: reason.clone(),
            ambiguous: false,
            decided_at,
            received_at: accepted.received_at,
            notice: accepted.notice.clone(),
        };
        outbox::enqueue(
            &mut tx,
            outbox::Event {
                event_id,
                subject,
                payload: &event,
                trace,
            },
        )
        .await?;
        let target = match &outcome {
            RoutingOutcome::OutOfRegion { gemeentecode } => {
                forwarding::target_of(&self.region, gemeentecode)
            }
            _ => None,
        };
        let forwarded_to = target.as_ref().map(|t| t.as_str().to_owned());
        if let Some(target) = target {
            let forward = forwarding::Forward {
                from: &self.subjects,
                target,
                gemeentecode: &code,
                rule: RoutingRule::Manual,
                reason: &reason,
                accepted: &accepted,
                at: decided_at,
                trace,
            };
            forwarding::enqueue(&mut tx, forward).await?;
        }
        // The change to where the person's notice goes, in the coordinator's name and words.
        let mut changed = Shown::default();
        changed.add(
            row.person_key.or_else(|| Some(accepted.person_key.clone())),
            key,
        );
        access::log(
            &mut tx,
            who,
            &What::new(Read::ManualRouting),
            Some(why),
            &changed,
        )
        .await?;
        // The event carries the notice on; the router no longer needs its copy.
        sqlx::query!(
            "UPDATE decisions SET notice = NULL WHERE notice_key = $1",
            key
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(notice_key = %key, trace_id = trace.map(TraceContext::trace_id).as_deref(), outcome = kind.as_str(), gemeentecode = %code, decided_by,
            forwarded_to = forwarded_to.as_deref(), "notice routed by hand");
        Ok(Ok(QueueDecideReply::Decided {
            decision: ManualDecision {
                notice_key: key.to_owned(),
                outcome,
                decided_by: decided_by.to_owned(),
                why: why.to_owned(),
                decided_at,
                forwarded_to,
            },
        }))
    }

    async fn already_decided(&self, key: &str) -> Result<QueueDecideReply, sqlx::Error> {
        let row = sqlx::query!(
            r#"SELECT m.outcome AS "outcome: RoutingOutcomeKind", m.gemeentecode, m.decided_by, m.why,
                      m.decided_at, f.target_region AS "target_region?"
               FROM manual_decisions m LEFT JOIN forwards f ON f.notice_key = m.notice_key
               WHERE m.notice_key = $1"#,
            key,
        )
        .fetch_one(&self.pool)
        .await?;
        let code =
            Gemeentecode::parse(&row.gemeentecode).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        // A manual decision is never `unroutable` (the table's CHECK says so).
        let outcome = match row.outcome {
            RoutingOutcomeKind::OutOfRegion => RoutingOutcome::OutOfRegion {
                gemeentecode: code.clone(),
            },
            RoutingOutcomeKind::Routed | RoutingOutcomeKind::Unroutable => RoutingOutcome::Routed {
                gemeentecode: code.clone(),
            },
        };
        let decided_by = row.decided_by;
        let decided_at = row.decided_at;
        let message = format!(
            "notice {key} was already decided by {decided_by} at {}: {} {code}; nothing was changed",
            decided_at.format("%Y-%m-%d %H:%M:%S UTC"),
            if matches!(outcome, RoutingOutcome::Routed { .. }) {
                "routed to"
            } else {
                "out of region,"
            }
        );
        Ok(QueueDecideReply::AlreadyDecided {
            decision: ManualDecision {
                notice_key: key.to_owned(),
                outcome,
                decided_by,
                why: row.why,
                decided_at,
                forwarded_to: row.target_region,
            },
            message,
        })
    }
}

/// The notice a waiting decision keeps; `None` when there is none or it no longer parses (an
/// older contract).
fn kept_notice(kept: Option<serde_json::Value>) -> Option<NoticeAccepted> {
    serde_json::from_value(kept?).ok()
}
