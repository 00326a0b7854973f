//! Request telemetry: the span of each request with the attributes of the OpenTelemetry
//! conventions for MCP, the parent taken from `params._meta`, the metrics, and the request
//! log line, captured in the process by the OpenTelemetry SDK's in-memory exporters; and an
//! export over OTLP/HTTP to a receiver on 127.0.0.1, decoded as it arrived.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mcp_runtime::prelude::*;
use mcp_runtime::telemetry::Telemetry;
use mcp_runtime::testing::TestIssuer;
use opentelemetry::trace::{SpanId, SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value as OtelValue};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt as _;

struct Desk;

#[mcp_server(oauth(scopes = ["desk:read", "desk:admin"], required = ["desk:read"]))]
impl Desk {
    /// Adds two numbers.
    #[tool]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    /// Always fails, as a tool whose backend is down does.
    #[tool]
    fn ledger(&self) -> Result<String, ToolError> {
        Err(ToolError::new("the ledger is locked"))
    }

    /// Empties the desk; administrators only.
    #[tool(scopes = ["desk:admin"])]
    fn purge(&self) -> String {
        "purged".into()
    }
}

struct Shelf;

#[mcp_server]
impl Shelf {
    /// The shelf's index.
    #[resource(uri = "shelf://index", mime_type = "text/plain")]
    fn index(&self) -> String {
        "one book".into()
    }

    /// Asks for a review of a book.
    #[prompt]
    fn review(&self, title: String) -> String {
        format!("Review {title}")
    }
}

/// A metric's data point: its attributes, and its value (the count, for a histogram).
type Point = (HashMap<String, String>, u64);

/// Spans and metrics of one test, captured in memory.
struct Capture {
    spans: InMemorySpanExporter,
    tracer: SdkTracerProvider,
    metrics: InMemoryMetricExporter,
    meter: SdkMeterProvider,
}

impl Capture {
    fn new() -> Self {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let spans = InMemorySpanExporter::default();
        let tracer = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let metrics = InMemoryMetricExporter::default();
        let meter = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        Self {
            spans,
            tracer,
            metrics,
            meter,
        }
    }

    /// The subscriber that turns `tracing` spans into OpenTelemetry spans, for this thread.
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(self.tracer.tracer("test")))
    }

    fn telemetry(&self) -> Telemetry {
        Telemetry::new().meter(opentelemetry::metrics::MeterProvider::meter(
            &self.meter,
            "mcp-runtime",
        ))
    }

    /// The finished spans named `name`.
    fn spans(&self, name: &str) -> Vec<SpanData> {
        self.spans
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// The one finished span named `name`.
    fn span(&self, name: &str) -> SpanData {
        let mut spans = self.spans(name);
        let all: Vec<_> = self
            .spans
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(spans.len(), 1, "one span `{name}` among {all:?}");
        spans.remove(0)
    }

    /// The metrics now, by name: each data point's attributes and its value (the count, for
    /// a histogram).
    fn metrics(&self) -> HashMap<String, Vec<Point>> {
        self.meter.force_flush().unwrap();
        let exported = self.metrics.get_finished_metrics().unwrap();
        let last = exported.last().expect("metrics were exported");
        let mut out: HashMap<String, Vec<_>> = HashMap::new();
        for scope in last.scope_metrics() {
            for metric in scope.metrics() {
                let points = out.entry(metric.name().to_owned()).or_default();
                match metric.data() {
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => points.extend(
                        h.data_points()
                            .map(|p| (attributes(p.attributes()), p.count())),
                    ),
                    AggregatedMetrics::U64(MetricData::Sum(s)) => points.extend(
                        s.data_points()
                            .map(|p| (attributes(p.attributes()), p.value())),
                    ),
                    AggregatedMetrics::I64(MetricData::Sum(s)) => points.extend(
                        s.data_points()
                            .map(|p| (attributes(p.attributes()), p.value().unsigned_abs())),
                    ),
                    other => panic!("unexpected data for {}: {other:?}", metric.name()),
                }
            }
        }
        out
    }
}

fn attributes<'a>(kvs: impl Iterator<Item = &'a KeyValue>) -> HashMap<String, String> {
    kvs.map(|kv| (kv.key.to_string(), text(&kv.value)))
        .collect()
}

fn text(value: &OtelValue) -> String {
    match value {
        OtelValue::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// The attributes of `span` this runtime sets (the layer adds code locations and threads).
fn attrs(span: &SpanData) -> HashMap<String, String> {
    attributes(span.attributes.iter())
        .into_iter()
        .filter(|(k, _)| !k.starts_with("code.") && !k.starts_with("thread."))
        .filter(|(k, _)| k != "target" && k != "busy_ns" && k != "idle_ns")
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A 2026-07-28 request of `method` on `name` (a tool), with `token` when given.
fn modern(
    url: &str,
    id: i64,
    method: &str,
    params: Value,
    token: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut params = params;
    let meta = params["_meta"].as_object().cloned().unwrap_or_default();
    let mut meta = Value::Object(meta);
    meta["io.modelcontextprotocol/protocolVersion"] = json!(support::MODERN);
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
    params["_meta"] = meta;
    let mut request = support::post(url)
        .header("mcp-protocol-version", support::MODERN)
        .header("mcp-method", method);
    if let Some(name) = params["name"].as_str() {
        request = request.header("mcp-name", name);
    }
    let request =
        request.json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// The protected desk on 127.0.0.1, with connection addresses, recording into `capture`.
async fn desk(capture: &Capture, telemetry: Telemetry) -> (String, TestIssuer) {
    let issuer = TestIssuer::start().await.unwrap();
    let (listener, url) = support::listen().await;
    let config = OAuthConfig::builder()
        .resource(&url)
        .authorization_server(issuer.url())
        .http(HttpConfig::new().telemetry(telemetry))
        .build()
        .await
        .unwrap();
    let _ = capture;
    let app = Desk.router(config);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (url, issuer)
}

fn token(issuer: &TestIssuer, url: &str, scopes: &[&str]) -> String {
    issuer
        .token()
        .subject("alice")
        .audience(url)
        .scopes(scopes.iter().copied())
        .sign()
}

#[tokio::test]
async fn each_request_is_a_server_span_with_the_conventions_attributes_and_a_duration() {
    let capture = Capture::new();
    let _guard = tracing::subscriber::set_default(capture.subscriber());
    let (url, issuer) = desk(&capture, capture.telemetry()).await;
    let reader = token(&issuer, &url, &["desk:read"]);

    // A tool call.
    let args = json!({"name": "add", "arguments": {"a": 2, "b": 3}});
    let resp = modern(&url, 7, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let span = capture.span("tools/call add");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.status, Status::Unset);
    let a = attrs(&span);
    let port = a["client.port"].clone();
    assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{port}");
    assert_eq!(
        a,
        expect(&[
            ("mcp.method.name", "tools/call"),
            ("mcp.protocol.version", "2026-07-28"),
            ("jsonrpc.request.id", "7"),
            ("gen_ai.tool.name", "add"),
            ("gen_ai.operation.name", "execute_tool"),
            ("network.transport", "tcp"),
            ("network.protocol.name", "http"),
            ("client.address", "127.0.0.1"),
            ("client.port", &port),
            ("mcp.auth.outcome", "ok"),
        ])
    );

    // A tool that fails: a result, `error.type` = `tool_error`.
    let args = json!({"name": "ledger", "arguments": {}});
    let resp = modern(&url, 8, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["result"]["isError"], true, "{body}");
    let span = capture.span("tools/call ledger");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    let a = attrs(&span);
    assert_eq!(a["error.type"], "tool_error");
    assert!(!a.contains_key("rpc.response.status_code"), "{a:?}");
    assert_eq!(a["gen_ai.tool.name"], "ledger");

    // No token: 401, the auth outcome on the span, no token anywhere.
    let args = json!({"name": "add", "arguments": {"a": 1, "b": 1}});
    let resp = modern(&url, 9, "tools/call", args, None)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let spans = capture.spans("tools/call add");
    assert_eq!(spans.len(), 2);
    let a = attrs(&spans[1]);
    assert_eq!(a["mcp.auth.outcome"], "missing");
    assert_eq!(a["error.type"], "-32600");
    assert_eq!(a["rpc.response.status_code"], "-32600");
    assert_eq!(a["jsonrpc.request.id"], "9");
    assert!(
        !a.contains_key("mcp.protocol.version"),
        "not negotiated: {a:?}"
    );
    assert_eq!(
        spans[1].status,
        Status::error("authorization required"),
        "the JSON-RPC message is the description"
    );

    // A forged token: 401 `invalid`, and the token is in no attribute.
    let forged = issuer
        .token()
        .subject("alice")
        .audience(&url)
        .signed_by_attacker()
        .sign();
    let args = json!({"name": "add", "arguments": {"a": 1, "b": 2}});
    let resp = modern(&url, 10, "tools/call", args, Some(&forged))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let spans = capture.spans("tools/call add");
    let a = attrs(&spans[2]);
    assert_eq!(a["mcp.auth.outcome"], "invalid");
    for value in a.values() {
        assert!(!value.contains(&forged), "the token leaked: {a:?}");
    }

    // A tool the token's scopes do not reach: 403, the missing scope named.
    let args = json!({"name": "purge", "arguments": {}});
    let resp = modern(&url, 11, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let span = capture.span("tools/call purge");
    let a = attrs(&span);
    assert_eq!(a["mcp.auth.outcome"], "insufficient_scope");
    assert_eq!(a["mcp.auth.scopes.missing"], "desk:admin");
    assert_eq!(a["error.type"], "-32600", "403s carry -32600");
    assert!(
        !a.contains_key("enduser.id"),
        "the subject needs consent: {a:?}"
    );

    // A protocol error: an unknown tool is -32602. A name the server does not declare stays
    // out of the span's name (and the metrics), not out of its attributes.
    let args = json!({"name": "nope", "arguments": {}});
    let resp = modern(&url, 12, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert!(capture.spans("tools/call nope").is_empty());
    let span = capture
        .spans("tools/call")
        .into_iter()
        .find(|s| attrs(s).get("gen_ai.tool.name").map(String::as_str) == Some("nope"))
        .expect("the span of the unknown tool");
    let a = attrs(&span);
    assert_eq!(a["error.type"], "-32602");
    assert_eq!(a["rpc.response.status_code"], "-32602");
    assert_eq!(span.status, Status::error("unknown tool `nope`"));

    // A method neither revision has: `_OTHER` in the span's name and the metrics.
    let resp = modern(&url, 13, "tools/destroy", json!({}), Some(&reader))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32601, "{body}");
    let span = capture.span("_OTHER");
    assert_eq!(attrs(&span)["mcp.method.name"], "tools/destroy");

    // A 2025-11-25 session: `initialize` opens it, and its requests name it.
    let resp = support::post(&url)
        .bearer_auth(&reader)
        .json(&support::init_body(1, json!({})))
        .send()
        .await
        .unwrap();
    let sid = support::session_id(&resp);
    let span = capture.span("initialize");
    let a = attrs(&span);
    assert_eq!(a["mcp.session.id"], sid);
    assert_eq!(a["mcp.protocol.version"], support::LEGACY);
    let resp = support::in_session(&url, &sid)
        .bearer_auth(&reader)
        .json(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let span = capture.span("notifications/initialized");
    let a = attrs(&span);
    assert_eq!(a["mcp.session.id"], sid);
    assert!(
        !a.contains_key("jsonrpc.request.id"),
        "a notification: {a:?}"
    );

    // The duration histogram, per method, tool and outcome; the auth checks by outcome.
    let metrics = capture.metrics();
    let durations = &metrics["mcp.server.operation.duration"];
    let count = |want: &[(&str, &str)]| -> u64 {
        durations
            .iter()
            .filter(|(a, _)| {
                want.iter()
                    .all(|(k, v)| a.get(*k).map(String::as_str) == Some(v))
            })
            .map(|(_, n)| n)
            .sum()
    };
    let ok_add = &[
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "add"),
        ("mcp.protocol.version", "2026-07-28"),
        ("network.transport", "tcp"),
    ];
    let ok_point = durations
        .iter()
        .find(|(a, _)| {
            ok_add
                .iter()
                .all(|(k, v)| a.get(*k).map(String::as_str) == Some(v))
                && !a.contains_key("error.type")
        })
        .expect("a point for the successful `add`");
    assert_eq!(ok_point.1, 1);
    assert_eq!(count(&[("error.type", "tool_error")]), 1);
    assert_eq!(count(&[("error.type", "-32602")]), 1);
    assert!(
        durations.iter().all(
            |(a, _)| a.get("gen_ai.tool.name").is_none_or(|t| t != "nope")
                && a.get("mcp.method.name")
                    .is_none_or(|m| m != "tools/destroy")
        ),
        "no series for names a client made up: {durations:?}"
    );
    assert_eq!(count(&[("mcp.method.name", "_OTHER")]), 1);
    assert_eq!(
        count(&[("error.type", "-32600")]),
        3,
        "the two 401s and the 403"
    );
    assert_eq!(count(&[("mcp.method.name", "initialize")]), 1);
    let checks = &metrics["mcp.server.auth.checks"];
    let checked = |outcome: &str| -> u64 {
        checks
            .iter()
            .filter(|(a, _)| a["mcp.auth.outcome"] == outcome)
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(checked("missing"), 1);
    assert_eq!(checked("invalid"), 1);
    assert_eq!(checked("insufficient_scope"), 1);
    assert_eq!(checked("ok"), 7, "every request with a valid token");
    let sessions = &metrics["mcp.server.active_sessions"];
    assert_eq!(sessions.iter().map(|(_, n)| n).sum::<u64>(), 1);
    assert!(metrics.contains_key("mcp.server.active_streams"));
}

#[tokio::test]
async fn the_parent_comes_from_meta_and_the_transport_context_is_linked() {
    let capture = Capture::new();
    let _guard = tracing::subscriber::set_default(capture.subscriber());
    let (url, issuer) = desk(&capture, capture.telemetry()).await;
    let reader = token(&issuer, &url, &["desk:read"]);
    let meta_parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let http_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    let args = json!({"name": "add", "arguments": {"a": 1, "b": 2},
        "_meta": {"traceparent": meta_parent}});
    let resp = modern(&url, 1, "tools/call", args, Some(&reader))
        .header("traceparent", http_parent)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let span = capture.span("tools/call add");
    assert_eq!(
        span.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "the trace of `_meta`"
    );
    assert_eq!(span.parent_span_id.to_string(), "00f067aa0ba902b7");
    assert!(span.parent_span_is_remote);
    let links: Vec<_> = span.links.iter().collect();
    assert_eq!(links.len(), 1, "the HTTP request's context is linked");
    assert_eq!(
        links[0].span_context.trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(
        links[0].span_context.span_id().to_string(),
        "b7ad6b7169203331"
    );

    // Without `_meta` context, the header's becomes the parent.
    let args = json!({"name": "add", "arguments": {"a": 2, "b": 2}});
    modern(&url, 2, "tools/call", args, Some(&reader))
        .header("traceparent", http_parent)
        .send()
        .await
        .unwrap();
    let spans = capture.spans("tools/call add");
    assert_eq!(
        spans[1].span_context.trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(spans[1].parent_span_id.to_string(), "b7ad6b7169203331");
    assert_eq!(spans[1].links.len(), 0);

    // With neither, a new trace begins.
    let args = json!({"name": "add", "arguments": {"a": 3, "b": 2}});
    modern(&url, 3, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    let spans = capture.spans("tools/call add");
    assert_eq!(spans[2].parent_span_id, SpanId::INVALID);
    let trace = spans[2].span_context.trace_id().to_string();
    assert!(
        trace != "4bf92f3577b34da6a3ce929d0e0e4736" && trace != "0af7651916cd43dd8448eb211c80319c",
        "{trace}"
    );
}

/// The request log lines a subscriber received: each event's fields as text.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<HashMap<String, String>>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Lines {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields<'a>(&'a mut HashMap<String, String>);
        impl tracing::field::Visit for Fields<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.insert(field.name().to_owned(), format!("{value:?}"));
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                self.0.insert(field.name().to_owned(), value.to_owned());
            }
        }
        if event.metadata().target() != "mcp_runtime::request" {
            return;
        }
        assert_eq!(*event.metadata().level(), tracing::Level::INFO);
        assert!(event.is_root(), "outside the span");
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
}

impl Lines {
    fn take(&self) -> Vec<HashMap<String, String>> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[tokio::test]
async fn each_answered_request_logs_one_line_and_one_setting_turns_it_off() {
    let lines = Lines::default();
    let capture = Capture::new();
    let subscriber = tracing_subscriber::registry()
        .with(lines.clone())
        .with(tracing_opentelemetry::layer().with_tracer(capture.tracer.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);
    let (url, issuer) = desk(&capture, Telemetry::new().record_subject(true)).await;
    let reader = token(&issuer, &url, &["desk:read"]);

    let args = json!({"name": "add", "arguments": {"a": 2, "b": 3}});
    modern(&url, 1, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    let args = json!({"name": "purge", "arguments": {}});
    modern(&url, 2, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    let logged = lines.take();
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(logged[0]["message"], "answered");
    assert_eq!(logged[0]["method"], "tools/call");
    assert_eq!(logged[0]["name"], "add");
    assert_eq!(logged[0]["outcome"], "ok");
    assert_eq!(logged[0]["subject"], "alice", "record_subject(true)");
    let ms: f64 = logged[0]["ms"].parse().unwrap();
    assert!((0.0..10_000.0).contains(&ms), "{ms}");
    assert_eq!(logged[1]["name"], "purge");
    assert_eq!(logged[1]["outcome"], "-32600");
    // The span names the subject too, only when allowed.
    let span = capture.span("tools/call add");
    assert_eq!(attrs(&span)["enduser.id"], "alice");

    // Off with `request_log(false)`; the subject is left out without `record_subject`.
    let (quiet, issuer) = desk(&capture, Telemetry::new().request_log(false)).await;
    let reader = token(&issuer, &quiet, &["desk:read"]);
    let args = json!({"name": "add", "arguments": {"a": 2, "b": 3}});
    let resp = modern(&quiet, 1, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(lines.take().is_empty());
    let (plain, issuer) = desk(&capture, Telemetry::new()).await;
    let reader = token(&issuer, &plain, &["desk:read"]);
    let args = json!({"name": "add", "arguments": {"a": 2, "b": 3}});
    modern(&plain, 1, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    let logged = lines.take();
    assert_eq!(logged.len(), 1);
    assert!(!logged[0].contains_key("subject"), "{:?}", logged[0]);
}

/// The requests a receiver got: path and body of each.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// What an OTLP/HTTP receiver on 127.0.0.1 got: each request's path and body. It runs on
/// its own thread, so that a flush blocking the test's thread still reaches it.
fn receiver() -> (String, Received) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let store = Arc::clone(&got);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
                let store = Arc::clone(&store);
                async move {
                    let path = req.uri().path().to_owned();
                    let content_type = req.headers()["content-type"].to_str().unwrap().to_owned();
                    assert_eq!(content_type, "application/x-protobuf");
                    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                        .await
                        .unwrap();
                    store.lock().unwrap().push((path, body.to_vec()));
                    axum::http::StatusCode::OK
                }
            });
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}"), got)
}

#[tokio::test]
async fn spans_and_metrics_are_exported_over_otlp_http() {
    use mcp_runtime::telemetry::otlp::Otlp;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use prost::Message as _;

    let (collector, got) = receiver();
    let otlp = Otlp::builder("desk").endpoint(&collector).build().unwrap();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(otlp.layer()));
    let capture = Capture::new();
    let (url, issuer) = desk(&capture, Telemetry::new()).await;
    let reader = token(&issuer, &url, &["desk:read"]);
    let args = json!({"name": "add", "arguments": {"a": 2, "b": 3}});
    let resp = modern(&url, 5, "tools/call", args, Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    otlp.shutdown().unwrap();

    let got = got.lock().unwrap();
    let bodies = |path: &str| -> Vec<&Vec<u8>> {
        got.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b)
            .collect()
    };
    let text = |v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>| match v
        .as_ref()
        .and_then(|v| v.value.as_ref())
    {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(n)) => n.to_string(),
        other => format!("{other:?}"),
    };
    let mut found = None;
    for body in bodies("/v1/traces") {
        let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        for resource in &request.resource_spans {
            let service = resource.resource.as_ref().unwrap().attributes.iter();
            let service: HashMap<_, _> = service
                .map(|kv| (kv.key.clone(), text(&kv.value)))
                .collect();
            assert_eq!(service["service.name"], "desk");
            for scope in &resource.scope_spans {
                for span in &scope.spans {
                    if span.name == "tools/call add" {
                        found = Some(span.clone());
                    }
                }
            }
        }
    }
    let span = found.expect("the tool call's span arrived at the collector");
    // SPAN_KIND_SERVER
    assert_eq!(span.kind, 2);
    let a: HashMap<_, _> = span
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect();
    assert_eq!(a["mcp.method.name"], "tools/call");
    assert_eq!(a["gen_ai.tool.name"], "add");
    assert_eq!(a["jsonrpc.request.id"], "5");
    assert_eq!(a["mcp.protocol.version"], "2026-07-28");
    assert_eq!(a["client.address"], "127.0.0.1");

    let mut names = Vec::new();
    for body in bodies("/v1/metrics") {
        let request = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap();
        for resource in &request.resource_metrics {
            for scope in &resource.scope_metrics {
                names.extend(scope.metrics.iter().map(|m| m.name.clone()));
            }
        }
    }
    assert!(
        names.iter().any(|n| n == "mcp.server.operation.duration"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "mcp.server.auth.checks"),
        "{names:?}"
    );
}

/// A resource read names its URI (in the attributes, not the span name), a prompt its name,
/// and a method the conventions do not list yet is named and described the same way.
#[tokio::test]
async fn resources_prompts_and_newer_methods_follow_the_same_pattern() {
    let capture = Capture::new();
    let _guard = tracing::subscriber::set_default(capture.subscriber());
    let (listener, url) = support::listen().await;
    let config = HttpConfig::new().telemetry(capture.telemetry());
    support::serve(listener, Shelf.router(config));
    let meta = support::modern_meta();
    for (id, method, name, params) in [
        (
            1,
            "resources/read",
            Some("shelf://index"),
            json!({"uri": "shelf://index", "_meta": meta}),
        ),
        (
            2,
            "prompts/get",
            Some("review"),
            json!({"name": "review", "arguments": {"title": "Dune"}, "_meta": meta}),
        ),
        (3, "server/discover", None, json!({"_meta": meta})),
    ] {
        let resp = support::modern_request(&url, id, method, name, &params)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{method}");
    }
    let a = attrs(&capture.span("resources/read"));
    assert_eq!(a["mcp.method.name"], "resources/read");
    assert_eq!(a["mcp.resource.uri"], "shelf://index");
    assert_eq!(a["jsonrpc.request.id"], "1");
    assert!(!a.contains_key("error.type"), "{a:?}");
    let a = attrs(&capture.span("prompts/get review"));
    assert_eq!(a["gen_ai.prompt.name"], "review");
    assert!(!a.contains_key("gen_ai.tool.name"), "{a:?}");
    let a = attrs(&capture.span("server/discover"));
    assert_eq!(a["mcp.method.name"], "server/discover");
    assert_eq!(a["jsonrpc.request.id"], "3");
    let metrics = capture.metrics();
    let durations = &metrics["mcp.server.operation.duration"];
    assert!(
        durations.iter().any(|(attrs, count)| *count == 1
            && attrs.get("gen_ai.prompt.name").map(String::as_str) == Some("review")),
        "{durations:?}"
    );
    assert!(
        durations.iter().any(|(attrs, count)| *count == 1
            && attrs.get("mcp.method.name").map(String::as_str) == Some("server/discover")),
        "{durations:?}"
    );
}
