//! The dead-letter queue: where a message goes when a service gives up on it, with the error, the
//! original subject and payload, so the RCN can see it and replay it once the cause is fixed.

use async_nats::HeaderMap;
use async_nats::jetstream;

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
        if let Some(t) = orig.get(headers::TRACE_ID) {
            h.insert(headers::TRACE_ID, t.as_str());
        }
    }
    // The DLQ stream is provisioned with the consumer (`rcn provision`); without it the publish
    // fails and the message is nak'ed, so nothing is lost.
    js.publish_with_headers(spec.dead_letter_subject.clone(), h, m.payload.clone())
        .await?
        .await?;
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    // Header values must be one line.
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    one_line.chars().take(max).collect()
}
