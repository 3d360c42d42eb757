//! Sends synthetic notices to a running stack over NATS, as a detention institution with its own
//! NATS account would, and reports what intake answered.
//!
//! The feed starts when intake listens: until intake answers for the first time, a notice that
//! finds no responder is held and sent again, so a stack that is still starting never shows up as
//! failed submissions. Once intake has answered, a missing responder is a real failure.

use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use rcn_contracts::intake::SubmitReply;
use rcn_contracts::region::RegionTable;
use rcn_runtime::{CancellationToken, Config};

use crate::demo::DemoGenerator;

/// How long the feed waits for intake to start listening before it gives up.
const INTAKE_START_PATIENCE: Duration = Duration::from_secs(60);
/// Between two looks for intake while it starts.
const INTAKE_START_POLL: Duration = Duration::from_millis(100);

/// What intake answered to the feed's notices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedTally {
    pub accepted: u64,
    pub rejected: u64,
    /// Not answered, or answered with something that is no `SubmitReply`.
    pub failed: u64,
}

/// Submits `rate` notices per second until `stop`, logging a tally every ten seconds, and returns
/// the final tally. The first notice waits until intake listens (at most a minute).
pub async fn run_demo(
    config: &Config,
    rate: f64,
    stop: CancellationToken,
) -> anyhow::Result<FeedTally> {
    // The feed submits on intake's plain submit subject, as a trusted component does. On a
    // server with a user per service (`rcn run`'s own) only the gateway's user may, and it reads
    // replies only under the gateway's inbox prefix, which the client name gives.
    let name = if config.service_nats_auth.iter().any(|(s, _)| s == "gateway") {
        "rcn-gateway"
    } else {
        "rcn-demo-feed"
    };
    let nats = rcn_runtime::nats::connect_as(
        config.nats_url()?,
        config.nats_auth_for("gateway"),
        name,
        Duration::from_secs(30),
    )
    .await?;
    let region = match &config.region_file {
        Some(path) => RegionTable::load(path)?,
        None => RegionTable::kennemerland(),
    };
    let mut demo = DemoGenerator::new(region, rand::random());
    let subject = config.region.subjects().intake_submit();

    let mut tally = FeedTally::default();
    let first = serde_json::to_vec(&demo.next_notice(chrono::Utc::now()))?;
    match wait_for_intake(&nats, &subject, first, &stop).await? {
        Some(answer) => tally.count(answer),
        None => return Ok(tally),
    }

    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut report = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = report.tick() => {
                tracing::info!(accepted = tally.accepted, rejected = tally.rejected, failed = tally.failed, "demo feed");
            }
            _ = tick.tick() => {
                let body = serde_json::to_vec(&demo.next_notice(chrono::Utc::now()))?;
                tally.count(nats.request(subject.clone(), body.into()).await);
            }
        }
    }
    Ok(tally)
}

type Answer = Result<async_nats::Message, async_nats::RequestError>;

impl FeedTally {
    fn count(&mut self, answer: Answer) {
        match answer {
            Ok(reply) => match serde_json::from_slice::<SubmitReply>(&reply.payload) {
                Ok(SubmitReply::Accepted { .. }) => self.accepted += 1,
                Ok(SubmitReply::Rejected { problems }) => {
                    self.rejected += 1;
                    tracing::warn!(?problems, "demo notice rejected");
                }
                _ => self.failed += 1,
            },
            Err(e) => {
                self.failed += 1;
                tracing::debug!(error = %e, "demo notice not answered");
            }
        }
    }
}

/// Sends `body` until intake answers it; `None` when `stop` came first.
async fn wait_for_intake(
    nats: &Client,
    subject: &str,
    body: Vec<u8>,
    stop: &CancellationToken,
) -> anyhow::Result<Option<Answer>> {
    let deadline = tokio::time::Instant::now() + INTAKE_START_PATIENCE;
    loop {
        let answer = tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            answer = nats.request(subject.to_owned(), body.clone().into()) => answer,
        };
        match answer {
            Err(e) if e.kind() == RequestErrorKind::NoResponders => {
                if tokio::time::Instant::now() >= deadline {
                    anyhow::bail!(
                        "intake did not start listening on {subject} within {INTAKE_START_PATIENCE:?}"
                    );
                }
                tokio::select! {
                    _ = stop.cancelled() => return Ok(None),
                    _ = tokio::time::sleep(INTAKE_START_POLL) => {}
                }
            }
            answer => return Ok(Some(answer)),
        }
    }
}
