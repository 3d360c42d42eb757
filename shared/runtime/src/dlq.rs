//! The dead-letter queue: where a message goes when a service gives up on it, with the error, the
//! original subject and payload, so the RCN can see it and replay it once the cause is fixed.
//!
//! [`publish`] stores a letter (the consumer loop); [`list`], [`get`], [`replay`] and [`discard`]
//! are the one way to read and settle them, used by the RCN's dead-letter desk (served by the
//! monitor to the portal and to `rcn dlq show|replay|discard`, which log who did what) and by
//! the operator's `rcn dlq list` (no payloads). A replay is published with a new
//! `Nats-Msg-Id` (`replay:<stream>:<seq>`): the original id may still be inside the duplicate
//! window, and consumers are idempotent on natural keys anyway. A letter is deleted only after
//! the replay's PubAck. Nothing here logs a payload: it may hold personal data.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream::Stream};
use chrono::{DateTime, Utc};
use rcn_contracts::Subjects;

use crate::consumer::ConsumerSpec;
use crate::headers;

/// Stores a copy of `m` on the consumer's dead-letter subject and waits for the PubAck.
pub async fn publish(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    m: &jetstream::Message,
    why: &str,
) -> anyhow::Result<()> {
    let info = m
        .info()
        .map_err(|e| anyhow::anyhow!("not a JetStream message: {e}"))?;
    let mut h = HeaderMap::new();
    // One dead letter per original message and service (two services may give up on the same
    // message), even when this is retried after a crash.
    h.insert(
        headers::MSG_ID,
        format!(
            "dlq:{}:{}:{}",
            spec.service, info.stream, info.stream_sequence
        )
        .as_str(),
    );
    h.insert(headers::DLQ_ERROR, truncate(why, 1000).as_str());
    h.insert(headers::DLQ_SUBJECT, m.subject.as_str());
    h.insert(headers::DLQ_STREAM, info.stream);
    h.insert(
        headers::DLQ_SEQUENCE,
        info.stream_sequence.to_string().as_str(),
    );
    h.insert(headers::DLQ_DELIVERED, info.delivered.to_string().as_str());
    h.insert(headers::DLQ_SERVICE, spec.service);
    if let Some(orig) = m.headers.as_ref() {
        if let Some(id) = orig.get(headers::MSG_ID) {
            h.insert(headers::DLQ_MSG_ID, id.as_str());
        }
        // The dead letter stays in its trace: a replay continues where the message failed.
        for name in [headers::TRACE_ID, headers::TRACEPARENT, headers::TRACESTATE] {
            if let Some(t) = orig.get(name) {
                h.insert(name, t.as_str());
            }
        }
    }
    // The DLQ stream is provisioned with the consumer (`rcn provision`); without it the publish
    // fails and the message is nak'ed, so nothing is lost.
    js.publish_with_headers(spec.dead_letter_subject.clone(), h, m.payload.clone())
        .await?
        .await?;
    Ok(())
}

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its sequence in the region's DLQ stream: how it is named.
    pub sequence: u64,
    /// The service that gave up on it.
    pub service: String,
    pub original_subject: String,
    pub original_msg_id: Option<String>,
    /// Why the service gave up (one line, at most 1000 characters).
    pub error: String,
    /// How often it was delivered before the service gave up.
    pub delivered: String,
    /// When it was dead-lettered.
    pub time: DateTime<Utc>,
    /// The message itself; may hold personal data.
    pub payload: Vec<u8>,
}

/// Why a dead letter could not be read or settled.
#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    #[error("no dead letter with sequence {0}")]
    NotFound(u64),
    #[error("dead letter {0} does not say where it came from; it cannot be replayed")]
    NoOrigin(u64),
    #[error("the dead-letter stream cannot be used: {0}")]
    Nats(String),
}

fn nats_error(e: impl std::fmt::Display) -> DlqError {
    DlqError::Nats(e.to_string())
}

async fn stream(js: &jetstream::Context, subjects: &Subjects) -> Result<Option<Stream>, DlqError> {
    let name = subjects.dead_letter_stream().name;
    match js.get_stream(&name).await {
        Ok(s) => Ok(Some(s)),
        Err(e)
            if matches!(
                e.kind(),
                jetstream::context::GetStreamErrorKind::JetStream(_)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(nats_error(format!("reading stream {name}: {e}"))),
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).map(|v| v.as_str().to_owned())
}

/// A stored dead letter, read back from its headers.
fn letter(m: jetstream::message::StreamMessage) -> DeadLetter {
    let time = DateTime::<Utc>::from_timestamp(m.time.unix_timestamp(), m.time.nanosecond())
        .unwrap_or_default();
    DeadLetter {
        sequence: m.sequence,
        service: header(&m.headers, headers::DLQ_SERVICE).unwrap_or_default(),
        original_subject: header(&m.headers, headers::DLQ_SUBJECT).unwrap_or_default(),
        original_msg_id: header(&m.headers, headers::DLQ_MSG_ID),
        error: header(&m.headers, headers::DLQ_ERROR).unwrap_or_default(),
        delivered: header(&m.headers, headers::DLQ_DELIVERED).unwrap_or_default(),
        time,
        payload: m.payload.to_vec(),
    }
}

/// Every dead letter of the region, oldest first; only `service`'s when given.
pub async fn list(
    js: &jetstream::Context,
    subjects: &Subjects,
    service: Option<&str>,
) -> Result<Vec<DeadLetter>, DlqError> {
    let Some(mut stream) = stream(js, subjects).await? else {
        return Ok(Vec::new());
    };
    let state = stream.info().await.map_err(nats_error)?.state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return Ok(out);
    }
    for seq in state.first_sequence..=state.last_sequence {
        // Replayed and discarded letters are deleted, leaving gaps.
        let Ok(m) = stream.get_raw_message(seq).await else {
            continue;
        };
        let letter = letter(m);
        if service.is_none_or(|s| s == letter.service) {
            out.push(letter);
        }
    }
    Ok(out)
}

/// Dead letter `sequence`.
pub async fn get(
    js: &jetstream::Context,
    subjects: &Subjects,
    sequence: u64,
) -> Result<DeadLetter, DlqError> {
    let stream = stream(js, subjects)
        .await?
        .ok_or(DlqError::NotFound(sequence))?;
    let m = stream
        .get_raw_message(sequence)
        .await
        .map_err(|_| DlqError::NotFound(sequence))?;
    Ok(letter(m))
}

/// Publishes dead letter `sequence` to its original subject again, then deletes it.
pub async fn replay(
    js: &jetstream::Context,
    subjects: &Subjects,
    sequence: u64,
) -> Result<DeadLetter, DlqError> {
    let letter = get(js, subjects, sequence).await?;
    if letter.original_subject.is_empty() {
        return Err(DlqError::NoOrigin(sequence));
    }
    let mut h = HeaderMap::new();
    h.insert(
        headers::MSG_ID,
        format!("replay:{}:{sequence}", subjects.dead_letter_stream().name).as_str(),
    );
    js.publish_with_headers(
        letter.original_subject.clone(),
        h,
        letter.payload.clone().into(),
    )
    .await
    .map_err(nats_error)?
    .await
    .map_err(nats_error)?;
    delete(js, subjects, sequence).await?;
    Ok(letter)
}

/// Deletes dead letter `sequence` without replaying it (it is not to be handled at all).
pub async fn discard(
    js: &jetstream::Context,
    subjects: &Subjects,
    sequence: u64,
) -> Result<DeadLetter, DlqError> {
    let letter = get(js, subjects, sequence).await?;
    delete(js, subjects, sequence).await?;
    Ok(letter)
}

async fn delete(
    js: &jetstream::Context,
    subjects: &Subjects,
    sequence: u64,
) -> Result<(), DlqError> {
    let stream = stream(js, subjects)
        .await?
        .ok_or(DlqError::NotFound(sequence))?;
    // Another coordinator may have settled it a moment ago.
    match stream.delete_message(sequence).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(DlqError::NotFound(sequence)),
        Err(e) => {
            if e.to_string().contains("no message found") {
                Err(DlqError::NotFound(sequence))
            } else {
                Err(nats_error(e))
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    // Header values must be one line.
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    one_line.chars().take(max).collect()
}
