//! `rcn monitor rebuild`: replays every stream the monitor reads from its start into fresh
//! tables, then puts them in place of the live ones. Used after a change to the read models, or
//! when the tables are lost or suspect; the figures stay available while it runs.
//!
//! 1. Note where each stream ends now.
//! 2. Build schema `monitor_rebuild` from scratch (migrations) and replay each stream up to that
//!    point into it, with the live handlers (a message the live monitor would dead-letter is
//!    skipped: its dead letter is counted from DLQ).
//! 3. Swap the schemas in one transaction (under the lock migrations take), drop the old one.
//! 4. Restart the live durable consumers just after the replayed part, so whatever the running
//!    monitor wrote into the old tables meanwhile is applied again to the new ones (the handlers
//!    are idempotent, so messages applied twice change nothing).
//!
//! The dead-letter desk's log (who looked at or settled a dead letter), the privacy officer's
//! questions and the deletion log of the retention job are records, not read models: the swap
//! copies them into the new schema as they are (retention, not a rebuild, decides when they go).
//! It never touches another service's schema or any stream's messages.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, consumer::AckPolicy, consumer::DeliverPolicy, consumer::pull};
use futures::StreamExt;
use rcn_runtime::Config;
use rcn_runtime::consumer::{self, ConsumerSpec, Handler, HandlerError};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::read_models::{Feed, Handlers};
use crate::{MIGRATIONS, SCHEMA};

/// Where the replay builds its tables.
pub const REBUILD_SCHEMA: &str = "monitor_rebuild";
/// Where the replaced tables go until they are dropped.
const PREVIOUS_SCHEMA: &str = "monitor_previous";
/// Messages read per fetch.
const FETCH: usize = 500;

/// What a rebuild replayed: messages per feed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub replayed: Vec<(Feed, u64)>,
    /// Messages a handler refused for good (the live monitor dead-letters those).
    pub skipped: u64,
}

/// Rebuilds the read models of `config`'s region and database.
pub async fn run(config: &Config) -> anyhow::Result<Report> {
    let url = config.database_url()?;
    let nats = rcn_runtime::nats::connect_as(
        config.nats_url()?,
        &config.nats_auth,
        "rcn-monitor-rebuild",
        Duration::from_secs(10),
    )
    .await?;
    let js = jetstream::new(nats);
    let subjects = config.region.subjects();

    let mut feeds = Vec::new();
    for feed in Feed::ALL {
        let spec = feed.spec(&subjects, config);
        let info = rcn_runtime::nats::ensure_stream(&js, &spec.stream).await?;
        feeds.push((feed, spec, info.state.last_sequence));
    }

    let admin = PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .context("cannot reach PostgreSQL")?;
    // DDL naming a schema: an identifier cannot be a bind parameter.
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE"))
        .execute(&admin)
        .await?;
    let pool = rcn_runtime::db::open(
        url,
        REBUILD_SCHEMA,
        config.db_pool_size,
        &MIGRATIONS,
        Duration::from_secs(30),
    )
    .await?;
    let handlers = Handlers::new(pool.clone(), &subjects);
    let mut report = Report::default();
    for (feed, spec, end) in &feeds {
        let (n, skipped) = match feed {
            Feed::Notices => replay(&js, spec, *end, &*handlers.notices).await,
            Feed::Routing => replay(&js, spec, *end, &*handlers.routing).await,
            Feed::Cases => replay(&js, spec, *end, &*handlers.cases).await,
            Feed::Procesregie => replay(&js, spec, *end, &*handlers.procesregie).await,
            Feed::DeadLetters => replay(&js, spec, *end, &*handlers.dead_letters).await,
        }
        .with_context(|| format!("replaying {}", spec.stream.name))?;
        tracing::info!(feed = feed.durable(), messages = n, skipped, "replayed");
        report.replayed.push((*feed, n));
        report.skipped += skipped;
    }
    pool.close().await;

    swap(&admin).await?;
    for (feed, spec, end) in &feeds {
        restart_after(&js, spec, *end)
            .await
            .with_context(|| format!("restarting consumer {}", feed.durable()))?;
    }
    admin.close().await;
    Ok(report)
}

/// Feeds the stream of `spec`, from its first message up to sequence `end`, to `handler`.
/// Returns the messages read and those the handler refused for good.
async fn replay<H: Handler>(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    end: u64,
    handler: &H,
) -> anyhow::Result<(u64, u64)> {
    if end == 0 {
        return Ok((0, 0));
    }
    let stream = js.get_stream(&spec.stream.name).await?;
    let mut reader = stream
        .create_consumer(pull::Config {
            description: Some("monitor rebuild (ephemeral)".into()),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::None,
            filter_subject: spec.filter_subject.clone(),
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await?;
    let (mut read, mut skipped) = (0u64, 0u64);
    'fetching: loop {
        let mut messages = reader
            .fetch()
            .max_messages(FETCH)
            .expires(Duration::from_secs(1))
            .messages()
            .await?;
        let mut batch = Vec::with_capacity(FETCH);
        let mut done = false;
        while let Some(m) = messages.next().await {
            let m = m.map_err(|e| anyhow::anyhow!("reading the stream: {e}"))?;
            let seq = m.info().map(|i| i.stream_sequence).unwrap_or(u64::MAX);
            if seq > end {
                done = true;
                break;
            }
            done |= seq == end;
            read += 1;
            match consumer::decode::<H::Message>(&m) {
                Ok(d) => batch.push(d),
                Err(e) => {
                    tracing::warn!(stream = %spec.stream.name, seq, error = %e, "a message does not decode; skipped");
                    skipped += 1;
                }
            }
        }
        if !batch.is_empty() {
            skipped += apply(handler, &batch).await?;
        }
        if done {
            break 'fetching;
        }
        if batch.is_empty() && reader.info().await?.num_pending == 0 {
            // Nothing left (the last messages were deleted, e.g. dead letters replayed).
            break;
        }
    }
    let name = reader.cached_info().name.clone();
    let _ = stream.delete_consumer(&name).await;
    Ok((read, skipped))
}

/// Applies a batch; when it fails, message by message. A message refused for good is skipped
/// (counted); anything else stops the rebuild, leaving the live tables as they were.
async fn apply<H: Handler>(
    handler: &H,
    batch: &[consumer::Delivery<H::Message>],
) -> anyhow::Result<u64> {
    if handler.handle(batch).await.is_ok() {
        return Ok(0);
    }
    let mut skipped = 0;
    for d in batch {
        let mut attempt = 0;
        loop {
            match handler.handle(std::slice::from_ref(d)).await {
                Ok(()) => break,
                Err(HandlerError::Permanent(e)) => {
                    tracing::warn!(seq = d.stream_sequence, error = %format!("{e:#}"), "a message is refused; skipped");
                    skipped += 1;
                    break;
                }
                Err(e) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(seq = d.stream_sequence, error = %e, attempt, "retrying a message");
                    tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
                }
                Err(e) => return Err(anyhow::anyhow!("a message cannot be applied: {e}")),
            }
        }
    }
    Ok(skipped)
}

/// Puts the rebuilt schema in place of the live one, in one transaction holding the lock that
/// a starting monitor takes to migrate; then drops the old tables.
async fn swap(admin: &PgPool) -> anyhow::Result<()> {
    let mut tx = admin.begin().await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext('rcn-schema-' || $1))",
        SCHEMA
    )
    .execute(&mut *tx)
    .await?;
    let live: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS "live!""#,
        SCHEMA
    )
    .fetch_one(&mut *tx)
    .await?;
    // DDL naming schemas (below too): an identifier cannot be a bind parameter.
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {PREVIOUS_SCHEMA} CASCADE"))
        .execute(&mut *tx)
        .await?;
    if live {
        // The dead-letter desk's log is a record, not a read model: it comes along as it is.
        if has_table(&mut tx, "dead_letter_log").await? {
            sqlx::query(&format!(
                "INSERT INTO {REBUILD_SCHEMA}.dead_letter_log
                     (at, sequence, service, action, user_id, role, gemeentecode, why, person_keys)
                 SELECT at, sequence, service, action, user_id, role, gemeentecode, why, person_keys
                 FROM {SCHEMA}.dead_letter_log ORDER BY id"
            ))
            .execute(&mut *tx)
            .await?;
        }
        // So are the privacy officer's questions (migration 0005).
        if has_table(&mut tx, "privacy_questions").await? {
            sqlx::query(&format!(
                "INSERT INTO {REBUILD_SCHEMA}.privacy_questions
                     (at, user_id, role, gemeentecode, person_key, question)
                 SELECT at, user_id, role, gemeentecode, person_key, question
                 FROM {SCHEMA}.privacy_questions ORDER BY id"
            ))
            .execute(&mut *tx)
            .await?;
        }
        // And the retention job's deletion log: what it removed stays on record.
        if has_table(&mut tx, "retention_log").await? {
            sqlx::query(&format!(
                "INSERT INTO {REBUILD_SCHEMA}.retention_log (run_id, run_at, class, rule, removed)
                 SELECT run_id, run_at, class, rule, removed FROM {SCHEMA}.retention_log
                 ON CONFLICT (run_id, class, rule) DO NOTHING"
            ))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(&format!(
            "ALTER SCHEMA {SCHEMA} RENAME TO {PREVIOUS_SCHEMA}"
        ))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(&format!("ALTER SCHEMA {REBUILD_SCHEMA} RENAME TO {SCHEMA}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {PREVIOUS_SCHEMA} CASCADE"))
        .execute(admin)
        .await?;
    Ok(())
}

/// Whether the live schema has `table` (an older one may lack a record table).
async fn has_table(conn: &mut sqlx::PgConnection, table: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT to_regclass($1) IS NOT NULL AS "exists!""#,
        format!("{SCHEMA}.{table}")
    )
    .fetch_one(conn)
    .await
}

/// Recreates the durable consumer of `spec` to deliver from just after `end`. When the running
/// monitor recreates it first (from the start), everything is replayed once more, which changes
/// nothing but takes longer.
async fn restart_after(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    end: u64,
) -> anyhow::Result<()> {
    let stream = js.get_stream(&spec.stream.name).await?;
    let _ = stream.delete_consumer(&spec.durable).await;
    let mut config = spec.consumer_config();
    config.deliver_policy = DeliverPolicy::ByStartSequence {
        start_sequence: end + 1,
    };
    if let Err(e) = stream.create_consumer(config).await {
        tracing::warn!(consumer = %spec.durable, error = %e,
            "the running monitor recreated its consumer first; it reads the stream again from the start");
    }
    Ok(())
}
