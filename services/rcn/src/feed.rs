//! Sends synthetic notices to a running stack over NATS, as a detention institution with its own
//! NATS account would, and reports what intake answered.

use std::time::Duration;

use rcn_contracts::intake::SubmitReply;
use rcn_contracts::region::RegionTable;
use rcn_runtime::{CancellationToken, Config};

use crate::demo::DemoGenerator;

/// Submits `rate` notices per second until `stop`, logging a tally every ten seconds.
pub async fn run_demo(config: &Config, rate: f64, stop: CancellationToken) -> anyhow::Result<()> {
    let nats =
        rcn_runtime::nats::connect(config.nats_url()?, "rcn-demo-feed", Duration::from_secs(30))
            .await?;
    let region = match &config.region_file {
        Some(path) => RegionTable::load(path)?,
        None => RegionTable::kennemerland(),
    };
    let mut demo = DemoGenerator::new(region, rand::random());
    let subject = config.region.subjects().intake_submit();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut report = tokio::time::interval(Duration::from_secs(10));
    let (mut accepted, mut rejected, mut failed) = (0u64, 0u64, 0u64);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = report.tick() => {
                tracing::info!(accepted, rejected, failed, "demo feed");
            }
            _ = tick.tick() => {
                let notice = demo.next_notice(chrono::Utc::now());
                let body = serde_json::to_vec(&notice)?;
                match nats.request(subject.clone(), body.into()).await {
                    Ok(reply) => match serde_json::from_slice::<SubmitReply>(&reply.payload) {
                        Ok(SubmitReply::Accepted { .. }) => accepted += 1,
                        Ok(SubmitReply::Rejected { problems }) => {
                            rejected += 1;
                            tracing::warn!(?problems, "demo notice rejected");
                        }
                        _ => failed += 1,
                    },
                    Err(e) => {
                        failed += 1;
                        tracing::debug!(error = %e, "demo notice not answered");
                    }
                }
            }
        }
    }
    Ok(())
}
