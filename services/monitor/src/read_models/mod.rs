//! The read models: one durable consumer per stream (NOTICES, ROUTING, CASES, PROCESREGIE, DLQ), each writing
//! only the monitor's own tables, idempotently (see `migrations/0001_read_models.sql`), one
//! transaction per batch. The same handlers serve `rcn monitor rebuild` ([`crate::rebuild`]).
//!
//! They must never store personal data: the events they read may carry a notice (with a BSN and
//! a name); only keys, codes, statuses and times are kept.

pub mod cases;
pub mod dead_letters;
pub mod notices;
pub mod procesregie;
pub mod routing;

use std::sync::Arc;

use async_nats::jetstream;
use rcn_contracts::Subjects;
use rcn_runtime::consumer::{self, ConsumerSpec, HandlerError};
use rcn_runtime::{CancellationToken, Config};
use sqlx::PgPool;

/// The service name in dead-letter subjects and metrics.
pub const SERVICE: &str = "monitor";

/// The smallest batch the monitor's consumers take (`RCN_CONSUMER_BATCH` when larger). A
/// batch's cost is mostly its statements, not its size: up to four writes and eight counter
/// refreshes, each planned and run once for the whole batch. During a back-fill or catch-up,
/// large batches keep the projections ahead; in live traffic a batch is what is ready, often one
/// message.
pub const MIN_BATCH: usize = 500;

/// Which stream a read model reads, under which durable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Notices,
    Routing,
    Cases,
    Procesregie,
    DeadLetters,
}

impl Feed {
    pub const ALL: [Feed; 5] = [
        Feed::Notices,
        Feed::Routing,
        Feed::Cases,
        Feed::Procesregie,
        Feed::DeadLetters,
    ];

    /// The durable consumer's name: one per purpose.
    pub fn durable(self) -> &'static str {
        match self {
            Feed::Notices => "monitor-notices",
            Feed::Routing => "monitor-routing",
            Feed::Cases => "monitor-cases",
            Feed::Procesregie => "monitor-procesregie",
            Feed::DeadLetters => "monitor-dead-letters",
        }
    }

    /// The consumer of this feed: the whole stream (every subject of it), so a replay from the
    /// start sees every message.
    pub fn spec(self, subjects: &Subjects, config: &Config) -> ConsumerSpec {
        let stream = match self {
            Feed::Notices => subjects.notices_stream(),
            Feed::Routing => subjects.routing_stream(),
            Feed::Cases => subjects.cases_stream(),
            Feed::Procesregie => subjects.procesregie_stream(),
            Feed::DeadLetters => subjects.dead_letter_stream(),
        };
        let filter = stream.subjects[0].clone();
        let mut spec = ConsumerSpec::new(subjects, stream, self.durable(), filter, SERVICE);
        spec.batch = config.consumer_batch.max(MIN_BATCH);
        spec.workers = config.consumer_workers.min(2);
        spec
    }
}

/// The handlers of every feed, on one pool (the live schema, or a rebuild's).
#[derive(Debug, Clone)]
pub struct Handlers {
    pub notices: Arc<notices::Notices>,
    pub routing: Arc<routing::Routing>,
    pub cases: Arc<cases::Cases>,
    pub procesregie: Arc<procesregie::Procesregie>,
    pub dead_letters: Arc<dead_letters::DeadLetters>,
}

impl Handlers {
    pub fn new(pool: PgPool, subjects: &Subjects) -> Self {
        Self {
            notices: Arc::new(notices::Notices { pool: pool.clone() }),
            routing: Arc::new(routing::Routing {
                pool: pool.clone(),
                prefix: format!("rcn.{}.routing.", subjects.region()),
            }),
            cases: Arc::new(cases::Cases {
                pool: pool.clone(),
                prefix: format!("rcn.{}.casework.", subjects.region()),
            }),
            procesregie: Arc::new(procesregie::Procesregie {
                pool: pool.clone(),
                prefix: format!("rcn.{}.procesregie.", subjects.region()),
            }),
            dead_letters: Arc::new(dead_letters::DeadLetters {
                pool,
                prefix: format!("rcn.{}.dlq.", subjects.region()),
            }),
        }
    }
}

/// Runs every feed's consumer until `shutdown`, then drains them.
pub async fn run(
    js: jetstream::Context,
    subjects: &Subjects,
    config: &Config,
    handlers: Handlers,
    shutdown: CancellationToken,
) {
    let spec = |feed: Feed| feed.spec(subjects, config);
    tokio::join!(
        consumer::run(
            js.clone(),
            spec(Feed::Notices),
            handlers.notices,
            shutdown.clone()
        ),
        consumer::run(
            js.clone(),
            spec(Feed::Routing),
            handlers.routing,
            shutdown.clone()
        ),
        consumer::run(
            js.clone(),
            spec(Feed::Cases),
            handlers.cases,
            shutdown.clone()
        ),
        consumer::run(
            js.clone(),
            spec(Feed::Procesregie),
            handlers.procesregie,
            shutdown.clone()
        ),
        consumer::run(js, spec(Feed::DeadLetters), handlers.dead_letters, shutdown),
    );
}

/// An event of a known kind that does not decode: it will never decode, so it is dead-lettered.
pub(crate) fn undecodable(what: &str, e: serde_json::Error) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{what} does not decode: {e}"))
}
