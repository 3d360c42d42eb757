//! `rcn retention`: runs every service's retention job now, shows what the next run would remove
//! (`--dry-run`: the same statements, rolled back), or prints the services' deletion logs. Each
//! job works in its own service's schema on that service's database URL, exactly as the daily job
//! inside the service does; nothing here reads personal data, only counts.

use rcn_runtime::Config;
use rcn_runtime::retention::{Clock, LogEntry, Removed};
use std::sync::Arc;

use crate::stack::Service;

/// What one service's job removed, or would remove.
#[derive(Debug, Clone)]
pub struct ServiceReport {
    pub service: &'static str,
    pub removed: Vec<Removed>,
}

/// Runs (or with `dry_run`, rehearses) the retention job of every service that has one, on
/// `clock` (the system clock outside tests).
pub async fn run(
    config: &Config,
    dry_run: bool,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Vec<ServiceReport>> {
    let mut reports = Vec::new();
    for service in Service::all() {
        let Some(open) = service.retention else {
            continue;
        };
        let job = open(config).await?.with_clock(clock.clone());
        let removed = if dry_run {
            job.dry_run().await?
        } else {
            job.run_once().await?
        };
        job.pool.close().await;
        reports.push(ServiceReport {
            service: service.name,
            removed,
        });
    }
    Ok(reports)
}

/// The newest `limit` lines of every service's deletion log.
pub async fn log(config: &Config, limit: i64) -> anyhow::Result<Vec<(&'static str, LogEntry)>> {
    let mut lines = Vec::new();
    for service in Service::all() {
        let Some(open) = service.retention else {
            continue;
        };
        let job = open(config).await?;
        let entries = rcn_runtime::retention::log(&job.pool, limit).await?;
        job.pool.close().await;
        lines.extend(entries.into_iter().map(|e| (service.name, e)));
    }
    Ok(lines)
}

/// The reports as a table: service, class, count, rule.
pub fn describe(reports: &[ServiceReport], dry_run: bool) -> String {
    let verb = if dry_run { "would remove" } else { "removed" };
    let mut out = format!("{:<12}  {:<10}  {:>12}  rule\n", "service", "class", verb);
    for r in reports {
        for x in &r.removed {
            let count = if x.skipped {
                "skipped".to_owned()
            } else {
                x.count.to_string()
            };
            out.push_str(&format!(
                "{:<12}  {:<10}  {:>12}  {}\n",
                r.service, x.class, count, x.rule
            ));
        }
    }
    out
}

/// Deletion-log lines as a table.
pub fn describe_log(lines: &[(&'static str, LogEntry)]) -> String {
    let mut out = format!(
        "{:<12}  {:<25}  {:<10}  {:>8}  rule\n",
        "service", "run at (UTC)", "class", "removed"
    );
    for (service, e) in lines {
        out.push_str(&format!(
            "{:<12}  {:<25}  {:<10}  {:>8}  {}\n",
            service,
            e.run_at.format("%Y-%m-%d %H:%M:%S"),
            e.class,
            e.removed,
            e.rule
        ));
    }
    out
}
