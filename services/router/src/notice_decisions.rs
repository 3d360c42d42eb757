//! `api.router.decisions`: how the router decided about named notices (a case's), for the people
//! who work or oversee that case: the outcome as it stands (a coordinator's decision replaces
//! `unroutable`), the rule that decided, what it looked at and, by hand, who decided and why.
//!
//! Who sees what is decided here, from the caller's identity only:
//! - RCN coordinators and procesregisseurs see every notice of the region;
//! - municipal staff see the notices of an episode (one detention of one person) that was routed
//!   to their own municipality — by a rule or by hand. The router does not know casework's case,
//!   but a case belongs to a municipality only because a notice of its episode was routed there;
//!   so the Haarlem case's earlier notice that went to Bloemendaal is still explained to Haarlem.
//! - anyone else sees nothing (`forbidden`).
//!
//! A notice the router does not know and a notice the caller may not see are both just absent
//! from the reply, so the answer never tells whether a notice exists. The reply carries no BSN,
//! name or address: municipalities, the PC4 and the coordinator's words. It must never answer
//! with a database error's text.
//!
//! What is shown is still about a person, so it is written to the router's access log per person
//! (`crate::access`) in the transaction that reads it: no answer without its record.

use rcn_contracts::access_log::{Read, What};
use rcn_contracts::envelope::ApiProblem;
use rcn_contracts::events::{RoutingOutcome, RoutingOutcomeKind, RoutingRule};
use rcn_contracts::identity::{Identity, Role};
use rcn_contracts::routing_api::{
    DecisionsReply, DecisionsRequest, ManualDecisionNote, NoticeDecision,
};
use rcn_contracts::value::Gemeentecode;
use sqlx::{PgConnection, PgPool};

use crate::access::{self, Shown};

/// The decisions about `request.notice_keys` that `who` may see, in the order asked.
pub async fn decisions(
    pool: &PgPool,
    who: &Identity,
    request: &DecisionsRequest,
) -> Result<DecisionsReply, ApiProblem> {
    // Only municipal staff are limited to a municipality; `None` means the whole region.
    let own = match who.role {
        Role::RcnCoordinator | Role::Procesregisseur => None,
        Role::MunicipalStaff => match &who.gemeentecode {
            Some(code) => Some(code.as_str()),
            None => {
                return Err(ApiProblem::forbidden(
                    "municipal staff without a municipality see no routing decisions",
                ));
            }
        },
        Role::PrivacyOfficer | Role::Administrator => {
            return Err(ApiProblem::forbidden(
                "routing decisions are for the staff of the case's municipality, the RCN and procesregie",
            ));
        }
    };
    let keys: Vec<&str> = request.notice_keys.iter().map(|k| k.trim()).collect();
    let why = rcn_contracts::access_log::read_why(request.why.as_deref())
        .map_err(|p| ApiProblem::invalid(vec![p]))?;
    match read_and_log(pool, who, why, &keys, own).await {
        Ok(decisions) => {
            tracing::info!(user = %who.user_id, role = who.role.as_str(), asked = keys.len(),
                shown = decisions.len(), "routing decisions read");
            Ok(DecisionsReply::Decisions { decisions })
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read routing decisions");
            Err(ApiProblem::unavailable(
                "the routing decisions cannot be read right now; try again in a moment",
            ))
        }
    }
}

/// Reads the decisions `who` may see and logs what was shown, in one transaction.
async fn read_and_log(
    pool: &PgPool,
    who: &Identity,
    why: Option<&str>,
    keys: &[&str],
    own: Option<&str>,
) -> Result<Vec<NoticeDecision>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (decisions, shown) = read(&mut tx, keys, own).await?;
    access::log(
        &mut tx,
        who,
        &What::new(Read::RoutingDecisions),
        why,
        &shown,
    )
    .await?;
    tx.commit().await?;
    Ok(decisions)
}

async fn read(
    conn: &mut PgConnection,
    keys: &[&str],
    own: Option<&str>,
) -> Result<(Vec<NoticeDecision>, Shown), sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT d.notice_key, d.person_key, d.outcome AS "outcome: RoutingOutcomeKind", d.gemeentecode,
                  d.rule AS "rule: RoutingRule", d.reason, d.ambiguous, d.inputs, d.decided_at,
                  d.received_at,
                  m.outcome AS "manual_outcome?: RoutingOutcomeKind",
                  m.gemeentecode AS "manual_gemeentecode?", m.decided_by AS "decided_by?",
                  m.why AS "why?", m.decided_at AS "manual_at?",
                  f.target_region AS "forwarded_to?"
           FROM decisions d
           LEFT JOIN manual_decisions m ON m.notice_key = d.notice_key
           LEFT JOIN forwards f ON f.notice_key = d.notice_key
           WHERE d.notice_key = ANY($1)
             AND ($2::text IS NULL OR EXISTS (
                   SELECT 1 FROM decisions e
                   LEFT JOIN manual_decisions em ON em.notice_key = e.notice_key
                   WHERE e.episode_key = d.episode_key
                     AND COALESCE(em.gemeentecode, e.gemeentecode) = $2))"#,
        keys as &[&str],
        own,
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut found = Vec::with_capacity(rows.len());
    let mut shown = Shown::default();
    for row in rows {
        shown.add(row.person_key, &row.notice_key);
        let manual = match (row.decided_by, row.why, row.manual_at) {
            (Some(decided_by), Some(why), Some(decided_at)) => Some(ManualDecisionNote {
                decided_by,
                why,
                decided_at,
            }),
            _ => None,
        };
        let (kind, code, rule) = match (&manual, row.manual_outcome, row.manual_gemeentecode) {
            (Some(_), Some(kind), Some(code)) => (kind, Some(code), RoutingRule::Manual),
            _ => (row.outcome, row.gemeentecode, row.rule),
        };
        let code = code
            .map(|c| Gemeentecode::parse(&c))
            .transpose()
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let outcome = match (kind, code) {
            (RoutingOutcomeKind::Routed, Some(gemeentecode)) => {
                RoutingOutcome::Routed { gemeentecode }
            }
            (RoutingOutcomeKind::OutOfRegion, Some(gemeentecode)) => {
                RoutingOutcome::OutOfRegion { gemeentecode }
            }
            // The table's CHECK ties a code to every outcome but `unroutable`.
            _ => RoutingOutcome::Unroutable,
        };
        found.push(NoticeDecision {
            named_municipality: named_municipality(rule, &row.inputs),
            pc4: row.inputs["pc4"]
                .as_u64()
                .and_then(|n| u16::try_from(n).ok()),
            notice_key: row.notice_key,
            received_at: row.received_at,
            decided_at: row.decided_at,
            outcome,
            rule,
            ambiguous: row.ambiguous,
            reason: row.reason,
            manual,
            forwarded_to: row.forwarded_to,
        });
    }
    // In the order asked (a case lists its notices oldest first).
    found.sort_by_key(|d| keys.iter().position(|k| *k == d.notice_key));
    Ok((found, shown))
}

/// The municipality the deciding input named, as recorded in the decision's inputs
/// (`decisions::inputs`): the BRP registration, or the address register's answer.
fn named_municipality(rule: RoutingRule, inputs: &serde_json::Value) -> Option<Gemeentecode> {
    let named = match rule {
        RoutingRule::BrpRegistration => &inputs["brp_municipality"],
        RoutingRule::AddressLookup => &inputs["address_register"]["gemeentecode"],
        _ => return None,
    };
    Gemeentecode::parse(named.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_municipality_comes_from_the_input_of_the_rule_that_decided() {
        let inputs = serde_json::json!({
            "brp_municipality": "GM0457", "pc4": 1381,
            "address_register": {"result": "found", "gemeentecode": "GM0392", "attempts": 1},
        });
        let code = |s: &str| Some(Gemeentecode::parse(s).unwrap());
        assert_eq!(
            named_municipality(RoutingRule::BrpRegistration, &inputs),
            code("GM0457")
        );
        assert_eq!(
            named_municipality(RoutingRule::AddressLookup, &inputs),
            code("GM0392")
        );
        assert_eq!(named_municipality(RoutingRule::Pc4Table, &inputs), None);
        assert_eq!(named_municipality(RoutingRule::Manual, &inputs), None);
        assert_eq!(
            named_municipality(RoutingRule::BrpRegistration, &serde_json::json!({})),
            None
        );
    }
}
