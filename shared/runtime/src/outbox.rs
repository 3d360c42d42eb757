//! The transactional outbox: a service writes its state change and the event announcing it in
//! one PostgreSQL transaction ([`enqueue`]); the [`relay`] publishes committed events to
//! JetStream with `Nats-Msg-Id` = event id, waits for the PubAck, and only then deletes them.
//!
//! Net effect: no event without its state change, no state change without its event, and a
//! crash anywhere only means an event is published again — which JetStream's duplicate window
//! and idempotent consumers absorb. The relay wakes on commit through LISTEN/NOTIFY, so the happy
//! path adds no polling delay; a slow periodic sweep catches anything a lost notification missed.
//!
//! Never publish an event any other way.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use serde::Serialize;
use sqlx::PgConnection;
use sqlx::postgres::{PgListener, PgPool};
use sqlx::types::Json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::trace_context::TraceContext;
use crate::{backoff, headers};

/// Events published per relay round (one transaction, pipelined publishes).
const RELAY_BATCH: i64 = 500;
/// How often the relay looks without being told; only matters when a notification was lost.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// The outbox table's DDL, idempotent (see [`install`]).
pub const OUTBOX_SQL: &str = include_str!("sql/outbox.sql");

/// Creates the outbox table in the connection's schema. Idempotent; run at start-up.
///
/// The DDL lives in `sql/outbox.sql`, which `.ci/sqlx-prepare` also applies to the scratch
/// database the query macros are checked against, so both see the same table.
pub async fn install(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    // A plain string runs as one simple-protocol query, which may hold several statements.
    // (`sqlx::raw_sql` would too, but its future is not `Send` for every lifetime, which breaks
    // spawning a service.)
    sqlx::Executor::execute(&mut *conn, OUTBOX_SQL).await?;
    Ok(())
}

/// One event to publish.
#[derive(Debug)]
pub struct Event<'a, T: Serialize> {
    pub event_id: Uuid,
    pub subject: String,
    pub payload: &'a T,
    /// The hop that caused the event ([`crate::trace_context`]): its `traceparent`,
    /// `tracestate` and `Rcn-Trace-Id` are kept with the row and published with the event, so
    /// the event's consumers continue the same trace.
    pub trace: Option<&'a TraceContext>,
}

/// Records an event inside the caller's transaction; it is published after the commit.
pub async fn enqueue<T: Serialize>(
    conn: &mut PgConnection,
    event: Event<'_, T>,
) -> Result<(), sqlx::Error> {
    let payload =
        serde_json::to_vec(event.payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let hdrs: HashMap<&str, String> = event
        .trace
        .map(TraceContext::header_pairs)
        .unwrap_or_default()
        .into_iter()
        .collect();
    sqlx::query!(
        "INSERT INTO outbox (event_id, subject, payload, headers) VALUES ($1, $2, $3, $4)",
        event.event_id,
        event.subject,
        payload,
        sqlx::types::Json(hdrs) as _,
    )
    .execute(&mut *conn)
    .await?;

    Ok(())
}

/// Publishes committed events until `shutdown`, then drains what is left and returns.
pub async fn relay(pool: PgPool, js: jetstream::Context, shutdown: CancellationToken) {
    let mut listener = None;
    let mut failures = 0u32;
    let mut pauses = backoff::OUTBOX_RELAY.delays();
    let mut measured: Option<std::time::Instant> = None;
    loop {
        if listener.is_none() {
            listener = listen(&pool).await;
        }
        if measured.is_none_or(|at| at.elapsed() >= MEASURE_EVERY) {
            measure(&pool).await;
            measured = Some(std::time::Instant::now());
        }
        match publish_pending(&pool, &js).await {
            Ok(n) if n as i64 >= RELAY_BATCH => {
                failures = 0;
                pauses = backoff::OUTBOX_RELAY.delays();
                continue;
            }
            Ok(_) => {
                failures = 0;
                pauses = backoff::OUTBOX_RELAY.delays();
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "outbox relay could not publish; will retry");
            }
        }
        if shutdown.is_cancelled() {
            break;
        }
        let wait = if failures == 0 {
            SWEEP_EVERY
        } else {
            pauses.next().unwrap_or(backoff::OUTBOX_RELAY.max)
        };
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(wait) => {}
            notified = wait_notification(&mut listener), if failures == 0 => {
                if !notified {
                    listener = None;
                }
            }
        }
    }
    // Drain: whatever committed before shutdown goes out now if the broker lets us.
    for _ in 0..20 {
        match publish_pending(&pool, &js).await {
            Ok(n) if (n as i64) < RELAY_BATCH => break,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay could not drain before shutdown; events stay for the next start");
                break;
            }
        }
    }
}

/// How often the relay records the outbox's backlog at most.
const MEASURE_EVERY: Duration = Duration::from_secs(1);

/// Records the backlog (`rcn_outbox_backlog`) and the age of the oldest event waiting
/// (`rcn_outbox_oldest_seconds`), per schema: an outbox older than a minute means events are not
/// going out.
async fn measure(pool: &PgPool) {
    let row: Result<(String, i64, f64), _> = sqlx::query_as(
        "SELECT current_schema()::text, count(*),
                COALESCE(extract(epoch FROM now() - min(created_at))::float8, 0)
         FROM outbox",
    )
    .fetch_one(pool)
    .await;
    if let Ok((schema, backlog, oldest)) = row {
        metrics::gauge!("rcn_outbox_backlog", "schema" => schema.clone()).set(backlog as f64);
        metrics::gauge!("rcn_outbox_oldest_seconds", "schema" => schema).set(oldest);
    }
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let channel = sqlx::query_scalar!(r#"SELECT current_schema() || '_outbox' AS "channel!""#)
        .fetch_one(pool)
        .await
        .ok()?;
    let mut l = PgListener::connect_with(pool).await.ok()?;
    l.listen(&channel).await.ok()?;
    Some(l)
}

/// Waits for a notification; false when the listener broke and must be rebuilt.
async fn wait_notification(listener: &mut Option<PgListener>) -> bool {
    match listener {
        Some(l) => l.recv().await.is_ok(),
        None => std::future::pending().await,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("publish to {subject}: {message}")]
    Publish { subject: String, message: String },
}

/// The longest an event the broker refused waits before it is tried again.
const MAX_RETRY_DELAY_SECS: f64 = 30.0;

/// Publishes one batch of pending events; returns how many went out.
///
/// An event whose PubAck fails (no stream takes its subject, the stream is full, a time-out) is
/// parked: `attempts` goes up and it is not read again before `retry_at`, doubling from 0.5 s to
/// at most 30 s. So however many events are stuck, every round reads events that may go out.
pub async fn publish_pending(pool: &PgPool, js: &jetstream::Context) -> Result<usize, RelayError> {
    let mut tx = pool.begin().await?;
    // SKIP LOCKED lets several relays (several instances of a service) share the work.
    let rows = sqlx::query!(
        r#"SELECT seq, event_id, subject, payload, headers AS "headers: Json<HashMap<String, String>>"
           FROM outbox
           WHERE retry_at IS NULL OR retry_at <= now()
           ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED"#,
        RELAY_BATCH,
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Pipelined: every publish goes on the wire first, then every PubAck is awaited. An event
    // that cannot be stored (no stream takes its subject, a timeout) stays for a later round and
    // does not hold back the others: one bad event must not stop a service's whole outbox.
    let mut acks = Vec::with_capacity(rows.len());
    let mut first_error = None;
    for row in rows {
        let subject = row.subject;
        let mut hdrs = HeaderMap::new();
        hdrs.insert(headers::MSG_ID, row.event_id.to_string().as_str());
        for (k, v) in &row.headers.0 {
            hdrs.insert(k.as_str(), v.as_str());
        }
        match js
            .publish_with_headers(subject.clone(), hdrs, row.payload.into())
            .await
        {
            Ok(ack) => acks.push((row.seq, subject, ack)),
            Err(e) => {
                // The connection itself failed: the rest would fail the same way.
                first_error.get_or_insert(RelayError::Publish {
                    subject,
                    message: e.to_string(),
                });
                break;
            }
        }
    }
    let mut seqs = Vec::with_capacity(acks.len());
    let mut refused = Vec::new();
    for (seq, subject, ack) in acks {
        match ack.await {
            Ok(_) => seqs.push(seq),
            Err(e) => {
                tracing::warn!(%subject, error = %e, "an outbox event was not stored; it waits and is tried again");
                refused.push(seq);
                first_error.get_or_insert(RelayError::Publish {
                    subject,
                    message: e.to_string(),
                });
            }
        }
    }
    sqlx::query!("DELETE FROM outbox WHERE seq = ANY($1)", &seqs)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "UPDATE outbox SET attempts = attempts + 1,
             retry_at = now() + make_interval(secs => least($2::float8, 0.5 * 2 ^ least(attempts, 10)))
         WHERE seq = ANY($1)",
        &refused,
        MAX_RETRY_DELAY_SECS,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if seqs.is_empty() {
        return Err(first_error.unwrap_or(RelayError::Publish {
            subject: String::new(),
            message: "nothing was published".into(),
        }));
    }
    Ok(seqs.len())
}
