//! The consumer loop: a named durable pull consumer whose handler's result decides, in this one
//! place, what happens to each message.
//!
//! - `Ok` → ack, after the handler's transaction committed;
//! - [`HandlerError::Transient`] → nak with the consumer's back-off, until `max_deliver`;
//! - [`HandlerError::Permanent`], a payload that does not decode, or the last delivery failing →
//!   copy to the service's dead-letter subject (awaiting the PubAck), then term.
//!
//! Messages are handled in batches (what is ready, up to `batch`) so a handler can commit many in
//! one transaction; when a batch fails, its messages are retried one by one so a single poison
//! message cannot hold back the rest. The loop survives missed heartbeats and reconnects by
//! reopening its message stream, and on shutdown finishes the batches it holds.
//!
//! The durable consumer itself is made by provisioning ([`crate::provision`], `rcn provision`)
//! from this same [`ConsumerSpec`]; the loop only binds to it, because a service's NATS user may
//! not create or change consumers. A consumer that went missing is waited for, with a warning
//! that says to run `rcn provision`.
//!
//! Each message's outcome, redeliveries, batch time and the consumer's pending count go to the
//! process's metrics ([`crate::metrics`]), labelled by the durable name only.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::{self, AckKind};
use futures::StreamExt;
use rcn_contracts::{StreamDef, Subjects};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::trace_context::{self, TraceContext};
use crate::{backoff, headers};

/// How a durable consumer is set up.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// The stream to read (provisioned with the consumer, so start order does not matter).
    pub stream: StreamDef,
    /// The durable name: one per purpose; instances sharing it share the work.
    pub durable: String,
    /// One filter subject (nats-server 2.9 has no multi-filter consumers).
    pub filter_subject: String,
    /// The service name, for the dead-letter subject `rcn.<region>.dlq.<service>`.
    pub service: &'static str,
    /// Where messages this consumer gives up on are kept: `rcn.<region>.dlq.<service>`.
    pub dead_letter_subject: String,
    /// The stream that holds the dead letters.
    pub dead_letter_stream: StreamDef,
    /// Deliveries before a failing message is dead-lettered.
    pub max_deliver: i64,
    /// Delay before the n-th redelivery of a failed message.
    pub backoff: Vec<Duration>,
    /// Above the p99 time to handle a batch; an unacked message is redelivered after it.
    pub ack_wait: Duration,
    /// At most this many messages in one handler call (and one transaction).
    pub batch: usize,
    /// Batches handled at once.
    pub workers: usize,
}

impl ConsumerSpec {
    /// A spec with rcn's defaults: 5 deliveries, back-off 1 s, 5 s, 30 s, 2 min; ack wait 30 s.
    pub fn new(
        subjects: &Subjects,
        stream: StreamDef,
        durable: impl Into<String>,
        filter_subject: impl Into<String>,
        service: &'static str,
    ) -> Self {
        Self {
            stream,
            durable: durable.into(),
            filter_subject: filter_subject.into(),
            service,
            dead_letter_subject: subjects.dead_letter(service),
            dead_letter_stream: subjects.dead_letter_stream(),
            max_deliver: 5,
            backoff: vec![
                Duration::from_secs(1),
                Duration::from_secs(5),
                Duration::from_secs(30),
                Duration::from_secs(120),
            ],
            ack_wait: Duration::from_secs(30),
            batch: 64,
            workers: 4,
        }
    }

    /// The durable consumer's configuration, as provisioning creates or updates it.
    pub fn consumer_config(&self) -> pull::Config {
        pull::Config {
            durable_name: Some(self.durable.clone()),
            description: Some(format!("{} reads {}", self.service, self.filter_subject)),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            // Unlimited on the server: this loop counts deliveries itself and dead-letters after
            // `max_deliver` real failures, so an outage of the database never dead-letters.
            max_deliver: -1,
            filter_subject: self.filter_subject.clone(),
            // Every worker may hold a full batch, plus one batch read ahead.
            max_ack_pending: ((self.workers + 1) * self.batch).max(1000) as i64,
            ..Default::default()
        }
    }

    /// The delay before redelivery after the `delivered`-th attempt failed.
    fn delay_after(&self, delivered: i64) -> Duration {
        let i = (delivered.max(1) as usize - 1).min(self.backoff.len().saturating_sub(1));
        self.backoff
            .get(i)
            .copied()
            .unwrap_or(Duration::from_secs(1))
    }
}

/// Why a handler could not finish a message.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Something the handler depends on is down (the database): the message is fine and waits,
    /// however long the outage lasts; it never counts towards dead-lettering.
    #[error("{0:#}")]
    Unavailable(anyhow::Error),
    /// Might work later (a conflict, a timeout): retried with back-off, dead-lettered after
    /// `max_deliver` deliveries.
    #[error("{0:#}")]
    Transient(anyhow::Error),
    /// Will never work (a rule the message breaks): dead-lettered at once.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            HandlerError::Unavailable(e.into())
        } else {
            HandlerError::Transient(e.into())
        }
    }
}

/// A decoded message and what the broker told about it.
#[derive(Debug)]
pub struct Delivery<T> {
    pub message: T,
    pub subject: String,
    /// The publisher's `Nats-Msg-Id`: the idempotency key of the message.
    pub msg_id: Option<String>,
    /// The trace this message belongs to. [`decode`] reads its `traceparent` (a new trace when
    /// it has none or a malformed one); the consumer loop then makes it this service's hop, so
    /// what the handler sends on (`outbox::Event::trace`) continues the trace under its span.
    pub trace: TraceContext,
    /// 1 on the first delivery.
    pub delivered: i64,
    pub stream_sequence: u64,
    /// When the stream stored the message.
    pub published_at: chrono::DateTime<chrono::Utc>,
}

/// How a message body becomes what a handler takes: JSON for every `Deserialize` type, or the
/// bytes as they are ([`RawPayload`]).
pub trait Payload: Sized + Send + Sync + 'static {
    fn decode(bytes: &[u8]) -> Result<Self, String>;
}

impl<T: DeserializeOwned + Send + Sync + 'static> Payload for T {
    fn decode(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// A message body left undecoded, for a consumer that must take any message, JSON or not (the
/// monitor counting dead letters, which are often the messages that did not decode): it never
/// fails to decode, so it is never dead-lettered for its content.
#[derive(Debug, Clone)]
pub struct RawPayload(pub bytes::Bytes);

impl Payload for RawPayload {
    fn decode(bytes: &[u8]) -> Result<Self, String> {
        Ok(Self(bytes::Bytes::copy_from_slice(bytes)))
    }
}

/// Handles batches of decoded messages; `Ok` means every message's effect is committed.
pub trait Handler: Send + Sync + 'static {
    type Message: Payload;
    fn handle(
        &self,
        batch: &[Delivery<Self::Message>],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Runs the consumer until `shutdown`, then finishes the batches in hand and returns.
pub async fn run<H: Handler>(
    js: jetstream::Context,
    spec: ConsumerSpec,
    handler: Arc<H>,
    shutdown: CancellationToken,
) {
    let spec = Arc::new(spec);
    let workers = Arc::new(Semaphore::new(spec.workers));
    let failures = Failures::default();
    let mut pauses = backoff::CONSUMER_OPEN.delays();
    while !shutdown.is_cancelled() {
        let messages = match open(&js, &spec).await {
            Ok(m) => {
                pauses = backoff::CONSUMER_OPEN.delays();
                m
            }
            Err(e) => {
                let wait = pauses.next().unwrap_or(backoff::CONSUMER_OPEN.max);
                tracing::warn!(consumer = %spec.durable, error = %e, ?wait, "cannot open consumer; retrying");
                tokio::select! { _ = shutdown.cancelled() => break, _ = tokio::time::sleep(wait) => continue }
            }
        };
        let mut chunks = messages.ready_chunks(spec.batch);
        let mut errors_in_a_row = 0u32;
        loop {
            let chunk = tokio::select! {
                _ = shutdown.cancelled() => break,
                c = chunks.next() => c,
            };
            let Some(chunk) = chunk else { break };
            let mut batch = Vec::with_capacity(chunk.len());
            for item in chunk {
                match item {
                    Ok(m) => batch.push(m),
                    Err(e) => {
                        errors_in_a_row += 1;
                        tracing::debug!(consumer = %spec.durable, error = %e, "message stream hiccup");
                    }
                }
            }
            if batch.is_empty() {
                // A server restart can leave the stream yielding only errors: rebuild it.
                if errors_in_a_row >= 3 {
                    tracing::info!(consumer = %spec.durable, "message stream keeps failing; recreating the consumer");
                    break;
                }
                continue;
            }
            errors_in_a_row = 0;
            let Ok(permit) = workers.clone().acquire_owned().await else {
                break;
            };
            let (js, spec, handler, failures) =
                (js.clone(), spec.clone(), handler.clone(), failures.clone());
            tokio::spawn(async move {
                process(&js, &spec, &*handler, &failures, batch).await;
                drop(permit);
            });
        }
    }
    // Drain: wait until every batch in hand is finished (all permits free again).
    let _ = workers.acquire_many(spec.workers as u32).await;
}

/// Binds to the provisioned durable consumer (`$JS.API.CONSUMER.INFO.<stream>.<durable>`, all a
/// service's NATS user may ask) and opens its message stream.
async fn open(js: &jetstream::Context, spec: &ConsumerSpec) -> anyhow::Result<pull::Stream> {
    let consumer: jetstream::consumer::PullConsumer = js
        .get_consumer_from_stream(&spec.durable, &spec.stream.name)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot bind to durable consumer {} on stream {} ({e}); is it provisioned? run `rcn provision`",
                spec.durable,
                spec.stream.name
            )
        })?;
    Ok(consumer
        .stream()
        .max_messages_per_batch(spec.batch * 2)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await?)
}

/// Real failures (not outages) per stream sequence, so a database outage never uses up a
/// message's deliveries. Kept in memory: after a restart a failing message gets its tries anew,
/// which only delays its dead-lettering.
#[derive(Debug, Default, Clone)]
struct Failures(Arc<std::sync::Mutex<HashMap<u64, i64>>>);

impl Failures {
    fn record(&self, seq: u64) -> i64 {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(seq).or_insert(0);
        *n += 1;
        *n
    }

    fn forget(&self, seqs: impl IntoIterator<Item = u64>) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !map.is_empty() {
            for seq in seqs {
                map.remove(&seq);
            }
        }
    }
}

async fn process<H: Handler>(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    handler: &H,
    failures: &Failures,
    batch: Vec<jetstream::Message>,
) {
    let mut raws = Vec::with_capacity(batch.len());
    let mut deliveries = Vec::with_capacity(batch.len());
    for m in batch {
        match decode::<H::Message>(&m) {
            Ok(d) => {
                raws.push(m);
                deliveries.push(d);
            }
            Err(e) => dead_letter(js, spec, &m, &format!("cannot decode message: {e}")).await,
        }
    }
    if deliveries.is_empty() {
        return;
    }
    let consumer = spec.durable.clone();
    let redelivered = deliveries.iter().filter(|d| d.delivered > 1).count();
    metrics::counter!("rcn_consumer_redelivered_total", "consumer" => consumer.clone())
        .increment(redelivered as u64);
    if let Some(pending) = raws.last().and_then(|m| m.info().ok()).map(|i| i.pending) {
        metrics::gauge!("rcn_consumer_pending", "consumer" => consumer.clone()).set(pending as f64);
    }
    // One span per message, the child of its sender's span: each notice stays one trace
    // however messages are batched. The batch's own span links to them.
    let spans: Vec<tracing::Span> = raws
        .iter()
        .zip(deliveries.iter_mut())
        .map(|(m, d)| {
            let span = tracing::info_span!("message",
                otel.name = %format_args!("{} process", spec.durable), otel.kind = "consumer",
                consumer = %spec.durable, msg_id = d.msg_id.as_deref(), trace_id = tracing::field::Empty);
            d.trace = trace_context::enter_hop(&span, TraceContext::from_nats(m.headers.as_ref()).as_ref());
            span
        })
        .collect();
    let started = std::time::Instant::now();
    let span = if spans.len() == 1 {
        spans[0].clone()
    } else {
        let batch = tracing::info_span!("batch", consumer = %spec.durable, size = deliveries.len());
        for s in &spans {
            batch.follows_from(s);
        }
        batch
    };
    let handled = handler.handle(&deliveries).instrument(span.clone()).await;
    metrics::histogram!("rcn_consumer_batch_seconds", "consumer" => consumer.clone())
        .record(started.elapsed().as_secs_f64());
    match handled {
        Ok(()) => {
            failures.forget(deliveries.iter().map(|d| d.stream_sequence));
            count(spec, "handled", deliveries.len());
            for m in &raws {
                ack(m, AckKind::Ack).await;
            }
        }
        Err(e) if deliveries.len() == 1 => {
            settle_failure(js, spec, failures, &raws[0], &deliveries[0], e).await
        }
        Err(e) => {
            tracing::info!(parent: &span, error = %e, "batch failed; handling its messages one by one");
            for ((m, d), span) in raws.iter().zip(&deliveries).zip(&spans) {
                let one = std::slice::from_ref(d);
                match handler.handle(one).instrument(span.clone()).await {
                    Ok(()) => {
                        failures.forget([d.stream_sequence]);
                        count(spec, "handled", 1);
                        ack(m, AckKind::Ack).await;
                    }
                    Err(e) => settle_failure(js, spec, failures, m, d, e).await,
                }
            }
        }
    }
}

async fn settle_failure<T>(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    failures: &Failures,
    m: &jetstream::Message,
    d: &Delivery<T>,
    e: HandlerError,
) {
    let (e, attempts) = match e {
        HandlerError::Unavailable(e) => {
            let delay = spec.delay_after(d.delivered.min(2));
            tracing::warn!(consumer = %spec.durable, msg_id = d.msg_id.as_deref(), delivered = d.delivered, ?delay,
                error = %format!("{e:#}"), "a dependency is unavailable; the message waits");
            count(spec, "waiting", 1);
            ack(m, AckKind::Nak(Some(delay))).await;
            return;
        }
        HandlerError::Transient(e) => {
            let attempts = failures.record(d.stream_sequence);
            if attempts < spec.max_deliver {
                let delay = spec.delay_after(attempts);
                tracing::warn!(consumer = %spec.durable, msg_id = d.msg_id.as_deref(), trace_id = %d.trace.trace_id(),
                    attempts, ?delay, error = %format!("{e:#}"), "handling failed; will retry");
                count(spec, "retried", 1);
                ack(m, AckKind::Nak(Some(delay))).await;
                return;
            }
            (e, attempts)
        }
        HandlerError::Permanent(e) => (e, 1),
    };
    let why = format!("{e:#}");
    tracing::error!(consumer = %spec.durable, msg_id = d.msg_id.as_deref(), trace_id = %d.trace.trace_id(),
        attempts, error = %why, "giving up on message; dead-lettering it");
    dead_letter(js, spec, m, &why).await;
    failures.forget([d.stream_sequence]);
}

/// A JetStream message as a handler receives it; for code that feeds a [`Handler`] from a
/// consumer of its own (a replay), not through [`run`].
pub fn decode<T: Payload>(m: &jetstream::Message) -> Result<Delivery<T>, String> {
    let info = m.info().map_err(|e| e.to_string())?;
    let message = T::decode(&m.payload)?;
    let header = |name: &str| {
        m.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    Ok(Delivery {
        message,
        subject: m.subject.to_string(),
        msg_id: header(headers::MSG_ID),
        trace: TraceContext::from_nats(m.headers.as_ref()).unwrap_or_else(TraceContext::new_root),
        delivered: info.delivered,
        stream_sequence: info.stream_sequence,
        published_at: chrono::DateTime::from_timestamp(
            info.published.unix_timestamp(),
            info.published.nanosecond(),
        )
        .unwrap_or_default(),
    })
}

/// Copies the message to the dead-letter subject and terms it; if the copy cannot be stored the
/// message is nak'ed instead, so it is never lost.
async fn dead_letter(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    m: &jetstream::Message,
    why: &str,
) {
    match crate::dlq::publish(js, spec, m, why).await {
        Ok(()) => {
            count(spec, "dead_lettered", 1);
            ack(m, AckKind::Term).await
        }
        Err(e) => {
            tracing::error!(consumer = %spec.durable, error = %e, "cannot dead-letter; will retry the message");
            ack(m, AckKind::Nak(Some(Duration::from_secs(5)))).await;
        }
    }
}

/// Counts `n` messages of the consumer of `spec` with `outcome` (`handled`, `waiting` for a
/// dependency, `retried`, `dead_lettered`) in `rcn_consumer_messages_total`.
fn count(spec: &ConsumerSpec, outcome: &'static str, n: usize) {
    metrics::counter!("rcn_consumer_messages_total", "consumer" => spec.durable.clone(), "outcome" => outcome)
        .increment(n as u64);
}

async fn ack(m: &jetstream::Message, kind: AckKind) {
    // A lost ack only means a redelivery, which handlers are idempotent for.
    if let Err(e) = m.ack_with(kind).await {
        tracing::debug!(error = %e, "ack not sent; the message will be redelivered");
    }
}
