//! The OpenTelemetry side (feature `otel`): a span's remote parent and links, and the
//! instruments.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt as _;
use serde_json::{Map, Value};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::{AuthOutcome, Gauges};

/// The buckets the conventions advise for `mcp.server.operation.duration`, in seconds.
const BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// The name of this runtime's instrumentation scope.
const SCOPE: &str = "mcp-runtime";

pub(super) struct Instruments {
    duration: Histogram<f64>,
    auth: Counter<u64>,
}

/// What the duration histogram records of one operation.
pub(super) struct Operation<'a> {
    pub(super) seconds: f64,
    pub(super) method: &'a str,
    pub(super) tool: Option<&'a str>,
    pub(super) prompt: Option<&'a str>,
    pub(super) version: Option<&'static str>,
    pub(super) error_type: Option<&'a str>,
    pub(super) code: Option<&'a str>,
    pub(super) transport: &'static str,
}

impl Instruments {
    pub(super) fn new(meter: Option<&Meter>, gauges: Option<Gauges>) -> Self {
        let global;
        let meter = if let Some(meter) = meter {
            meter
        } else {
            global = opentelemetry::global::meter(SCOPE);
            &global
        };
        let duration = meter
            .f64_histogram("mcp.server.operation.duration")
            .with_unit("s")
            .with_description(
                "MCP request or notification duration as observed on the receiver, from the \
                 time it was received until the result or ack is sent",
            )
            .with_boundaries(BUCKETS.to_vec())
            .build();
        let auth = meter
            .u64_counter("mcp.server.auth.checks")
            .with_unit("{check}")
            .with_description("Token checks and per-operation scope checks, by `mcp.auth.outcome`")
            .build();
        if let Some(Gauges { sessions, streams }) = gauges {
            meter
                .i64_observable_up_down_counter("mcp.server.active_sessions")
                .with_unit("{session}")
                .with_description("2025-11-25 sessions the server holds")
                .with_callback(move |o| o.observe(count(sessions()), &[]))
                .build();
            meter
                .i64_observable_up_down_counter("mcp.server.active_streams")
                .with_unit("{stream}")
                .with_description("Notification streams open")
                .with_callback(move |o| o.observe(count(streams()), &[]))
                .build();
        }
        Self { duration, auth }
    }

    pub(super) fn auth(&self, outcome: AuthOutcome) {
        self.auth
            .add(1, &[KeyValue::new("mcp.auth.outcome", outcome.as_str())]);
    }

    pub(super) fn operation(&self, op: &Operation<'_>) {
        let mut attributes = Vec::with_capacity(8);
        attributes.push(KeyValue::new("mcp.method.name", op.method.to_owned()));
        attributes.push(KeyValue::new("network.transport", op.transport));
        if op.transport == "tcp" {
            attributes.push(KeyValue::new("network.protocol.name", "http"));
        }
        if let Some(version) = op.version {
            attributes.push(KeyValue::new("mcp.protocol.version", version));
        }
        if let Some(tool) = op.tool {
            attributes.push(KeyValue::new("gen_ai.tool.name", tool.to_owned()));
            attributes.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
        }
        if let Some(prompt) = op.prompt {
            attributes.push(KeyValue::new("gen_ai.prompt.name", prompt.to_owned()));
        }
        if let Some(error_type) = op.error_type {
            attributes.push(KeyValue::new("error.type", error_type.to_owned()));
        }
        if let Some(code) = op.code {
            attributes.push(KeyValue::new("rpc.response.status_code", code.to_owned()));
        }
        self.duration.record(op.seconds, &attributes);
    }
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Sets the parent of `span` from the trace context in `params._meta`, linking the ambient
/// context (the enclosing span, or the request's `traceparent` header); without one in
/// `_meta`, the header's context becomes the parent when no span encloses the request.
pub(super) fn adopt(
    span: &Span,
    params: &Map<String, Value>,
    headers: (Option<&str>, Option<&str>),
) {
    let meta = params
        .get("_meta")
        .and_then(Value::as_object)
        .map(|meta| extract(&Meta(meta)))
        .filter(has_span);
    let header = headers
        .0
        .map(|traceparent| {
            extract(&Headers {
                traceparent,
                tracestate: headers.1,
            })
        })
        .filter(has_span);
    let enclosing = Span::current();
    let ambient = if enclosing.is_none() {
        None
    } else {
        Some(enclosing.context()).filter(has_span)
    };
    match (meta, ambient.or(header)) {
        (Some(meta), ambient) => {
            let _ = span.set_parent(meta);
            if let Some(ambient) = ambient {
                span.add_link(ambient.span().span_context().clone());
            }
        }
        (None, Some(header)) if enclosing.is_none() => {
            let _ = span.set_parent(header);
        }
        (None, _) => {}
    }
}

fn has_span(cx: &opentelemetry::Context) -> bool {
    cx.span().span_context().is_valid()
}

fn extract(carrier: &dyn Extractor) -> opentelemetry::Context {
    opentelemetry::global::get_text_map_propagator(|p| p.extract(carrier))
}

/// `params._meta`, as a carrier: its unprefixed `traceparent`, `tracestate`, `baggage`.
struct Meta<'a>(&'a Map<String, Value>);

impl Extractor for Meta<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The trace headers of an HTTP request, as a carrier.
struct Headers<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        let mut keys = vec!["traceparent"];
        if self.tracestate.is_some() {
            keys.push("tracestate");
        }
        keys
    }
}
