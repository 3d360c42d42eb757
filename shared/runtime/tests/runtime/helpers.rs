//! Typed helpers for the runtime tests: a scripted handler that records what the consumer loop
//! did with it, a consumer running in a task, and looks into streams and consumers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer, message::StreamMessage};
use rcn_contracts::{StreamDef, Subjects};
use rcn_runtime::consumer::{ConsumerSpec, Delivery, Handler, HandlerError};
use rcn_runtime::testing::{TestEnv, eventually};
use rcn_runtime::{CancellationToken, headers};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

/// How long a test waits for something asynchronous to happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The message the test consumers read: small, and nothing like a real event on purpose.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ping {
    pub n: u32,
}

/// One call of the handler for one message.
#[derive(Debug, Clone)]
pub struct Call {
    pub n: u32,
    pub delivered: i64,
    pub batch_len: usize,
    pub at: Instant,
}

/// Decides, per message number and delivery count, whether handling fails and how.
pub type Script = Box<dyn Fn(u32, i64) -> Option<HandlerError> + Send + Sync>;

/// A handler whose failures are scripted. Like a real one it commits a batch all or nothing:
/// `committed` only grows by whole batches that succeeded.
pub struct Recorder {
    script: Script,
    /// How long each call takes, as a slow database would make it.
    pause: Duration,
    calls: Mutex<Vec<Call>>,
    committed: Mutex<Vec<u32>>,
}

impl Recorder {
    pub fn new(
        script: impl Fn(u32, i64) -> Option<HandlerError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            script: Box::new(script),
            pause: Duration::ZERO,
            calls: Mutex::default(),
            committed: Mutex::default(),
        })
    }

    /// A handler that never fails.
    pub fn succeeding() -> Arc<Self> {
        Self::new(|_, _| None)
    }

    /// A handler that never fails but takes `pause` for every batch.
    pub fn slow(pause: Duration) -> Arc<Self> {
        Arc::new(Self {
            script: Box::new(|_, _| None),
            pause,
            calls: Mutex::default(),
            committed: Mutex::default(),
        })
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("not poisoned").clone()
    }

    /// Calls for message `n`, in order.
    pub fn calls_for(&self, n: u32) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.n == n).collect()
    }

    /// Message numbers whose handling was committed, in commit order (with repeats, if any).
    pub fn committed(&self) -> Vec<u32> {
        self.committed.lock().expect("not poisoned").clone()
    }

    /// Waits until every message in `ns` has been committed.
    pub async fn wait_committed(&self, ns: &[u32]) {
        eventually(
            PATIENCE,
            &format!("messages {ns:?} to be handled"),
            || async {
                let done = self.committed();
                ns.iter().all(|n| done.contains(n)).then_some(())
            },
        )
        .await;
    }
}

impl Handler for Recorder {
    type Message = Ping;

    async fn handle(&self, batch: &[Delivery<Ping>]) -> Result<(), HandlerError> {
        let mut failure = None;
        for d in batch {
            self.calls.lock().expect("not poisoned").push(Call {
                n: d.message.n,
                delivered: d.delivered,
                batch_len: batch.len(),
                at: Instant::now(),
            });
            if failure.is_none() {
                failure = (self.script)(d.message.n, d.delivered);
            }
        }
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        match failure {
            Some(e) => Err(e),
            None => {
                self.committed
                    .lock()
                    .expect("not poisoned")
                    .extend(batch.iter().map(|d| d.message.n));
                Ok(())
            }
        }
    }
}

/// A transient failure, as a database that is down would give.
pub fn transient(why: &str) -> HandlerError {
    HandlerError::Transient(anyhow::anyhow!("{why}"))
}

/// A dependency that is down, as PostgreSQL restarting would give.
pub fn unavailable(why: &str) -> HandlerError {
    HandlerError::Unavailable(anyhow::anyhow!("{why}"))
}

/// A permanent failure, as a message breaking a rule would give.
pub fn permanent(why: &str) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{why}"))
}

/// The region's subjects and a JetStream context on a fresh test environment.
pub struct Setup {
    _env: TestEnv,
    pub subjects: Subjects,
    pub js: jetstream::Context,
}

impl Setup {
    /// A fresh environment with the NOTICES stream in place, so tests can publish before a
    /// consumer starts.
    pub async fn new() -> Self {
        let env = TestEnv::new().await;
        let subjects = env.config.region.subjects();
        let js = env.ctx("runtime-test").await.jetstream();
        env.provision(&[rcn_runtime::provision::Resources::new("tester")
            .stream(subjects.notices_stream())
            .stream(subjects.dead_letter_stream())])
            .await;
        Self {
            _env: env,
            subjects,
            js,
        }
    }

    /// A consumer of the NOTICES stream with rcn's defaults, made fast and small for tests.
    pub fn spec(&self) -> ConsumerSpec {
        let mut spec = ConsumerSpec::new(
            &self.subjects,
            self.subjects.notices_stream(),
            "t-pings",
            self.subjects.notice_accepted(),
            "tester",
        );
        spec.backoff = vec![Duration::from_millis(100)];
        spec.batch = 8;
        spec.workers = 2;
        spec
    }

    /// Publishes ping `n` with `Nats-Msg-Id` = `ping-<n>` and waits for the PubAck.
    pub async fn publish_ping(&self, n: u32) {
        self.publish_raw(
            &format!("ping-{n}"),
            serde_json::to_vec(&Ping { n }).expect("serialises"),
        )
        .await;
    }

    /// Publishes any bytes to the consumer's subject.
    pub async fn publish_raw(&self, msg_id: &str, payload: Vec<u8>) {
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, msg_id);
        self.js
            .publish_with_headers(self.subjects.notice_accepted(), h, payload.into())
            .await
            .expect("sent")
            .await
            .expect("stored by JetStream");
    }

    /// Provisions the consumer (as `rcn provision` does), then starts `consumer::run` with
    /// `handler` in a task.
    pub fn start(&self, spec: ConsumerSpec, handler: Arc<Recorder>) -> Running {
        let shutdown = CancellationToken::new();
        let (js, stop) = (self.js.clone(), shutdown.clone());
        let handle = tokio::spawn(async move {
            let needs = rcn_runtime::provision::Resources::new("tester").consumer(spec.clone());
            rcn_runtime::provision::apply(&js, &[needs])
                .await
                .expect("the consumer is provisioned");
            rcn_runtime::consumer::run(js, spec, handler, stop).await
        });
        Running {
            shutdown,
            handle: Some(handle),
        }
    }

    /// What the broker knows about the durable consumer (`None` until the loop created it).
    pub async fn consumer_info(&self, durable: &str) -> Option<consumer::Info> {
        let stream = self
            .js
            .get_stream(&self.subjects.notices_stream().name)
            .await
            .expect("the stream exists");
        stream.consumer_info(durable).await.ok()
    }

    /// Waits until the consumer exists and holds nothing: no message waiting, none delivered
    /// and unacked (a message nak'ed with a delay still counts as unacked).
    pub async fn wait_consumer_settled(&self, durable: &str) -> consumer::Info {
        eventually(
            PATIENCE,
            &format!("consumer {durable} to have nothing pending"),
            || async {
                let info = self.consumer_info(durable).await?;
                (info.num_pending == 0 && info.num_ack_pending == 0).then_some(info)
            },
        )
        .await
    }

    /// Every message of the dead-letter stream (none when it was never created).
    pub async fn dead_letters(&self) -> Vec<StreamMessage> {
        stream_messages(&self.js, &self.subjects.dead_letter_stream()).await
    }

    /// Waits until the dead-letter stream holds `n` messages, and returns them.
    pub async fn wait_dead_letters(&self, n: usize) -> Vec<StreamMessage> {
        eventually(PATIENCE, &format!("{n} dead letter(s)"), || async {
            let letters = self.dead_letters().await;
            (letters.len() >= n).then_some(letters)
        })
        .await
    }
}

/// A consumer loop running in a task; cancelled when dropped.
pub struct Running {
    pub shutdown: CancellationToken,
    handle: Option<JoinHandle<()>>,
}

impl Running {
    /// Cancels the loop and returns how long it took to return.
    pub async fn stop(mut self) -> Duration {
        let started = Instant::now();
        self.shutdown.cancel();
        let handle = self.handle.take().expect("not stopped yet");
        tokio::time::timeout(PATIENCE, handle)
            .await
            .expect("the consumer stops")
            .expect("the consumer did not panic");
        started.elapsed()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Every message a stream holds, in order (none when the stream does not exist).
pub async fn stream_messages(js: &jetstream::Context, def: &StreamDef) -> Vec<StreamMessage> {
    let Ok(mut stream) = js.get_stream(&def.name).await else {
        return Vec::new();
    };
    let state = stream.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return out;
    }
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(m) = stream.get_raw_message(seq).await {
            out.push(m);
        }
    }
    out
}

/// A header of a stored message, as text.
pub fn header<'a>(m: &'a StreamMessage, name: &str) -> Option<&'a str> {
    m.headers.get(name).map(|v| v.as_str())
}
