//! `rcn provision`: creates or updates every stream and durable consumer the services need, with
//! an administrative NATS user (the `provisioner` of `deploy/nats/accounts.conf`), before the
//! services start. The services' own NATS users may not create, change, purge or delete streams
//! or consumers; they only bind to what this made, and stop at start-up naming what is missing.
//!
//! Idempotent: what exists with the same settings is left alone, what changed is updated in place
//! (messages and consumer positions kept); nothing is ever deleted. `rcn run` calls it too when it
//! has the rights (its own nats-server, a server without authorisation, or `--provision`), so
//! development and tests run the same code as a deployment.

use std::time::Duration;

use anyhow::Context as _;
use rcn_runtime::Config;
use rcn_runtime::provision::Report;

use crate::stack::Service;

/// How long provisioning waits for NATS to come up.
const PATIENCE: Duration = Duration::from_secs(30);

/// Provisions what `services` need on `config`'s NATS, as `config`'s NATS user.
pub async fn provision(config: &Config, services: &[&'static Service]) -> anyhow::Result<Report> {
    let needs = services
        .iter()
        .map(|s| (s.resources)(config).with_context(|| format!("what {} needs", s.name)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let nats = rcn_runtime::nats::connect_as(
        config.nats_url()?,
        &config.nats_auth,
        "rcn-provision",
        PATIENCE,
    )
    .await?;
    let report = rcn_runtime::provision::apply(&async_nats::jetstream::new(nats), &needs)
        .await
        .context("provisioning JetStream (this needs the provisioner's NATS user)")?;
    Ok(report)
}

/// The report as `rcn provision` prints it: one line per stream and consumer.
pub fn describe(report: &Report) -> String {
    let mut out = String::new();
    for (name, change) in &report.streams {
        out.push_str(&format!("stream   {name:<40} {change}\n"));
    }
    for (name, change) in &report.consumers {
        out.push_str(&format!("consumer {name:<40} {change}\n"));
    }
    out
}
