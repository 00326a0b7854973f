//! Traces, metrics and a log line per request, in the shape of the OpenTelemetry semantic
//! conventions for MCP.
//!
//! # Spans
//!
//! Every request and notification a client sends gets one `tracing` span at `INFO`, target
//! `mcp_runtime::request`, that lasts until its answer is written. It works with any
//! subscriber; with the `otel` feature and a [`tracing-opentelemetry`] layer it becomes an
//! OpenTelemetry server span named `{mcp.method.name} {target}` (the tool or prompt; only
//! the method for the others), with these attributes. A tool or prompt the server does not
//! declare, and a method neither revision has (named `_OTHER`), stay out of span names and
//! metric attributes, so that what a client makes up cannot grow the number of series; the
//! span's attributes and the log line still say what was asked.
//!
//! | attribute | value |
//! |---|---|
//! | `mcp.method.name` | `tools/call`, `initialize`, `server/discover`, `notifications/initialized`, … |
//! | `mcp.protocol.version` | the revision the request speaks |
//! | `mcp.session.id` | the 2025-11-25 session |
//! | `jsonrpc.request.id` | the request's `id` (none for a notification) |
//! | `gen_ai.tool.name`, `gen_ai.operation.name` | `tools/call`: the tool, and `execute_tool` |
//! | `gen_ai.prompt.name` | `prompts/get` |
//! | `mcp.resource.uri` | `resources/read`, `resources/subscribe`, `resources/unsubscribe` |
//! | `error.type`, `rpc.response.status_code` | the JSON-RPC error code (`-32602`); `error.type` is `tool_error` for a result with `isError` and `cancelled` for a request that got no answer; a request refused for its session (`-32600`) has the reason (`session_not_found`, `session_missing`, `store_unavailable`) first in the status description |
//! | `network.transport`, `network.protocol.name` | `tcp` and `http`, or `pipe` for stdio |
//! | `client.address`, `client.port` | the peer of the connection |
//! | `enduser.id` | the caller's subject, only with [`Telemetry::record_subject`] |
//! | `mcp.auth.outcome` | `ok`, `missing`, `invalid`, `malformed`, `insufficient_scope`, `throttled`, `idp_unavailable` |
//! | `mcp.auth.scopes.missing` | on `insufficient_scope`: the scopes the token lacks, space-separated |
//!
//! The last two are this runtime's own: the conventions do not describe authorization yet.
//! A token never appears in a span, a metric or a log line. A span with `error.type` has
//! the status `ERROR` and the error's message as its description.
//!
//! The `otel` feature is built on `opentelemetry` 0.33 and `tracing-opentelemetry` 0.34:
//! the layer in your subscriber and the providers you set up must be those versions (a
//! layer of another version does not see the parent and links set here; `otlp` sets all of
//! it up for you).
//!
//! With `otel`, the span's parent is the trace context the client put in the request's
//! `params._meta` (`traceparent`, `tracestate`, read with the globally configured
//! propagator), and the ambient context is linked to it: the HTTP span around the request,
//! or the `traceparent` header it came with. Without a context in `_meta`, the HTTP span
//! stays the parent, or else the header's context becomes it.
//!
//! # Metrics
//!
//! With `otel`, through the meter of [`Telemetry::meter`] (the global one by default):
//!
//! | instrument | kind | attributes |
//! |---|---|---|
//! | `mcp.server.operation.duration` (s) | histogram | `mcp.method.name`, `mcp.protocol.version`, `gen_ai.tool.name`, `gen_ai.prompt.name`, `gen_ai.operation.name`, `error.type`, `rpc.response.status_code`, `network.transport`, `network.protocol.name` |
//! | `mcp.server.auth.checks` | counter | `mcp.auth.outcome`: each token check, and each call refused for a tool's own scopes |
//! | `mcp.server.active_sessions` | up-down counter | 2025-11-25 sessions held (Streamable HTTP) |
//! | `mcp.server.active_streams` | up-down counter | notification streams open (Streamable HTTP) |
//!
//! The histogram is the conventions'; the other three are this runtime's own. Each
//! endpoint (each `router()`) registers its own callbacks for the two gauges, which report
//! that endpoint's counts: with several endpoints in one process they are not summed.
//!
//! # The request log line
//!
//! When a request is answered, an `INFO` event of target `mcp_runtime::request` (outside the
//! span, so a formatting subscriber prints it once) gives the method, the tool, prompt or
//! resource, the outcome, the duration in milliseconds and, with
//! [`Telemetry::record_subject`], the subject:
//!
//! ```text
//! INFO mcp_runtime::request: answered method="tools/call" name="add" outcome="ok" ms=0.21
//! ```
//!
//! [`Telemetry::request_log`] turns it off, as does the filter directive
//! `mcp_runtime::request=warn` (which also turns the spans off).
//!
//! [`tracing-opentelemetry`]: https://docs.rs/tracing-opentelemetry

#[cfg(feature = "otel")]
mod otel;
#[cfg(feature = "otlp")]
pub mod otlp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};
use tracing::Span;
use tracing::field::Empty;

use crate::auth::Principal;
use crate::protocol::{Message, RpcError};

/// The target of the request spans and of the request log line.
const TARGET: &str = "mcp_runtime::request";

/// What a server records about its requests: see the [module docs](self).
///
/// ```
/// use mcp_runtime::telemetry::Telemetry;
///
/// // Put the caller's subject on spans and log lines; no log line per request.
/// let telemetry = Telemetry::new().record_subject(true).request_log(false);
/// # let _ = telemetry;
/// ```
#[derive(Clone)]
pub struct Telemetry {
    subject: bool,
    log: bool,
    #[cfg(feature = "otel")]
    meter: Option<opentelemetry::metrics::Meter>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("record_subject", &self.subject)
            .field("request_log", &self.log)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Spans, the request log line, no subject, metrics through the global meter.
    pub fn new() -> Self {
        Self {
            subject: false,
            log: true,
            #[cfg(feature = "otel")]
            meter: None,
        }
    }

    /// Whether spans (`enduser.id`) and log lines carry the caller's subject (`sub`). Off
    /// by default: a subject may identify a person.
    #[must_use]
    pub fn record_subject(mut self, on: bool) -> Self {
        self.subject = on;
        self
    }

    /// Whether each answered request logs a line at `INFO` (on by default).
    #[must_use]
    pub fn request_log(mut self, on: bool) -> Self {
        self.log = on;
        self
    }

    /// Records metrics through `meter` instead of the global meter provider's.
    #[cfg(feature = "otel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
    #[must_use]
    pub fn meter(mut self, meter: opentelemetry::metrics::Meter) -> Self {
        self.meter = Some(meter);
        self
    }
}

/// Counts a transport reports as gauges: sessions held and streams open.
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct Gauges {
    pub(crate) sessions: Box<dyn Fn() -> u64 + Send + Sync>,
    pub(crate) streams: Box<dyn Fn() -> u64 + Send + Sync>,
}

/// The tools and prompts a server declares, sorted: only these names go into span names
/// and metric attributes, so that a client cannot make a series per name it invents.
#[derive(Debug, Default)]
pub(crate) struct Declared {
    tools: Vec<&'static str>,
    prompts: Vec<&'static str>,
}

impl Declared {
    pub(crate) fn new(
        tools: impl IntoIterator<Item = &'static str>,
        prompts: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        let mut tools: Vec<_> = tools.into_iter().collect();
        let mut prompts: Vec<_> = prompts.into_iter().collect();
        tools.sort_unstable();
        prompts.sort_unstable();
        Self { tools, prompts }
    }

    fn has(&self, kind: Kind, name: &str) -> bool {
        match kind {
            Kind::Tool => self.tools.binary_search(&name).is_ok(),
            Kind::Prompt => self.prompts.binary_search(&name).is_ok(),
            Kind::Resource | Kind::Other => false,
        }
    }
}

/// The methods of either revision a client sends, sorted: any other is `_OTHER` in span
/// names and metrics.
const METHODS: &[&str] = &[
    "completion/complete",
    "initialize",
    "logging/setLevel",
    "notifications/cancelled",
    "notifications/initialized",
    "notifications/progress",
    "notifications/roots/list_changed",
    "ping",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "resources/templates/list",
    "resources/unsubscribe",
    "server/discover",
    "subscriptions/listen",
    "tasks/cancel",
    "tasks/get",
    "tasks/list",
    "tasks/result",
    "tasks/update",
    "tools/call",
    "tools/list",
];

/// `method` if it is one of [`METHODS`], else `_OTHER`.
fn known(method: &str) -> &'static str {
    METHODS
        .binary_search(&method)
        .map_or("_OTHER", |i| METHODS[i])
}

/// The telemetry of one endpoint: its settings and instruments.
pub(crate) struct Recorder {
    subject: bool,
    log: bool,
    declared: Declared,
    #[cfg(feature = "otel")]
    instruments: otel::Instruments,
}

impl Recorder {
    #[cfg_attr(
        not(feature = "otel"),
        allow(unused_variables, clippy::needless_pass_by_value)
    )]
    pub(crate) fn new(
        settings: &Telemetry,
        gauges: Option<Gauges>,
        declared: Declared,
    ) -> Arc<Self> {
        Arc::new(Self {
            subject: settings.subject,
            log: settings.log,
            declared,
            #[cfg(feature = "otel")]
            instruments: otel::Instruments::new(settings.meter.as_ref(), gauges),
        })
    }

    /// Counts one token check or scope refusal.
    #[cfg_attr(not(feature = "otel"), allow(clippy::unused_self))]
    pub(crate) fn auth(&self, outcome: AuthOutcome) {
        #[cfg(feature = "otel")]
        self.instruments.auth(outcome);
        #[cfg(not(feature = "otel"))]
        let _ = outcome;
    }

    /// Whether metrics are recorded.
    const METRICS: bool = cfg!(feature = "otel");

    /// Whether a request's trace context (`traceparent`, `tracestate`) can be used: with
    /// `otel` only, so that without it the transport does not look for the headers.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) const PROPAGATES: bool = cfg!(feature = "otel");
}

/// How a request's authentication or authorization ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) enum AuthOutcome {
    Ok,
    /// No bearer token.
    Missing,
    /// `Bearer` without a token, or two `Authorization` headers.
    Malformed,
    /// The token is not one, or failed verification.
    Invalid,
    /// The token lacks a scope the server or the operation requires.
    InsufficientScope,
    /// The peer spent its budget of failed checks.
    Throttled,
    /// The authorization server could not be asked.
    IdpUnavailable,
}

impl AuthOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Invalid => "invalid",
            Self::InsufficientScope => "insufficient_scope",
            Self::Throttled => "throttled",
            Self::IdpUnavailable => "idp_unavailable",
        }
    }
}

/// Where a message came from.
#[derive(Clone, Copy)]
pub(crate) struct Via<'a> {
    /// Streamable HTTP (`tcp`) or stdio (`pipe`).
    pub(crate) http: bool,
    pub(crate) peer: Option<SocketAddr>,
    /// The `traceparent` and `tracestate` headers of the HTTP request.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    pub(crate) trace_headers: (Option<&'a str>, Option<&'a str>),
}

impl Via<'_> {
    /// A message read from stdin.
    #[cfg_attr(not(feature = "stdio"), allow(dead_code))]
    pub(crate) const STDIO: Via<'static> = Via {
        http: false,
        peer: None,
        trace_headers: (None, None),
    };

    fn transport(self) -> &'static str {
        if self.http { "tcp" } else { "pipe" }
    }
}

/// How a request ended.
#[derive(Clone, Copy)]
pub(crate) enum Outcome<'a> {
    /// Answered with a result (or accepted, for a notification).
    Ok,
    /// A `tools/call` result with `isError`.
    ToolError,
    /// Answered with a JSON-RPC error.
    Failed(&'a RpcError),
    /// Refused before the core took it (answered -32600), with a low-cardinality reason
    /// and the message sent.
    Refused(&'static str, &'a str),
    /// Refused for its token: the outcome, and the error sent.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    Denied(AuthOutcome, &'a RpcError),
    /// Cancelled, or its client went away: no answer.
    Cancelled,
}

/// One request as telemetry sees it, from the moment it is read to its answer. Dropping it
/// unfinished records it as cancelled.
pub(crate) struct Operation {
    active: Option<Box<Active>>,
}

struct Active {
    span: Span,
    start: Instant,
    recorder: Arc<Recorder>,
    method: String,
    /// The method, or `_OTHER`.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    known: &'static str,
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    kind: Kind,
    name: Option<String>,
    /// Whether `name` is a tool or prompt the server declares.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    declared: bool,
    version: Option<&'static str>,
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    transport: &'static str,
    subject: Option<String>,
}

/// What the request names besides its method.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tool,
    Prompt,
    Resource,
    Other,
}

impl Operation {
    /// Nothing recorded.
    pub(crate) const NONE: Self = Self { active: None };

    /// Starts recording `message`, unless no one listens. A client's response to a
    /// server's request is not an operation.
    pub(crate) fn start(recorder: &Arc<Recorder>, message: &Message, via: Via<'_>) -> Self {
        let (id, method, params) = match message {
            Message::Request { id, method, params } => (Some(id), method, params),
            Message::Notification { method, params } => (None, method, params),
            Message::Response { .. } => return Self::NONE,
        };
        // No subscriber takes `INFO` and no metric is kept: nothing to build.
        if !Recorder::METRICS
            && tracing::level_filters::LevelFilter::current() < tracing::Level::INFO
        {
            return Self::NONE;
        }
        let (kind, name) = named(method, params);
        let named_as = |k: Kind| (kind == k).then_some(name).flatten();
        let declared = name.is_some_and(|n| recorder.declared.has(kind, n));
        let known = known(method);
        // Every value known now is given at creation: recording it afterwards would look
        // each field up by name again.
        let span = tracing::info_span!(
            target: TARGET,
            "mcp.request",
            otel.name = %SpanName { method: known, kind, name: name.filter(|_| declared) },
            otel.kind = "server",
            otel.status_code = Empty,
            otel.status_description = Empty,
            mcp.method.name = method.as_str(),
            mcp.protocol.version = Empty,
            mcp.session.id = Empty,
            jsonrpc.request.id = id.map(|id| tracing::field::display(IdText(id))),
            gen_ai.tool.name = named_as(Kind::Tool),
            gen_ai.operation.name = named_as(Kind::Tool).map(|_| "execute_tool"),
            gen_ai.prompt.name = named_as(Kind::Prompt),
            mcp.resource.uri = named_as(Kind::Resource),
            error.type = Empty,
            rpc.response.status_code = Empty,
            network.transport = via.transport(),
            network.protocol.name = via.http.then_some("http"),
            client.address = via.peer.map(|p| tracing::field::display(p.ip())),
            client.port = via.peer.map(|p| p.port()),
            enduser.id = Empty,
            mcp.auth.outcome = Empty,
            mcp.auth.scopes.missing = Empty,
        );
        let logged = recorder.log && tracing::enabled!(target: TARGET, tracing::Level::INFO);
        if span.is_disabled() && !logged && !Recorder::METRICS {
            return Self::NONE;
        }
        #[cfg(feature = "otel")]
        if !span.is_disabled() {
            otel::adopt(&span, params, via.trace_headers);
        }
        Self {
            active: Some(Box::new(Active {
                span,
                start: Instant::now(),
                recorder: Arc::clone(recorder),
                method: method.clone(),
                known,
                kind,
                name: name.map(str::to_owned),
                declared,
                version: None,
                transport: via.transport(),
                subject: None,
            })),
        }
    }

    /// The span, for the work of the request to run in.
    pub(crate) fn span(&self) -> Span {
        self.active
            .as_ref()
            .map_or_else(Span::none, |a| a.span.clone())
    }

    /// The session the request belongs to.
    pub(crate) fn session(&mut self, id: &str) {
        if let Some(a) = &self.active {
            a.span.record("mcp.session.id", id);
        }
    }

    /// The protocol version the request speaks.
    pub(crate) fn version(&mut self, version: &'static str) {
        if let Some(a) = &mut self.active {
            a.version = Some(version);
            a.span.record("mcp.protocol.version", version);
        }
    }

    /// The authenticated caller.
    pub(crate) fn caller(&mut self, principal: &Principal) {
        if let Some(a) = &mut self.active {
            a.span.record("mcp.auth.outcome", AuthOutcome::Ok.as_str());
            if a.recorder.subject {
                a.span.record("enduser.id", principal.subject.as_str());
                a.subject = Some(principal.subject.clone());
            }
        }
    }

    /// The caller lacks some of `needed` (or, without a caller, all of them). Counting the
    /// refusal is the caller's: [`Recorder::auth`].
    pub(crate) fn forbidden(&mut self, principal: Option<&Principal>, needed: &[&str]) {
        if let Some(a) = &self.active {
            let missing = missing_scopes(principal, needed);
            a.span
                .record("mcp.auth.outcome", AuthOutcome::InsufficientScope.as_str());
            a.span.record("mcp.auth.scopes.missing", missing.as_str());
        }
    }

    /// Records how the request ended: its span closes once the last clone of it drops.
    pub(crate) fn finish(mut self, outcome: Outcome<'_>) {
        if let Some(active) = self.active.take() {
            active.end(outcome);
        }
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        if let Some(active) = self.active.take() {
            active.end(Outcome::Cancelled);
        }
    }
}

impl Active {
    fn end(self, outcome: Outcome<'_>) {
        let elapsed = self.start.elapsed();
        let mut code = None;
        let refusal;
        let (error_type, message): (Option<&str>, Option<&str>) = match outcome {
            Outcome::Ok => (None, None),
            Outcome::ToolError => (Some("tool_error"), None),
            Outcome::Failed(e) => {
                code = Some(e.code.code());
                (None, Some(e.message.as_str()))
            }
            // Answered -32600; the reason leads the description.
            Outcome::Refused(why, message) => {
                code = Some(crate::protocol::ErrorCode::InvalidRequest.code());
                refusal = format!("{why}: {message}");
                (None, Some(refusal.as_str()))
            }
            Outcome::Denied(auth, e) => {
                code = Some(e.code.code());
                self.span.record("mcp.auth.outcome", auth.as_str());
                (None, Some(e.message.as_str()))
            }
            Outcome::Cancelled => (Some("cancelled"), None),
        };
        let code_text = code.map(|c| c.to_string());
        let code_text = code_text.as_deref();
        let error_type = error_type.or(code_text);
        if !self.span.is_disabled() {
            if let Some(code) = code_text {
                self.span.record("rpc.response.status_code", code);
            }
            if let Some(error_type) = error_type {
                self.span.record("error.type", error_type);
                self.span.record("otel.status_code", "error");
                if let Some(message) = message {
                    self.span.record("otel.status_description", message);
                }
            }
        }
        #[cfg(feature = "otel")]
        self.recorder.instruments.operation(&otel::Operation {
            seconds: elapsed.as_secs_f64(),
            method: self.known,
            tool: (self.kind == Kind::Tool && self.declared)
                .then_some(self.name.as_deref())
                .flatten(),
            prompt: (self.kind == Kind::Prompt && self.declared)
                .then_some(self.name.as_deref())
                .flatten(),
            version: self.version,
            error_type,
            code: code_text,
            transport: self.transport,
        });
        if self.recorder.log {
            // Milliseconds to the microsecond.
            let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
            let ms = f64::from(micros) / 1000.0;
            let outcome = error_type.unwrap_or("ok");
            tracing::info!(
                target: TARGET,
                parent: None,
                method = self.method.as_str(),
                name = self.name.as_deref(),
                outcome,
                ms,
                subject = self.subject.as_deref(),
                "answered"
            );
        }
    }
}

/// The kind and name of what `method` names in `params`.
fn named<'p>(method: &str, params: &'p Map<String, Value>) -> (Kind, Option<&'p str>) {
    let field = |key| params.get(key).and_then(Value::as_str);
    match method {
        "tools/call" => (Kind::Tool, field("name")),
        "prompts/get" => (Kind::Prompt, field("name")),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            (Kind::Resource, field("uri"))
        }
        _ => (Kind::Other, None),
    }
}

/// A request id as text: a number's digits, a string's characters without quotes.
struct IdText<'a>(&'a crate::protocol::RequestId);

impl std::fmt::Display for IdText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            crate::protocol::RequestId::Number(n) => write!(f, "{n}"),
            crate::protocol::RequestId::String(s) => f.write_str(s),
        }
    }
}

/// The span's name: `{method} {name}` for a tool or a prompt, else the method.
struct SpanName<'a> {
    method: &'a str,
    kind: Kind,
    name: Option<&'a str>,
}

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, self.name) {
            (Kind::Tool | Kind::Prompt, Some(name)) => write!(f, "{} {name}", self.method),
            _ => f.write_str(self.method),
        }
    }
}

/// The scopes of `needed` that `principal` lacks, space-separated.
fn missing_scopes(principal: Option<&Principal>, needed: &[&str]) -> String {
    let mut missing = String::new();
    for scope in needed
        .iter()
        .filter(|s| !principal.is_some_and(|p| p.has_scope(s)))
    {
        if !missing.is_empty() {
            missing.push(' ');
        }
        missing.push_str(scope);
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scopes_are_those_the_caller_lacks() {
        let principal = Principal::from_claims(serde_json::json!({
            "sub": "alice", "iss": "https://idp", "scope": "read"
        }))
        .expect("a subject");
        assert_eq!(
            missing_scopes(Some(&principal), &["read", "write", "admin"]),
            "write admin"
        );
        assert_eq!(missing_scopes(None, &["read"]), "read");
    }

    #[test]
    fn request_ids_are_written_without_quotes() {
        use crate::protocol::RequestId;
        assert_eq!(IdText(&RequestId::Number(7)).to_string(), "7");
        assert_eq!(
            IdText(&RequestId::String("req-7".into())).to_string(),
            "req-7"
        );
    }
}
