//! NOTICES → `notices`: one row per accepted notice (kind, institution, when), keyed by the
//! notice key. Only those fields are decoded; the notice's person is never read.

use chrono::{DateTime, Utc};
use rcn_contracts::NoticeKind;
use rcn_runtime::consumer::{Delivery, Handler, HandlerError};
use serde::Deserialize;
use sqlx::PgPool;

use crate::counters::{Family, Figure, Touched};

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

    /// The whole batch in one statement: a notice already known (a redelivery, or the same key
    /// twice in the batch) keeps its first row.
    async fn handle(&self, batch: &[Delivery<Accepted>]) -> Result<(), HandlerError> {
        let n = batch.len();
        let (mut keys, mut kinds, mut institutions, mut received, mut forwarded) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for d in batch {
            let a = &d.message;
            keys.push(a.notice_key.clone());
            kinds.push(a.notice.kind);
            institutions.push(a.notice.sender.institution_code.clone());
            received.push(a.received_at);
            forwarded.push(a.forwarded_from.clone());
        }
        let mut tx = self.pool.begin().await?;
        crate::counters::lock(&mut tx, Family::Notices).await?;
        sqlx::query!(
            "INSERT INTO notices (notice_key, kind, institution_code, received_at, forwarded_from)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
             ON CONFLICT (notice_key) DO NOTHING",
            &keys,
            &kinds as &[NoticeKind],
            &institutions,
            &received,
            &forwarded as &[Option<String>],
        )
        .execute(&mut *tx)
        .await?;
        // Only the notices figure reads this table; the time to routing reads `routing` alone.
        let touched = Touched::all(&keys, &[Figure::Notices]);
        crate::counters::refresh_notices(&mut tx, touched).await?;
        tx.commit().await?;
        Ok(())
    }
}
