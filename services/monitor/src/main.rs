//! The monitor service as its own process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = rcn_runtime::Config::from_env()?;
    let settings = rcn_monitor::Settings::from_env()?;
    let _telemetry = rcn_runtime::telemetry::init(&config, "rcn-monitor");
    rcn_runtime::metrics::serve_configured(&config).await?;
    let ctx = rcn_runtime::Ctx::connect(config, "rcn-monitor").await?;
    rcn_monitor::run(ctx, settings, rcn_runtime::shutdown_signal()).await
}
