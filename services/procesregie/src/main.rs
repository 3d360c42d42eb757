//! The procesregie service as its own process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = rcn_runtime::Config::from_env()?;
    let settings = rcn_procesregie::Settings::from_env()?;
    let _telemetry = rcn_runtime::telemetry::init(&config, "rcn-procesregie");
    let ctx = rcn_runtime::Ctx::connect(config, "rcn-procesregie").await?;
    rcn_procesregie::run(ctx, settings, rcn_runtime::shutdown_signal()).await
}
