//! Streams and durable consumers are made by an administrative step, not by the services: each
//! service declares what it needs on JetStream ([`Resources`]: the streams it publishes to, the
//! durable consumers it reads), `rcn provision` creates or updates all of it with the
//! provisioner's NATS user ([`apply`]), and a starting service only checks that its part is there
//! ([`require`]) and binds to it.
//!
//! So a service's NATS user needs no right to create, change, purge or delete a stream or a
//! consumer: it may read the info of its own streams and consumers, pull from its own durables,
//! ack, and publish its own subjects (`services/rcn/deploy/nats/accounts.conf`).
//!
//! [`apply`] is idempotent: what exists with the same settings is left alone, what changed is
//! updated in place (a stream keeps its messages, a consumer its position). It never deletes.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};
use rcn_contracts::StreamDef;

use crate::consumer::ConsumerSpec;
use crate::nats::{NatsError, ensure_stream, stream_config};
use crate::retention::RetentionPolicy;

/// What one service needs on JetStream.
#[derive(Debug, Clone)]
pub struct Resources {
    /// The service, as `rcn run --only` names it; start-up errors name it.
    pub service: &'static str,
    /// Streams of the service's own region it publishes to or reads: provisioned, and checked at
    /// start-up.
    pub streams: Vec<StreamDef>,
    /// Streams of other regions it publishes to (forwarding): provisioned so a forward is kept
    /// while that region is down; not checked at start-up (the service may not read their info).
    pub other_region_streams: Vec<StreamDef>,
    /// Its durable consumers, each with its stream and dead-letter stream.
    pub consumers: Vec<ConsumerSpec>,
    /// The region's retention rules: every stream keeps a message no longer than the shortest
    /// retention of the record classes it carries ([`RetentionPolicy::cap`]).
    pub retention: RetentionPolicy,
}

impl Resources {
    pub fn new(service: &'static str) -> Self {
        Self {
            service,
            streams: Vec::new(),
            other_region_streams: Vec::new(),
            consumers: Vec::new(),
            retention: RetentionPolicy::default(),
        }
    }

    /// The streams' limits follow `policy` (each service passes its `config.retention`).
    pub fn retention(mut self, policy: &RetentionPolicy) -> Self {
        self.retention = policy.clone();
        self
    }

    /// The streams of its own region, as they must be: capped by the retention rules.
    pub fn stream_defs(&self) -> impl Iterator<Item = StreamDef> + '_ {
        self.streams.iter().map(|d| self.retention.cap(d.clone()))
    }

    /// How long after its publication a message can still be delivered to the service, as
    /// provisioned (each stream capped by the retention rules): a stream the service consumes
    /// delivers it while it keeps it, and a copy dead-lettered in that time can be replayed (with
    /// its original id) while the dead-letter stream keeps it, so the longest of `stream +
    /// dead-letter stream` over its consumers. An id older than this is never seen again. `None`
    /// for a service that consumes no stream.
    pub fn longest_consumed_max_age(&self) -> Option<Duration> {
        self.consumers
            .iter()
            .map(|c| {
                self.retention.cap(c.stream.clone()).max_age
                    + self.retention.cap(c.dead_letter_stream.clone()).max_age
            })
            .max()
    }

    /// A stream of its own region the service publishes to.
    pub fn stream(mut self, def: StreamDef) -> Self {
        if !self.streams.iter().any(|s| s.name == def.name) {
            self.streams.push(def);
        }
        self
    }

    /// A stream of another region the service publishes to.
    pub fn other_region_stream(mut self, def: StreamDef) -> Self {
        self.other_region_streams.push(def);
        self
    }

    /// A durable consumer; its stream and dead-letter stream come with it.
    pub fn consumer(self, spec: ConsumerSpec) -> Self {
        let mut this = self
            .stream(spec.stream.clone())
            .stream(spec.dead_letter_stream.clone());
        this.consumers.push(spec);
        this
    }
}

/// Why provisioning, or a service's check of it, failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(
        "stream {stream} does not exist, and {service} may not create it: run `rcn provision` (as the NATS provisioner) first"
    )]
    MissingStream {
        service: &'static str,
        stream: String,
    },
    #[error(
        "durable consumer {consumer} on stream {stream} does not exist, and {service} may not create it: run `rcn provision` (as the NATS provisioner) first"
    )]
    MissingConsumer {
        service: &'static str,
        stream: String,
        consumer: String,
    },
    #[error(
        "durable consumer {consumer} on stream {stream} reads {found}, but {service} expects {expected}: run `rcn provision` to update it"
    )]
    WrongFilter {
        service: &'static str,
        stream: String,
        consumer: String,
        found: String,
        expected: String,
    },
    #[error(
        "{service} cannot look up {what} ({reason}); its NATS user must be allowed the JetStream info request for it, and NATS must run JetStream"
    )]
    Unreadable {
        service: &'static str,
        what: String,
        reason: String,
    },
    #[error(
        "stream {stream} keeps messages for {}, longer than the retention it carries allows ({}): run `rcn provision` to update it",
        humantime::format_duration(*found),
        humantime::format_duration(*limit)
    )]
    KeepsTooLong {
        service: &'static str,
        stream: String,
        found: Duration,
        limit: Duration,
    },
    #[error("two services define stream {0} differently; their definitions must agree")]
    Conflict(String),
    #[error(transparent)]
    Stream(#[from] NatsError),
    #[error("cannot create or update durable consumer {consumer} on stream {stream}: {reason}")]
    Consumer {
        stream: String,
        consumer: String,
        reason: String,
    },
}

/// What [`apply`] did to one stream or consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        })
    }
}

/// What [`apply`] did, stream by stream and consumer by consumer, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Stream name and what happened to it.
    pub streams: Vec<(String, Change)>,
    /// `<stream>/<durable>` and what happened to it.
    pub consumers: Vec<(String, Change)>,
}

/// Creates or updates every stream and durable consumer the `services` need. Needs a NATS user
/// with the JetStream API (the provisioner); idempotent.
pub async fn apply(
    js: &jetstream::Context,
    services: &[Resources],
) -> Result<Report, ProvisionError> {
    let mut streams: BTreeMap<String, StreamDef> = BTreeMap::new();
    let mut consumers: BTreeMap<(&str, &str), &ConsumerSpec> = BTreeMap::new();
    for r in services {
        let defs = r.stream_defs().chain(
            r.other_region_streams
                .iter()
                .map(|d| r.retention.cap(d.clone())),
        );
        for def in defs {
            if let Some(known) = streams.insert(def.name.clone(), def.clone())
                && known != def
            {
                return Err(ProvisionError::Conflict(def.name.clone()));
            }
        }
        for spec in &r.consumers {
            consumers.insert((spec.stream.name.as_str(), spec.durable.as_str()), spec);
        }
    }
    let mut report = Report::default();
    for def in streams.values() {
        let change = provision_stream(js, def).await?;
        tracing::info!(stream = %def.name, %change, "stream provisioned");
        report.streams.push((def.name.clone(), change));
    }
    for spec in consumers.values() {
        let change = provision_consumer(js, spec).await?;
        tracing::info!(stream = %spec.stream.name, consumer = %spec.durable, %change, "consumer provisioned");
        report
            .consumers
            .push((format!("{}/{}", spec.stream.name, spec.durable), change));
    }
    Ok(report)
}

async fn provision_stream(
    js: &jetstream::Context,
    def: &StreamDef,
) -> Result<Change, ProvisionError> {
    let before = match js.get_stream(&def.name).await {
        Ok(s) => Some(s.cached_info().config.clone()),
        Err(e) if is_not_found_stream(&e) => None,
        Err(e) => {
            return Err(NatsError::StreamInfo {
                name: def.name.clone(),
                reason: e.to_string(),
            }
            .into());
        }
    };
    let wanted = stream_config(def);
    match before {
        Some(existing) if same_stream(&existing, &wanted) => Ok(Change::Unchanged),
        Some(_) => {
            ensure_stream(js, def).await?;
            Ok(Change::Updated)
        }
        None => {
            ensure_stream(js, def).await?;
            Ok(Change::Created)
        }
    }
}

/// Whether the settings rcn chooses are what the server has (the server fills in the rest).
fn same_stream(existing: &stream::Config, wanted: &stream::Config) -> bool {
    existing.subjects == wanted.subjects
        && existing.description == wanted.description
        && existing.storage == wanted.storage
        && existing.retention == wanted.retention
        && existing.max_age == wanted.max_age
        && existing.duplicate_window == wanted.duplicate_window
        && existing.num_replicas.max(1) == wanted.num_replicas.max(1)
        && existing.allow_direct == wanted.allow_direct
}

async fn provision_consumer(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
) -> Result<Change, ProvisionError> {
    let wanted = spec.consumer_config();
    let failed = |reason: String| ProvisionError::Consumer {
        stream: spec.stream.name.clone(),
        consumer: spec.durable.clone(),
        reason,
    };
    let stream = js
        .get_stream(&spec.stream.name)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let change = match stream.consumer_info(&spec.durable).await {
        Ok(info) if same_consumer(&info.config, &wanted) => return Ok(Change::Unchanged),
        Ok(_) => Change::Updated,
        Err(e) if is_consumer_not_found(&e) => Change::Created,
        Err(e) => return Err(failed(e.to_string())),
    };
    // Create, or update in place (the server keeps the consumer's position).
    stream
        .create_consumer(wanted)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(change)
}

/// Whether the settings rcn chooses are what the server has.
fn same_consumer(existing: &jetstream::consumer::Config, wanted: &pull::Config) -> bool {
    existing.durable_name == wanted.durable_name
        && existing.description == wanted.description
        && existing.deliver_policy == wanted.deliver_policy
        && existing.ack_policy == wanted.ack_policy
        && existing.ack_wait == wanted.ack_wait
        && existing.max_deliver == wanted.max_deliver
        && existing.filter_subject == wanted.filter_subject
        && existing.max_ack_pending == wanted.max_ack_pending
}

/// Checks that the streams and durable consumers `needs` names exist, as a service starts: a
/// service never creates them (its NATS user may not), so a missing one stops start-up with an
/// error that names it and says to run `rcn provision`. Asks only what a service's NATS user may:
/// the info of its own streams and consumers.
pub async fn require(js: &jetstream::Context, needs: &Resources) -> Result<(), ProvisionError> {
    let service = needs.service;
    for def in needs.stream_defs() {
        match js.get_stream(&def.name).await {
            Ok(s)
                if s.cached_info().config.max_age.is_zero()
                    || s.cached_info().config.max_age > def.max_age =>
            {
                return Err(ProvisionError::KeepsTooLong {
                    service,
                    stream: def.name.clone(),
                    found: s.cached_info().config.max_age,
                    limit: def.max_age,
                });
            }
            Ok(_) => {}
            Err(e) if is_not_found_stream(&e) => {
                return Err(ProvisionError::MissingStream {
                    service,
                    stream: def.name.clone(),
                });
            }
            Err(e) => {
                return Err(ProvisionError::Unreadable {
                    service,
                    what: format!("stream {}", def.name),
                    reason: e.to_string(),
                });
            }
        }
    }
    for spec in &needs.consumers {
        let stream = js
            .get_stream_no_info(&spec.stream.name)
            .await
            .map_err(|e| ProvisionError::Unreadable {
                service,
                what: format!("stream {}", spec.stream.name),
                reason: e.to_string(),
            })?;
        match stream.consumer_info(&spec.durable).await {
            Ok(info) if info.config.filter_subject != spec.filter_subject => {
                return Err(ProvisionError::WrongFilter {
                    service,
                    stream: spec.stream.name.clone(),
                    consumer: spec.durable.clone(),
                    found: info.config.filter_subject.clone(),
                    expected: spec.filter_subject.clone(),
                });
            }
            Ok(info) => {
                if !same_consumer(&info.config, &spec.consumer_config()) {
                    tracing::warn!(service, stream = %spec.stream.name, consumer = %spec.durable,
                        "the durable consumer's settings differ from this service's; run `rcn provision` to update them");
                }
            }
            Err(e) if is_consumer_not_found(&e) => {
                return Err(ProvisionError::MissingConsumer {
                    service,
                    stream: spec.stream.name.clone(),
                    consumer: spec.durable.clone(),
                });
            }
            Err(e) => {
                return Err(ProvisionError::Unreadable {
                    service,
                    what: format!(
                        "durable consumer {} on stream {}",
                        spec.durable, spec.stream.name
                    ),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

fn is_not_found_stream(e: &jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(js)
        if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND)
}

fn is_consumer_not_found(e: &jetstream::context::ConsumerInfoError) -> bool {
    matches!(
        e.kind(),
        jetstream::context::ConsumerInfoErrorKind::NotFound
            | jetstream::context::ConsumerInfoErrorKind::StreamNotFound
    )
}

/// How long `rcn provision` waits for NATS before giving up.
pub const PATIENCE: Duration = Duration::from_secs(30);
