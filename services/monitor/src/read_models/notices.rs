//! NOTICES → `notices`: one row per accepted notice (kind, institution, when), keyed by the
//! notice key. Only those fields are decoded; the notice's person is never read.

use chrono::{DateTime, Utc};
use rcn_contracts::NoticeKind;
use rcn_runtime::consumer::{Delivery, Handler, HandlerError};
use serde::Deserialize;
use sqlx::PgPool;

/// The part of a `NoticeAccepted` the monitor keeps.
#[derive(Debug, Deserialize)]
pub struct Accepted {
    notice_key: String,
    received_at: DateTime<Utc>,
    notice: NoticePart,
    #[serde(default)]
    forwarded_from: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NoticePart {
    kind: NoticeKind,
    sender: SenderPart,
}

#[derive(Debug, Deserialize)]
struct SenderPart {
    institution_code: String,
}

#[derive(Debug)]
pub struct Notices {
    pub pool: PgPool,
}

impl Handler for Notices {
    type Message = Accepted;

    async fn handle(&self, batch: &[Delivery<Accepted>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        crate::counters::lock(&mut tx).await?;
        let mut keys = Vec::with_capacity(batch.len());
        for d in batch {
            let a = &d.message;
            sqlx::query!(
                "INSERT INTO notices (notice_key, kind, institution_code, received_at, forwarded_from)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (notice_key) DO NOTHING",
                &a.notice_key,
                a.notice.kind as NoticeKind,
                &a.notice.sender.institution_code,
                a.received_at,
                a.forwarded_from.as_deref(),
            )
            .execute(&mut *tx)
            .await?;
            keys.push(a.notice_key.clone());
        }
        keys.sort_unstable();
        keys.dedup();
        crate::counters::refresh_notices(&mut tx, &keys).await?;
        tx.commit().await?;
        Ok(())
    }
}
