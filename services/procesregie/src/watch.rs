//! Reads casework's events on CASES into procesregie's own picture of each case
//! (`watched_cases`), from which the suggestion rules work and which shows that a case is in an
//! ICO. One durable consumer over `rcn.<region>.casework.>`, each message applied once (keyed by
//! its `event_id`) in the batch's transaction.

use rcn_contracts::events::CaseOpened;
use rcn_runtime::Ctx;
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Procesregie;

/// The durable consumer's name.
pub const DURABLE: &str = "procesregie-cases";

/// Every casework event; one consumer, one filter (nats-server 2.9).
pub fn spec(ctx: &Ctx) -> ConsumerSpec {
    let subjects = ctx.subjects();
    let stream = subjects.cases_stream();
    let filter = stream.subjects[0].clone();
    let mut spec = ConsumerSpec::new(&subjects, stream, DURABLE, filter, "procesregie");
    // In order: a status change must not overtake the opening of its case.
    spec.workers = 1;
    spec.batch = ctx.config.consumer_batch;
    spec
}

impl Handler for Procesregie {
    type Message = serde_json::Value;

    async fn handle(&self, batch: &[Delivery<serde_json::Value>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        for d in batch {
            self.apply(&mut tx, d).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The event kind: the subject's token after `casework.`.
fn kind(subject: &str) -> &str {
    subject
        .split_once(".casework.")
        .map(|(_, rest)| rest.split('.').next().unwrap_or(rest))
        .unwrap_or("")
}

fn decode<T: DeserializeOwned>(d: &Delivery<serde_json::Value>) -> Result<T, HandlerError> {
    serde_json::from_value(d.message.clone()).map_err(|e| {
        HandlerError::Permanent(anyhow::anyhow!(
            "a {} event does not decode: {e}",
            kind(&d.subject)
        ))
    })
}

impl Procesregie {
    async fn apply(
        &self,
        tx: &mut PgConnection,
        d: &Delivery<serde_json::Value>,
    ) -> Result<(), HandlerError> {
        let Some(event_id) = d
            .message
            .get("event_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "a casework event without an event_id"
            )));
        };
        let first =
            sqlx::query("INSERT INTO applied_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(event_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if !first {
            return Ok(());
        }
        // Other kinds come with the suggestion rules.
        if kind(&d.subject) == "case_opened" {
            {
                let e: CaseOpened = decode(d)?;
                sqlx::query(
                    "INSERT INTO watched_cases (case_id, episode_key, person_key, gemeentecode, expected_release_on, spoed)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (case_id) DO UPDATE SET gemeentecode = EXCLUDED.gemeentecode,
                         person_key = coalesce(EXCLUDED.person_key, watched_cases.person_key),
                         expected_release_on = EXCLUDED.expected_release_on, spoed = EXCLUDED.spoed, open = true",
                )
                .bind(e.case_id)
                .bind(&e.episode_key)
                .bind(&e.person_key)
                .bind(e.gemeentecode.as_str())
                .bind(e.expected_release_on)
                .bind(e.spoed)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_kind_is_the_token_after_casework() {
        assert_eq!(
            super::kind("rcn.t1.casework.case_opened.GM0392"),
            "case_opened"
        );
        assert_eq!(
            super::kind("rcn.t1.casework.risk_flags.GM0392"),
            "risk_flags"
        );
        assert_eq!(super::kind("rcn.t1.routing.routed.GM0392"), "");
    }
}
