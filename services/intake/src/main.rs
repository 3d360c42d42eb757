//! The intake service as its own process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = rcn_runtime::Config::from_env()?;
    let _telemetry = rcn_runtime::telemetry::init(&config, "rcn-intake");
    rcn_runtime::metrics::serve_configured(&config).await?;
    let ctx = rcn_runtime::Ctx::connect(config, "rcn-intake").await?;
    rcn_intake::run(ctx, rcn_runtime::shutdown_signal()).await
}
