//! The RCN's view of the dead-letter queue: list what a service gave up on, inspect one message,
//! and replay it to its original subject once the cause is fixed (`rcn dlq …`).
//!
//! A replay is published with a new `Nats-Msg-Id` (`replay:<stream>:<seq>`): the original id may
//! still be inside the duplicate window, and consumers are idempotent on natural keys anyway.
//! The dead letter is deleted only after the replay's PubAck.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream::Stream};
use rcn_contracts::Subjects;
use rcn_runtime::headers;

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub sequence: u64,
    pub service: String,
    pub original_subject: String,
    pub original_msg_id: Option<String>,
    pub error: String,
    pub delivered: String,
    pub time: String,
    pub payload: Vec<u8>,
}

async fn stream(js: &jetstream::Context, subjects: &Subjects) -> anyhow::Result<Option<Stream>> {
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
        Err(e) => Err(anyhow::anyhow!(
            "cannot read the dead-letter stream {name}: {e}"
        )),
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).map(|v| v.as_str().to_owned())
}

/// A stored dead letter, read back from its headers.
fn letter(m: jetstream::message::StreamMessage) -> DeadLetter {
    DeadLetter {
        sequence: m.sequence,
        service: header(&m.headers, headers::DLQ_SERVICE).unwrap_or_default(),
        original_subject: header(&m.headers, headers::DLQ_SUBJECT).unwrap_or_default(),
        original_msg_id: header(&m.headers, headers::DLQ_MSG_ID),
        error: header(&m.headers, headers::DLQ_ERROR).unwrap_or_default(),
        delivered: header(&m.headers, headers::DLQ_DELIVERED).unwrap_or_default(),
        time: m.time.to_string(),
        payload: m.payload.to_vec(),
    }
}

/// Every dead letter of the region, oldest first; only `service`'s when given.
pub async fn list(
    js: &jetstream::Context,
    subjects: &Subjects,
    service: Option<&str>,
) -> anyhow::Result<Vec<DeadLetter>> {
    let Some(mut stream) = stream(js, subjects).await? else {
        return Ok(Vec::new());
    };
    let state = stream.info().await?.state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return Ok(out);
    }
    for seq in state.first_sequence..=state.last_sequence {
        // Replayed letters are deleted, leaving gaps.
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

/// Dead letter `sequence`, or a message saying there is none.
pub async fn get(
    js: &jetstream::Context,
    subjects: &Subjects,
    sequence: u64,
) -> anyhow::Result<DeadLetter> {
    let missing =
        || anyhow::anyhow!("no dead letter with sequence {sequence}; `rcn dlq list` shows them");
    let stream = stream(js, subjects).await?.ok_or_else(missing)?;
    let m = stream
        .get_raw_message(sequence)
        .await
        .map_err(|_| missing())?;
    Ok(letter(m))
}

/// Publishes dead letter `sequence` to its original subject again, then deletes it.
pub async fn replay(
    js: &jetstream::Context,
    subjects: &Subjects,
    sequence: u64,
) -> anyhow::Result<DeadLetter> {
    let letter = get(js, subjects, sequence).await?;
    if letter.original_subject.is_empty() {
        anyhow::bail!(
            "dead letter {sequence} does not say where it came from; it cannot be replayed"
        );
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
    .await?
    .await?;
    js.get_stream(subjects.dead_letter_stream().name)
        .await?
        .delete_message(sequence)
        .await?;
    Ok(letter)
}
