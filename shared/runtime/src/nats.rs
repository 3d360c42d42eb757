//! NATS connection and idempotent stream set-up.
//!
//! Every client receives its replies under an inbox prefix of its own (`_INBOX_<service>`, see
//! [`inbox_prefix`]): a service's NATS user may subscribe only there, so no service reads the
//! replies meant for another.
//!
//! Streams are created or updated, never deleted: a change of a limit updates the stream in place
//! and keeps its messages. Only the provisioning step ([`crate::provision`], `rcn provision`)
//! does that, with an administrative NATS user; services only bind to what it made.

use std::time::Duration;

use crate::backoff::{self, Retryable};
use crate::nats_auth::NatsAuth;
use async_nats::jetstream::{self, stream};
use rcn_contracts::StreamDef;

#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot reach NATS at {url} after {waited:?}: {source}")]
    Connect {
        url: String,
        waited: Duration,
        source: async_nats::ConnectError,
    },
    #[error("cannot read the NATS credentials file (NATS_CREDS_FILE): {source}")]
    Credentials { source: std::io::Error },
    #[error("cannot look up stream {name}: {reason}")]
    StreamInfo { name: String, reason: String },
    #[error("cannot create or update stream {name}: {source}")]
    Stream {
        name: String,
        source: jetstream::context::CreateStreamError,
    },
}

/// Connects, retrying for up to `patience` so services may start before the server; once
/// connected the client reconnects on its own forever.
pub async fn connect(
    url: &str,
    name: &str,
    patience: Duration,
) -> Result<async_nats::Client, NatsError> {
    connect_as(url, &NatsAuth::None, name, patience).await
}

/// The inbox prefix of the client called `name`: `rcn-intake` receives its replies under
/// `_INBOX_intake.>`, the only inbox its NATS user may subscribe to (and `rcn-gateway` under
/// `_INBOX_gateway.>`). Characters a subject token cannot hold become `_`.
pub fn inbox_prefix(name: &str) -> String {
    let service = name.strip_prefix("rcn-").unwrap_or(name);
    let token: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("_INBOX_{token}")
}

/// [`connect`] with credentials. The credentials never appear in an error or a log line. The
/// client's replies arrive under [`inbox_prefix`]`(name)`.
pub async fn connect_as(
    url: &str,
    auth: &NatsAuth,
    name: &str,
    patience: Duration,
) -> Result<async_nats::Client, NatsError> {
    let started = tokio::time::Instant::now();
    let mut pauses = backoff::STARTUP.delays();
    loop {
        let options = auth
            .options()
            .await
            .map_err(|source| NatsError::Credentials { source })?
            .name(name)
            .custom_inbox_prefix(inbox_prefix(name))
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(5))
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Disconnected => {
                        tracing::warn!("NATS disconnected; reconnecting")
                    }
                    async_nats::Event::Connected => tracing::info!("NATS connected"),
                    other => tracing::debug!(%other, "NATS event"),
                }
            });
        match options.connect(url).await {
            Ok(client) => return Ok(client),
            Err(source) if started.elapsed() >= patience => {
                return Err(NatsError::Connect {
                    url: url.to_owned(),
                    waited: started.elapsed(),
                    source,
                });
            }
            Err(e) => {
                tracing::debug!(error = %e, "NATS not reachable yet");
                tokio::time::sleep(pauses.next().unwrap_or(backoff::STARTUP.max)).await;
            }
        }
    }
}

/// The file-backed JetStream configuration of a stream definition.
pub fn stream_config(def: &StreamDef) -> stream::Config {
    stream::Config {
        name: def.name.clone(),
        subjects: def.subjects.clone(),
        description: Some(def.description.to_owned()),
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: def.max_age,
        duplicate_window: def.duplicate_window,
        num_replicas: 1,
        allow_direct: true,
        ..Default::default()
    }
}

/// Creates the stream, or updates it in place when it exists with other settings. Needs the
/// JetStream API rights of the provisioner (services never call it; see [`crate::provision`]).
/// Two launchers racing to create the same stream is normal: the loser updates on its second try.
pub async fn ensure_stream(
    js: &jetstream::Context,
    def: &StreamDef,
) -> Result<stream::Info, NatsError> {
    let config = stream_config(def);
    (|| js.create_or_update_stream(config.clone()))
        .retry(backoff::STREAM_RACE.builder())
        .await
        .map_err(|source| NatsError::Stream {
            name: def.name.clone(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::inbox_prefix;

    #[test]
    fn each_service_gets_an_inbox_prefix_of_its_own() {
        assert_eq!(inbox_prefix("rcn-intake"), "_INBOX_intake");
        assert_eq!(inbox_prefix("rcn-gateway"), "_INBOX_gateway");
        assert_eq!(inbox_prefix("partner"), "_INBOX_partner");
        assert_eq!(inbox_prefix("a.b c*>"), "_INBOX_a_b_c__");
    }
}
