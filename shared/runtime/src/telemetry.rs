//! One tracing set-up for every binary: log lines filtered by `RUST_LOG` (default `info`), text
//! or JSON; and, when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`), rcn's own
//! spans exported over OTLP/HTTP (protobuf) with the service's name as `service.name`.
//!
//! Log lines carry ids and pseudonyms, never a BSN: the value types mask themselves. Exported
//! spans are rcn's own spans at `info` and above (never a library's, never log events), so what
//! leaves is span names and their declared fields: ids, subjects, outcomes, durations. Without
//! an endpoint no exporter exists and no extra span is made.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::Config;

/// The running tracing set-up; dropping it (at the end of `main`) sends the spans still
/// buffered.
#[must_use = "spans are flushed when this is dropped at the end of main"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("exporting", &self.provider.is_some())
            .finish()
    }
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Sends what the batch holds; bounded, so a dead collector cannot hold up the exit.
            if let Err(e) = provider.shutdown_with_timeout(std::time::Duration::from_secs(5)) {
                tracing::warn!(error = %e, "the last spans could not be exported");
            }
        }
    }
}

/// Installs the global subscriber for the process running `service` (its `service.name`, e.g.
/// `rcn-intake`; `OTEL_SERVICE_NAME` overrides it). A second call (tests) installs nothing.
pub fn init(config: &Config, service: &str) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn"));
    let logs = if config.log_json {
        tracing_subscriber::fmt::layer()
            .with_target(true)
            .json()
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_target(true)
            .with_filter(filter)
            .boxed()
    };
    let (provider, problem) = match config.otlp_traces_endpoint.as_deref() {
        None => (None, None),
        Some(endpoint) => {
            let name = config.otel_service_name.as_deref().unwrap_or(service);
            match provider(endpoint, name) {
                Ok(p) => (Some(p), None),
                Err(e) => (None, Some(e)),
            }
        }
    };
    let spans = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("rcn"))
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_filter(
                filter_fn(|meta| {
                    meta.is_span()
                        && meta.target().starts_with("rcn")
                        && *meta.level() <= Level::INFO
                })
                .with_max_level_hint(Level::INFO),
            )
    });
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()
        .is_ok();
    if let Some(e) = problem {
        tracing::warn!(error = %e, "spans are not exported: the OTLP exporter could not be made");
    } else if installed && let Some(endpoint) = &config.otlp_traces_endpoint {
        tracing::info!(%endpoint, "exporting spans over OTLP/HTTP");
    }
    Telemetry {
        provider: provider.filter(|_| installed),
    }
}

/// The tracer provider: OTLP/HTTP protobuf to `endpoint` (the full `/v1/traces` URL), batched
/// on the SDK's own thread (`OTEL_BSP_*` tune it; `OTEL_EXPORTER_OTLP_HEADERS` and `…_TIMEOUT`
/// are read by the exporter).
fn provider(endpoint: &str, service: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service.to_owned())
                .build(),
        )
        .build())
}

/// For tests: logs go through the test harness's capture and are shown only for failing tests.
pub fn init_for_tests() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
