//! DLQ → `dead_letters`: one row per dead letter (its service and when it was stored). The
//! payload is never decoded or kept: it is the message a service could not handle, often not
//! even JSON, and may hold personal data.

use rcn_runtime::consumer::{Delivery, Handler, HandlerError, RawPayload};
use sqlx::PgPool;

#[derive(Debug)]
pub struct DeadLetters {
    pub pool: PgPool,
    /// `rcn.<region>.dlq.`
    pub prefix: String,
}

impl Handler for DeadLetters {
    type Message = RawPayload;

    async fn handle(&self, batch: &[Delivery<RawPayload>]) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        for d in batch {
            let service = d.subject.strip_prefix(&self.prefix).unwrap_or("unknown");
            // The dead letter's own id (`dlq:<service>:<stream>:<sequence>`) survives a replay
            // of the stream; without one, the DLQ sequence does.
            let id = d
                .msg_id
                .clone()
                .unwrap_or_else(|| format!("seq:{}", d.stream_sequence));
            sqlx::query!(
                "INSERT INTO dead_letters (dead_letter_id, service, at) VALUES ($1, $2, $3)
                 ON CONFLICT (dead_letter_id) DO NOTHING",
                id,
                service,
                d.published_at,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
