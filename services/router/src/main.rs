//! The router service as its own process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = rcn_runtime::Config::from_env()?;
    let settings = rcn_router::Settings::from_env()?;
    let _telemetry = rcn_runtime::telemetry::init(&config, "rcn-router");
    rcn_runtime::metrics::serve_configured(&config).await?;
    let ctx = rcn_runtime::Ctx::connect(config, "rcn-router").await?;
    rcn_router::run(ctx, settings, rcn_runtime::shutdown_signal()).await
}
