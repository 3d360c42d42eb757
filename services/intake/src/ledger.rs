//! The receipt ledger: every notice on the NOTICES stream, as intake's own read model. It lets a
//! resend get its original receipt, and lets a sender later ask what became of a notice.

use chrono::{DateTime, Utc};
use rcn_contracts::NoticeKind;
use rcn_contracts::events::NoticeAccepted;
use rcn_runtime::Config;
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use sqlx::PgPool;

pub fn spec(config: &Config) -> ConsumerSpec {
    let s = config.region.subjects();
    let mut spec = ConsumerSpec::new(
        &s,
        s.notices_stream(),
        "intake-ledger",
        s.notice_accepted(),
        "intake",
    );
    spec.batch = config.consumer_batch;
    spec.workers = 1;
    spec
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub received_at: DateTime<Utc>,
    pub fingerprint: String,
}

pub async fn find(pool: &PgPool, notice_key: &str) -> Result<Option<Entry>, sqlx::Error> {
    sqlx::query_as!(
        Entry,
        "SELECT received_at, fingerprint FROM receipts WHERE notice_key = $1",
        notice_key,
    )
    .fetch_optional(pool)
    .await
}

pub struct Ledger {
    pub pool: PgPool,
}

impl Handler for Ledger {
    type Message = NoticeAccepted;

    async fn handle(&self, batch: &[Delivery<NoticeAccepted>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        for d in batch {
            let n = &d.message;
            sqlx::query!(
                "INSERT INTO receipts (notice_key, notice_id, institution_code, kind, episode_key, fingerprint, received_at,
                                       release_on, person_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (notice_key) DO NOTHING",
                n.notice_key,
                n.notice.notice_id,
                n.notice.sender.institution_code,
                n.notice.kind as NoticeKind,
                n.episode_key,
                n.notice.fingerprint(),
                n.received_at,
                // The retention clock of the receipt (`retention.rs`).
                n.notice.detention.expected_release_on,
                // How the privacy officer's export finds the person's receipts (`privacy.rs`).
                n.person_key,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ledger")
    }
}
