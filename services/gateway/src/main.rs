//! The gateway as its own process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = rcn_runtime::Config::from_env()?;
    let settings = rcn_gateway::Settings::from_env()?;
    let _telemetry = rcn_runtime::telemetry::init(&config, "rcn-gateway");
    rcn_runtime::metrics::serve_configured(&config).await?;
    let ctx = rcn_runtime::Ctx::connect(config, "rcn-gateway").await?;
    rcn_gateway::run(ctx, settings, rcn_runtime::shutdown_signal()).await
}
