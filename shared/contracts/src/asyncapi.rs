//! The AsyncAPI document `schemas/asyncapi.yaml`, generated from the subject builders
//! ([`crate::Subjects`]), the streams they belong to and the JSON Schemas of [`crate::schema`].
//! A test fails when the committed document differs from what this generates, and when a subject
//! builder has no channel here; `RCN_UPDATE_SCHEMAS=1 cargo test -p rcn-contracts` rewrites it.
//!
//! Every channel's address is computed by calling its builder, so a renamed subject changes the
//! document; the catalogue below only adds what code cannot say (descriptions, payload types).

mod catalogue;
mod yaml;

use crate::subjects::{Region, StreamDef, Subjects};
use crate::value::Gemeentecode;
use yaml::{Node, map, reference, string, text};

pub use catalogue::{CASEWORK_VERBS, FILTERS, PROCESREGIE_VERBS};

/// The region and municipality written into addresses as parameters.
const REGION: &str = "region";
const GEMEENTE: &str = "GM0000";

/// Who sends on a channel and what it carries.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// An event published on a stream subject.
    Event { message: &'static str },
    /// A request answered on the requester's inbox.
    Request {
        request: &'static str,
        reply: &'static str,
    },
}

/// One subject of rcn as the document describes it.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The channel's key in the document.
    pub id: String,
    /// The [`Subjects`] method that builds the subject.
    pub builder: &'static str,
    /// The subject with `{region}`, `{gemeentecode}`, … where the builder takes a value.
    pub address: String,
    pub description: String,
    pub pattern: Pattern,
}

/// A message type: its name in the document and the schema file of its payload.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    pub name: &'static str,
    pub title: &'static str,
    /// A file under `schemas/` (from [`crate::schema::all`]); `None`: no fixed shape, and the
    /// title describes the payload.
    pub schema: Option<&'static str>,
    /// Header that must come with it (`Rcn-Identity` for the APIs).
    pub identity: bool,
    /// Carries `Nats-Msg-Id`, JetStream's de-duplication key (events).
    pub deduplicated: bool,
}

/// The subjects of the placeholder region, with the builders' arguments as parameters.
fn subjects() -> Subjects {
    Region::parse(REGION)
        .expect("the placeholder region is valid")
        .subjects()
}

fn gemeente() -> Gemeentecode {
    Gemeentecode::parse(GEMEENTE).expect("the placeholder gemeentecode is valid")
}

/// A built subject with its placeholder values turned into `{parameter}`s.
fn address(subject: &str) -> String {
    let rest = subject
        .strip_prefix(&format!("rcn.{REGION}."))
        .expect("every subject starts with rcn.<region>.");
    format!(
        "rcn.{{region}}.{}",
        rest.replace(GEMEENTE, "{gemeentecode}")
    )
}

/// Whether a stream subject filter (`*`, `>`) covers a channel address, a `{parameter}` being one
/// token.
fn covers(filter: &str, address: &str) -> bool {
    let (f, a): (Vec<&str>, Vec<&str>) =
        (filter.split('.').collect(), address.split('.').collect());
    for (i, token) in f.iter().enumerate() {
        match *token {
            ">" => return a.len() > i,
            "*" if i < a.len() => {}
            t if a.get(i) == Some(&t) => {}
            _ => return false,
        }
    }
    f.len() == a.len()
}

fn streams(s: &Subjects) -> Vec<StreamDef> {
    vec![
        s.notices_stream(),
        s.routing_stream(),
        s.cases_stream(),
        s.forwarded_stream(),
        s.dead_letter_stream(),
        s.procesregie_stream(),
    ]
}

/// The stream that stores a channel's messages, in words, if one does.
fn stored_in(s: &Subjects, address: &str) -> Option<String> {
    streams(s).into_iter().find_map(|stream| {
        let placeholder = address.replace("{region}", REGION);
        stream
            .subjects
            .iter()
            .any(|filter| covers(filter, &placeholder))
            .then(|| {
                format!(
                    "Stored in stream <REGION>_{} ({}), kept {} days.",
                    stream.name.trim_start_matches("REGION_"),
                    stream.description.to_lowercase(),
                    stream.max_age.as_secs() / 86_400,
                )
            })
    })
}

/// Every channel of rcn, in the document's order.
pub fn channels() -> Vec<Channel> {
    let s = subjects();
    catalogue::channels(&s, &gemeente())
        .into_iter()
        .map(|mut c| {
            c.address = address(&c.address);
            if let Some(stream) = stored_in(&s, &c.address) {
                c.description = format!("{} {stream}", c.description);
            }
            c
        })
        .collect()
}

/// The document as YAML.
pub fn document() -> String {
    let channels = channels();
    let mut channel_nodes = Vec::new();
    let mut operations = Vec::new();
    for c in &channels {
        let params = parameters(&c.address);
        let (messages, reply) = match &c.pattern {
            Pattern::Event { message } => (vec![*message], None),
            Pattern::Request { request, reply } => (vec![*request], Some(*reply)),
        };
        channel_nodes.push((
            c.id.clone(),
            channel_node(&c.address, &c.description, &params, &messages),
        ));
        let mut op = vec![
            (
                "action".to_owned(),
                string(if reply.is_some() { "receive" } else { "send" }),
            ),
            ("channel".into(), reference(&format!("#/channels/{}", c.id))),
        ];
        if let Some(reply) = reply {
            let reply_id = format!("{}Reply", c.id);
            channel_nodes.push((
                reply_id.clone(),
                map([
                    ("address", Node::Inline("null".into())),
                    ("description", string("The requester's reply inbox.")),
                    (
                        "messages",
                        map([(
                            lower_first(reply),
                            reference(&format!("#/components/messages/{reply}")),
                        )]),
                    ),
                ]),
            ));
            op.push((
                "reply".into(),
                map([("channel", reference(&format!("#/channels/{reply_id}")))]),
            ));
        }
        operations.push((c.id.clone(), Node::Map(op)));
    }
    let root = map([
        ("asyncapi", string("3.0.0")),
        ("info", info()),
        ("defaultContentType", string("application/json")),
        (
            "servers",
            map([(
                "nats",
                map([
                    ("host", string("nats:4222")),
                    ("protocol", string("nats")),
                    (
                        "description",
                        string(
                            "NATS with JetStream; users and permissions in services/rcn/deploy/nats/accounts.conf",
                        ),
                    ),
                ]),
            )]),
        ),
        ("channels", Node::Map(channel_nodes)),
        ("operations", Node::Map(operations)),
        ("components", components()),
    ]);
    let mut out = String::from(
        "# Generated by shared/contracts/src/asyncapi.rs from the subject builders and the JSON\n\
         # Schemas beside this file; do not edit. `RCN_UPDATE_SCHEMAS=1 cargo test -p rcn-contracts`\n\
         # rewrites it, and a test fails when it is out of date.\n",
    );
    out.push_str(&yaml::render(&root));
    out
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The `{parameter}`s of an address, in order.
fn parameters(address: &str) -> Vec<String> {
    address
        .split('.')
        .filter_map(|t| t.strip_prefix('{')?.strip_suffix('}').map(str::to_owned))
        .collect()
}

fn channel_node(address: &str, description: &str, params: &[String], messages: &[&str]) -> Node {
    let mut entries = vec![
        ("address".to_owned(), string(address)),
        ("description".into(), text(description)),
    ];
    if !params.is_empty() {
        entries.push((
            "parameters".into(),
            map(params.iter().map(|p| {
                (
                    p.clone(),
                    reference(&format!("#/components/parameters/{p}")),
                )
            })),
        ));
    }
    entries.push((
        "messages".into(),
        map(messages.iter().map(|m| {
            (
                lower_first(m),
                reference(&format!("#/components/messages/{m}")),
            )
        })),
    ));
    Node::Map(entries)
}

fn info() -> Node {
    map([
        ("title", string("rcn messaging")),
        ("version", string("1.0.0")),
        ("description", text(catalogue::DESCRIPTION)),
        ("license", map([("name", string("EUPL-1.2"))])),
    ])
}

/// The messages a sender starts (events and requests): they carry the trace context. A reply
/// answers on the requester's inbox within the request's span and carries none.
fn sent_messages() -> std::collections::BTreeSet<&'static str> {
    channels()
        .into_iter()
        .map(|c| match c.pattern {
            Pattern::Event { message } => message,
            Pattern::Request { request, .. } => request,
        })
        .collect()
}

fn components() -> Node {
    use crate::trace_context::{MAX_TRACESTATE, TRACE_ID_PATTERN, TRACEPARENT_PATTERN};
    let parameters = map(catalogue::PARAMETERS
        .iter()
        .map(|(name, description)| (*name, map([("description", string(description))]))));
    let deduplicated = map([(
        "headers",
        map([
            ("type", string("object")),
            (
                "properties",
                map([(
                    "Nats-Msg-Id",
                    Node::Inline(
                        "{type: string, description: \"The idempotency key of the event: JetStream stores a resend within the stream's duplicate window once.\"}"
                            .into(),
                    ),
                )]),
            ),
        ]),
    )]);
    let trace_context = map([(
        "headers",
        map([
            ("type", string("object")),
            (
                "properties",
                map([
                    (
                        "traceparent",
                        Node::Inline(format!(
                            "{{type: string, pattern: '{TRACEPARENT_PATTERN}', description: \"W3C Trace Context: the trace and the sender's span (version 00), so one notice is one trace from the gateway through every service. A missing or malformed value never fails a message; the receiver starts a new trace.\"}}"
                        )),
                    ),
                    (
                        "tracestate",
                        Node::Inline(format!(
                            "{{type: string, maxLength: {MAX_TRACESTATE}, description: \"W3C Trace Context: vendors' state, passed on as it came with a valid traceparent.\"}}"
                        )),
                    ),
                    (
                        "Rcn-Trace-Id",
                        Node::Inline(format!(
                            "{{type: string, pattern: '{TRACE_ID_PATTERN}', description: \"The trace id of traceparent, also the log field trace_id: one value finds a notice's log lines and its trace.\"}}"
                        )),
                    ),
                ]),
            ),
        ]),
    )]);
    let identity = map([(
        "headers",
        map([
            ("type", string("object")),
            (
                "required",
                Node::Inline("[Rcn-Identity, Rcn-Identity-Signature]".into()),
            ),
            (
                "properties",
                map([
                    (
                        "Rcn-Identity",
                        Node::Inline(
                            "{type: string, description: \"The caller as the gateway authenticated it: an Identity (identity.v1.json) for staff, a PartnerIdentity (partner-identity.v1.json) for institutions.\"}"
                                .into(),
                        ),
                    ),
                    (
                        "Rcn-Identity-Signature",
                        Node::Inline(
                            "{type: string, pattern: '^v1\\.[0-9]+\\.[0-9]+\\.[0-9a-f]{32}\\.[0-9a-f]{128}$', description: \"The gateway's Ed25519 signature over the identity, the subject, the SHA-256 of the body, the issue and expiry times (ms) and the nonce: v1.<issued>.<expires>.<nonce>.<signature>. Valid for 30 s and for one request.\"}"
                                .into(),
                        ),
                    ),
                ]),
            ),
        ]),
    )]);
    let traced = sent_messages();
    let messages = map(catalogue::MESSAGES.iter().map(|m| {
        let mut entries = vec![("name".to_owned(), string(m.name))];
        if !m.title.is_empty() && m.schema.is_some() {
            entries.push(("title".into(), string(m.title)));
        }
        let mut traits = Vec::new();
        if traced.contains(m.name) {
            traits.push("{$ref: '#/components/messageTraits/traceContext'}");
        }
        if m.deduplicated {
            traits.push("{$ref: '#/components/messageTraits/deduplicated'}");
        }
        if m.identity {
            traits.push("{$ref: '#/components/messageTraits/identified'}");
        }
        if !traits.is_empty() {
            entries.push((
                "traits".into(),
                Node::Inline(format!("[{}]", traits.join(", "))),
            ));
        }
        entries.push((
            "payload".into(),
            match m.schema {
                Some(file) => reference(file),
                None => map([("description", string(m.title))]),
            },
        ));
        (m.name, Node::Map(entries))
    }));
    map([
        ("parameters", parameters),
        (
            "messageTraits",
            map([
                ("traceContext", trace_context),
                ("deduplicated", deduplicated),
                ("identified", identity),
            ]),
        ),
        ("messages", messages),
    ])
}

#[cfg(test)]
mod tests;
