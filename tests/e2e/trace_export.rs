//! One notice is one trace (issue 15): gateway, intake, router and casework run as their own
//! processes (`rcn run --only <service>`, as production runs them) with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a small OTLP/HTTP collector in this test, which
//! decodes what they export (protobuf, `opentelemetry-proto`). A partner submits one notice with
//! its own `traceparent`; every service's spans must arrive in that trace, each hop the child of
//! the one before it, and no span may name the person.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;
use rcn_runtime::testing::eventually;
use rcn_tests::crash::Cluster;
use rcn_tests::release_notice_json;

/// A span as the collector received it.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    /// Every attribute, `key=value`, the value as text.
    attributes: Vec<String>,
}

/// The stand-in collector: accepts `POST /v1/traces` and keeps every span.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

impl Collector {
    async fn start(self) -> SocketAddr {
        let app = axum::Router::new()
            .route("/v1/traces", post(receive))
            .with_state(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the collector");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    fn in_trace(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        self.spans
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

async fn receive(
    State(collector): State<Collector>,
    body: Bytes,
) -> Result<([(&'static str, &'static str); 1], Vec<u8>), (axum::http::StatusCode, String)> {
    let request = ExportTraceServiceRequest::decode(body).map_err(|e| {
        (
            axum::http::StatusCode::BAD_REQUEST,
            format!("not an OTLP protobuf export: {e}"),
        )
    })?;
    let mut received = Vec::new();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .map(|kv| text(kv.value.as_ref()))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                received.push(ReceivedSpan {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: span.attributes.iter().map(attribute).collect(),
                });
            }
        }
    }
    collector
        .spans
        .lock()
        .expect("not poisoned")
        .extend(received);
    Ok((
        [("content-type", "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    ))
}

fn attribute(kv: &KeyValue) -> String {
    format!("{}={}", kv.key, text(kv.value.as_ref()))
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A free port of 127.0.0.1 for the gateway (it runs in another process).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test]
async fn a_partner_notice_is_one_trace_across_gateway_intake_router_and_casework() {
    let collector = Collector::default();
    let collector_addr = collector.clone().start().await;
    let mut cluster = Cluster::start("trace").await;
    let otel = [
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{collector_addr}"),
        ),
        // Export every 100 ms: the test reads the collector, not a flush at exit.
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ];
    let http = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut gateway_env = otel.to_vec();
    gateway_env.push(("RCN_HTTP_ADDR", http.to_string()));
    cluster.spawn_with("gateway", &gateway_env).await;
    for service in ["intake", "router", "casework"] {
        cluster.spawn_with(service, &otel).await;
    }

    let client = reqwest::Client::new();
    eventually(Duration::from_secs(60), "the gateway to be ready", || {
        let (client, url) = (client.clone(), format!("http://{http}/readyz"));
        async move {
            client
                .get(url)
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
        }
    })
    .await;
    let tokens = rcn_gateway::tokens::open(&cluster.database_url)
        .await
        .expect("the gateway's schema");
    let token = rcn_gateway::tokens::issue(
        &tokens,
        "PI-HAARLEM",
        None,
        rcn_gateway::tokens::Actor::CommandLine,
        None,
    )
    .await
    .expect("a token")
    .token;

    // The partner's own trace: a random trace id and the id of its span that sends the notice.
    let trace_id = hex(&rand::random::<[u8; 16]>());
    let partner_span = hex(&rand::random::<[u8; 8]>());
    let traceparent = format!("00-{trace_id}-{partner_span}-01");
    let notice = release_notice_json();
    let submit = || {
        client
            .post(format!("http://{http}/v1/release-notices"))
            .bearer_auth(&token)
            .header("traceparent", &traceparent)
            .header("tracestate", "pi=haarlem")
            .json(&notice)
    };
    // Intake registers its endpoint after its migrations: until then the gateway says 503.
    let response = eventually(Duration::from_secs(60), "intake to take the notice", || {
        let request = submit();
        async move { request.send().await.ok().filter(|r| r.status() == 202) }
    })
    .await;
    let traceresponse = response
        .headers()
        .get("traceresponse")
        .and_then(|v| v.to_str().ok())
        .expect("the gateway answers with traceresponse")
        .to_owned();
    assert!(
        traceresponse.starts_with(&format!("00-{trace_id}-")) && traceresponse.ends_with("-01"),
        "traceresponse {traceresponse} names the partner's trace"
    );

    let services = ["rcn-gateway", "rcn-intake", "rcn-router", "rcn-casework"];
    let spans = eventually(
        Duration::from_secs(60),
        "spans of every service in the notice's trace",
        || {
            let spans = collector.in_trace(&trace_id);
            let complete = services
                .iter()
                .all(|s| spans.iter().any(|span| span.service == *s))
                && spans
                    .iter()
                    .any(|s| s.service == "rcn-casework" && s.name.ends_with("process"));
            async move { complete.then_some(spans) }
        },
    )
    .await;
    let by_id: HashMap<&str, &ReceivedSpan> =
        spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let describe = || {
        spans
            .iter()
            .map(|s| {
                format!(
                    "{} {:?} {} ← {}",
                    s.service, s.name, s.span_id, s.parent_span_id
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };

    // Every span has its parent in the trace, or is the gateway's child of the partner's span.
    for s in &spans {
        let parent_ok = by_id.contains_key(s.parent_span_id.as_str())
            || (s.service == "rcn-gateway" && s.parent_span_id == partner_span);
        assert!(
            parent_ok,
            "{} {:?} has no parent in the trace:\n{}",
            s.service,
            s.name,
            describe()
        );
    }
    // Each hop is the child of the hop before it: partner → gateway → intake → router → casework.
    let hop = |service: &str| -> Vec<&ReceivedSpan> {
        spans
            .iter()
            .filter(|s| s.service == service)
            .filter(|s| {
                by_id
                    .get(s.parent_span_id.as_str())
                    .is_none_or(|p| p.service != service)
            })
            .collect()
    };
    let gateway = hop("rcn-gateway");
    assert!(
        gateway.iter().any(|s| s.parent_span_id == partner_span),
        "the gateway's span is the child of the partner's:\n{}",
        describe()
    );
    // (A service may enter the trace more than once: intake's ledger and outcome consumers
    // read the events of the same notice, each the child of the hop that published them.)
    for (service, name, caller, caller_name) in [
        (
            "rcn-intake",
            "rcn-intake submit",
            "rcn-gateway",
            "POST /v1/release-notices",
        ),
        (
            "rcn-router",
            "router process",
            "rcn-intake",
            "rcn-intake submit",
        ),
        (
            "rcn-casework",
            "casework process",
            "rcn-router",
            "router process",
        ),
    ] {
        assert!(
            hop(service).iter().any(|s| s.name == name
                && by_id
                    .get(s.parent_span_id.as_str())
                    .is_some_and(|p| p.service == caller && p.name == caller_name)),
            "{service}'s {name:?} continues {caller}'s {caller_name:?}:\n{}",
            describe()
        );
    }
    let intake = hop("rcn-intake");
    assert!(
        intake.iter().any(|s| s.name == "rcn-intake submit"),
        "intake's span is its endpoint's:\n{}",
        describe()
    );

    // Nothing about the person leaves in a span: not the BSN, not a name.
    let person = &notice["person"];
    let personal = [
        person["bsn"].as_str().expect("a BSN"),
        person["family_name"].as_str().expect("a family name"),
        person["given_names"].as_str().expect("given names"),
    ];
    for s in collector.spans.lock().expect("not poisoned").iter() {
        for word in personal {
            assert!(
                !s.name.contains(word) && !s.attributes.iter().any(|a| a.contains(word)),
                "{} span {:?} holds {word:?}: {:?}",
                s.service,
                s.name,
                s.attributes
            );
        }
    }
    cluster.stop(false).await;
}
