//! Prometheus metrics for every rcn process: one recorder per process (the `metrics` facade,
//! rendered by `metrics-exporter-prometheus`), served as `GET /metrics` on an operator address
//! of the service's settings. The shared parts record into it: the consumer loop (messages
//! handled, redelivered, retried, dead-lettered, and pending per consumer), the outbox relay
//! (backlog and the age of its oldest event, per schema) and the endpoint kit (request latency
//! per service, endpoint and outcome). A process serves it when `RCN_METRICS_ADDR` is set
//! ([`serve_configured`]); under the launcher one address shows every service of the process.
//!
//! Labels name consumers, schemas, services, endpoints and outcomes — never a subject with a
//! value from a message, a notice key, a user or anything personal.
//!
//! Alerts an operator can wire: dead letters waiting (`rate(rcn_consumer_messages_total
//! {outcome="dead_lettered"}[15m]) > 0`), outbox older than a minute (`rcn_outbox_oldest_seconds
//! > 60`), consumer lag growing (`deriv(rcn_consumer_pending[10m]) > 0`).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Latency buckets in seconds: 1 ms to 30 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// The longest request head a scrape may send.
const MAX_REQUEST: usize = 8 * 1024;
/// How long a scraper gets to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed the first time it is asked for: every service in one
/// process records into the same one. When some other recorder was installed first, this one
/// still renders, but only what was recorded into it (nothing), and says so in the log.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will show nothing");
        }
        handle
    })
}

/// The current metrics in Prometheus' text format.
pub fn render() -> String {
    let handle = handle();
    handle.run_upkeep();
    handle.render()
}

/// Serves `GET /metrics` on `addr` until `shutdown`. Binds before returning, so a taken
/// address is an error at start-up, not later.
pub async fn serve(
    addr: SocketAddr,
    shutdown: CancellationToken,
) -> std::io::Result<JoinHandle<()>> {
    handle();
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "metrics listening on /metrics");
    Ok(tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = listener.accept() => a,
            };
            match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(answer(stream));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "metrics: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }))
}

/// Serves `/metrics` on the configuration's `RCN_METRICS_ADDR`, if set, for as long as the
/// process runs: the one line each process's `main` (and the launcher) calls.
pub async fn serve_configured(config: &crate::Config) -> std::io::Result<()> {
    if let Some(addr) = config.metrics_addr {
        serve(addr, CancellationToken::new()).await?;
    }
    Ok(())
}

/// One request, one answer, then the connection closes (what a scraper needs; no keep-alive).
async fn answer(mut stream: TcpStream) {
    let mut buf = Vec::with_capacity(1024);
    let head = tokio::time::timeout(READ_TIMEOUT, async {
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    if !head {
        return;
    }
    let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            render(),
        ),
        (_, "/metrics") => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "use GET\n".to_owned(),
        ),
        _ => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "metrics are at /metrics\n".to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn metrics_are_served_on_their_path_only() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let shutdown = tokio_util::sync::CancellationToken::new();
        // Bind a free port first to learn one; serve binds it again.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let server = super::serve(addr, shutdown.clone()).await.unwrap();
        metrics::counter!("rcn_test_total", "consumer" => "unit").increment(3);
        let get = |path: &'static str| async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let ok = get("/metrics").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK"), "{ok}");
        assert!(ok.contains("rcn_test_total{consumer=\"unit\"} 3"), "{ok}");
        let other = get("/").await;
        assert!(other.starts_with("HTTP/1.1 404"), "{other}");
        shutdown.cancel();
        server.await.unwrap();
    }
}
