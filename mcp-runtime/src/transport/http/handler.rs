//! The POST, GET and DELETE handlers of the MCP endpoint.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::body::Answer;
use crate::auth::{Challenge, Principal, challenge_header};
use crate::headers::{self, decode_mirrored};
use crate::protocol::{
    self, ErrorCode, META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PREFIX,
    META_PROTOCOL_VERSION, Message, RequestId, RpcError,
};
use crate::server::McpServer;
use crate::server::context::{ClientDeclaration, ClientLink};
use crate::server::dispatch::{Call, Era, Reply};
use crate::server::input::{Change, LogLevel};
use crate::transport::http::AuthSettings;
use crate::transport::session::Session;

type Ctx<S> = State<Arc<Shared<S>>>;

// The MCP headers as names, so that looking one up does not parse its name again.
const MCP_SESSION_ID: HeaderName = HeaderName::from_static(headers::MCP_SESSION_ID);
const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static(headers::MCP_PROTOCOL_VERSION);
const MCP_METHOD: HeaderName = HeaderName::from_static(headers::MCP_METHOD);
const MCP_NAME: HeaderName = HeaderName::from_static(headers::MCP_NAME);

/// The version assumed for a legacy request without `MCP-Protocol-Version`.
const DEFAULT_LEGACY_VERSION: &str = "2025-03-26";

pub(super) async fn post<S: McpServer>(State(shared): Ctx<S>, req: Request) -> Response {
    if let Err(denied) = guard(&shared, &req) {
        return denied.into_response();
    }
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let auth = authenticate(&shared, &headers).await;
    let accepted = accepts(&headers);
    if !accepted.json || !accepted.sse {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::InvalidRequest,
            "`Accept` must list both `application/json` and `text/event-stream`",
        );
    }
    if !is_json(&headers) {
        return http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidRequest,
            "`Content-Type` must be `application/json`",
        );
    }
    let bytes = match read_body(body, shared.config.body_limit).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let message = Message::parse(&bytes);
    let principal = match auth {
        Ok(principal) => principal,
        // The challenge keeps the request id when the body could be read.
        Err(denied) => {
            return denied.into_response(message.as_ref().ok().and_then(Message::request_id));
        }
    };
    let message = match message {
        Ok(m) => m,
        Err((id, e)) => return rpc_error(StatusCode::BAD_REQUEST, id.as_ref(), &e),
    };
    let prepared = if is_modern(&message, &headers) {
        modern(&shared, &headers, message, principal)
    } else {
        legacy(&shared, &headers, message, principal)
    };
    match prepared {
        Routed::Run(request) => respond(shared, request).await,
        Routed::Answered(response) => response,
    }
}

/// A request ready to run, or an answer already given (an error, an acknowledgement, or a
/// method the transport answers itself).
enum Routed {
    Run(Prepared),
    Answered(Response),
}

/// What [`respond`] needs to run a request.
struct Prepared {
    method: String,
    params: Map<String, Value>,
    call: Call,
    guard: Option<crate::transport::session::InflightGuard>,
}

/// Reads the body, refusing more than `limit` bytes with 413.
async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, Response> {
    use http_body_util::BodyExt as _;
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(http_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::InvalidRequest,
            &format!("the body is larger than {limit} bytes"),
        )),
        Err(_) => Err(http_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            "the body could not be read",
        )),
    }
}

/// The classifier of the module docs.
fn is_modern(message: &Message, headers: &HeaderMap) -> bool {
    let has_modern_meta = message
        .params()
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
        .is_some_and(|m| m.keys().any(|k| k.starts_with(META_PREFIX)));
    if has_modern_meta {
        return true;
    }
    if message.method() == Some("initialize") || headers.contains_key(MCP_SESSION_ID) {
        return false;
    }
    header_str(headers, MCP_PROTOCOL_VERSION).is_some_and(|v| protocol::legacy_version(v).is_none())
}

fn modern<S: McpServer>(
    shared: &Shared<S>,
    headers: &HeaderMap,
    message: Message,
    principal: Option<Arc<Principal>>,
) -> Routed {
    let (id, method, params) = match message {
        Message::Notification { .. } => {
            return Routed::Answered(StatusCode::ACCEPTED.into_response());
        }
        Message::Response { id, .. } => {
            let e = RpcError::new(
                ErrorCode::InvalidRequest,
                "clients do not send responses in 2026-07-28",
            );
            return Routed::Answered(rpc_error(StatusCode::BAD_REQUEST, Some(&id), &e));
        }
        Message::Request { id, method, params } => (id, method, params),
    };
    let bad = |code, msg: String| {
        rpc_error(
            StatusCode::BAD_REQUEST,
            Some(&id),
            &RpcError::new(code, msg),
        )
    };
    let Some(header_version) = header_str(headers, MCP_PROTOCOL_VERSION) else {
        return Routed::Answered(bad(
            ErrorCode::HeaderMismatch,
            "missing `MCP-Protocol-Version` header".into(),
        ));
    };
    let meta = params.get("_meta").and_then(Value::as_object);
    let meta_version = meta
        .and_then(|m| m.get(META_PROTOCOL_VERSION))
        .and_then(Value::as_str);
    let capabilities = meta
        .and_then(|m| m.get(META_CLIENT_CAPABILITIES))
        .filter(|c| c.is_object());
    let (Some(meta_version), Some(_)) = (meta_version, capabilities) else {
        return Routed::Answered(bad(
            ErrorCode::InvalidParams,
            format!(
                "`_meta` must carry `{META_PROTOCOL_VERSION}` and `{META_CLIENT_CAPABILITIES}`"
            ),
        ));
    };
    if header_version != meta_version {
        return Routed::Answered(bad(
            ErrorCode::HeaderMismatch,
            "`MCP-Protocol-Version` header does not match `_meta` protocol version".into(),
        ));
    }
    let Some(version) = protocol::modern_version(meta_version) else {
        let e = crate::server::dispatch::unsupported_version(meta_version);
        return Routed::Answered(rpc_error(StatusCode::BAD_REQUEST, Some(&id), &e));
    };
    if let Err(why) = check_mirrored(headers, &method, &params) {
        return Routed::Answered(bad(ErrorCode::HeaderMismatch, why));
    }
    let log_level = meta.and_then(|m| m.get(META_LOG_LEVEL));
    let parsed = log_level.and_then(Value::as_str).and_then(LogLevel::parse);
    if log_level.is_some() && parsed.is_none() {
        let e = RpcError::invalid_params(format!("unknown `{META_LOG_LEVEL}`"));
        return Routed::Answered(rpc_error(StatusCode::OK, Some(&id), &e));
    }
    let log_level = parsed;
    if method == "subscriptions/listen" {
        return Routed::Answered(listen(shared, &id, &params));
    }
    let link = ClientLink {
        log_level,
        input_responses: params
            .get("inputResponses")
            .and_then(Value::as_object)
            .cloned(),
        hub: Some(shared.hub.clone()),
        ..ClientLink::default()
    };
    // The client's description moves out of `_meta`; the rest (`progressToken`) stays.
    let mut params = params;
    let client = match params.get_mut("_meta") {
        Some(Value::Object(meta)) => ClientDeclaration::new(
            meta.remove(META_CLIENT_INFO),
            meta.remove(META_CLIENT_CAPABILITIES),
        ),
        _ => ClientDeclaration::new(None, None),
    };
    let call = Call {
        id: id.clone(),
        era: Era::Modern(version),
        client,
        cancellation: None,
        notifier: None,
        principal,
        link,
    };
    Routed::Run(Prepared {
        method,
        params,
        call,
        guard: None,
    })
}

/// SEP-2243: `Mcp-Method` always, `Mcp-Name` where the body names a tool, prompt or resource.
fn check_mirrored(
    headers: &HeaderMap,
    method: &str,
    params: &Map<String, Value>,
) -> Result<(), String> {
    mirrors(headers.get(MCP_METHOD), method, "Mcp-Method")?;
    let name_key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        _ => return Ok(()),
    };
    match params.get(name_key).and_then(Value::as_str) {
        Some(body_value) => mirrors(headers.get(MCP_NAME), body_value, "Mcp-Name"),
        None => Ok(()),
    }
}

/// Whether the header `name` mirrors `body_value`: verbatim, with whitespace around, or
/// base64-encoded.
fn mirrors(header: Option<&HeaderValue>, body_value: &str, name: &str) -> Result<(), String> {
    let Some(header) = header else {
        return Err(format!("missing `{name}` header"));
    };
    let raw = header.as_bytes();
    // The common case, a plain value sent as is, needs no decoding.
    let plain = raw.iter().all(|b| (0x21..0x7f).contains(b)) && !raw.starts_with(b"=?");
    if plain && raw == body_value.as_bytes() {
        return Ok(());
    }
    match decode_mirrored(raw) {
        None => Err(format!("`{name}` header has invalid characters")),
        Some(v) if v != body_value => Err(format!("`{name}` header does not match the body")),
        Some(_) => Ok(()),
    }
}

fn legacy<S: McpServer>(
    shared: &Shared<S>,
    headers: &HeaderMap,
    message: Message,
    principal: Option<Arc<Principal>>,
) -> Routed {
    let stateless = shared.engine.descriptor().stateless;
    if let Message::Request { id, method, params } = &message
        && method == "initialize"
    {
        return Routed::Answered(initialize(shared, id, params, principal.as_deref()));
    }
    let session = if stateless {
        None
    } else {
        match session_of(shared, headers, principal.as_deref()) {
            Ok(s) => Some(s),
            Err(refusal) => return Routed::Answered(refusal.into_response()),
        }
    };
    let version = match header_str(headers, MCP_PROTOCOL_VERSION) {
        None => session
            .as_ref()
            .map_or(DEFAULT_LEGACY_VERSION, |s| s.version),
        Some(v) => {
            let Some(version) = protocol::legacy_version(v) else {
                let e = RpcError::new(
                    ErrorCode::InvalidRequest,
                    format!("unsupported `MCP-Protocol-Version` `{v}`"),
                );
                return Routed::Answered(rpc_error(
                    StatusCode::BAD_REQUEST,
                    message.request_id(),
                    &e,
                ));
            };
            version
        }
    };
    match message {
        Message::Notification { method, params } => {
            if method == "notifications/cancelled"
                && let (Some(session), Some(id)) = (&session, params.get("requestId"))
                && let Ok(id) = serde_json::from_value::<RequestId>(id.clone())
            {
                session.cancel(&id);
            }
            Routed::Answered(StatusCode::ACCEPTED.into_response())
        }
        Message::Response { id, outcome } => {
            if let Some(session) = &session {
                session.pending.resolve(&id, outcome);
            }
            Routed::Answered(StatusCode::ACCEPTED.into_response())
        }
        Message::Request { id, method, params } if method == "logging/setLevel" => {
            let Some(level) = params
                .get("level")
                .and_then(Value::as_str)
                .and_then(LogLevel::parse)
            else {
                let e = RpcError::invalid_params(
                    "`level` must be one of debug, info, notice, warning, error, critical, alert, emergency",
                );
                return Routed::Answered(rpc_error(StatusCode::OK, Some(&id), &e));
            };
            if let Some(session) = &session {
                session.set_log_level(level);
            }
            Routed::Answered(json_response(
                StatusCode::OK,
                protocol::response_json(&id, &Value::Object(Map::new())),
            ))
        }
        Message::Request { id, method, params } => {
            if let (Some(session), "resources/subscribe" | "resources/unsubscribe", Some(uri)) = (
                &session,
                method.as_str(),
                params.get("uri").and_then(Value::as_str),
            ) {
                session.subscribe(uri, method == "resources/subscribe");
            }
            let (cancellation, guard) = match &session {
                Some(s) => {
                    let (token, guard) = s.track(&id);
                    (Some(token), Some(guard))
                }
                None => (None, None),
            };
            let call = Call {
                id,
                era: Era::Legacy(version),
                client: session.as_ref().map_or_else(
                    || ClientDeclaration::new(None, None),
                    |s| Arc::clone(&s.client),
                ),
                cancellation,
                notifier: None,
                principal,
                link: ClientLink {
                    log_level: session.as_ref().and_then(|s| s.log_level()),
                    pending: session.as_ref().map(|s| Arc::clone(&s.pending)),
                    session: session.as_ref().map(|s| s.handle()),
                    hub: Some(shared.hub.clone()),
                    ..ClientLink::default()
                },
            };
            Routed::Run(Prepared {
                method,
                params,
                call,
                guard,
            })
        }
    }
}

fn initialize<S: McpServer>(
    shared: &Shared<S>,
    id: &RequestId,
    params: &Map<String, Value>,
    principal: Option<&Principal>,
) -> Response {
    let (version, result) = shared.engine.initialize(params);
    let body = protocol::response_json(id, &result);
    if shared.engine.descriptor().stateless {
        return json_response(StatusCode::OK, body);
    }
    let client = ClientDeclaration::new(
        params.get("clientInfo").cloned(),
        params.get("capabilities").cloned(),
    );
    let owner = principal.map(|p| (p.issuer.clone(), p.subject.clone()));
    let Ok(session) = shared.sessions.create(version, client, owner) else {
        let e = RpcError::new(
            ErrorCode::InternalError,
            "too many sessions; try again later",
        );
        return rpc_error(StatusCode::SERVICE_UNAVAILABLE, Some(id), &e);
    };
    let mut response = json_response(StatusCode::OK, body);
    if let Ok(value) = HeaderValue::from_str(&session.id) {
        response.headers_mut().insert(MCP_SESSION_ID, value);
    }
    response
}

/// Runs one request; see [`stream`](super::stream) for how JSON or SSE is chosen.
async fn respond<S: McpServer>(shared: Arc<Shared<S>>, request: Prepared) -> Response {
    let Prepared {
        method,
        params,
        call,
        guard,
    } = request;
    let id = call.id.clone();
    let era = call.era;
    if let Some(denied) = check_tool_scopes(&shared, &method, &params, &call) {
        return denied.into_response(Some(&id));
    }
    let answer = move |outcome: Result<Reply, RpcError>| match outcome {
        Ok(reply) => (StatusCode::OK, Answer::reply(&id, reply)),
        Err(e) => (
            error_status(era, &e),
            Answer::Whole(protocol::error_json(Some(&id), &e)),
        ),
    };
    if call.may_stream(&params) {
        // Boxed: this path's state stays out of every other request's future.
        return Box::pin(respond_streaming(
            shared, method, params, call, guard, answer,
        ))
        .await;
    }
    // Only the result can come: no stream to prepare for. Nothing can cancel a request
    // outside a session but the client going away.
    let watch = call.cancellation.clone();
    let mut request = std::pin::pin!(shared.engine.request(&method, params, call));
    let outcome = match watch {
        // Biased: a tool that returns because it saw the cancellation gets no answer.
        Some(cancellation) => tokio::select! {
            biased;
            () = cancellation.cancelled() => return StatusCode::NO_CONTENT.into_response(),
            outcome = &mut request => outcome,
        },
        None => request.await,
    };
    drop(guard);
    let (status, answer) = answer(outcome);
    json_body(status, answer.into_body())
}

/// Runs a request whose handler may send messages before its result; see
/// [`stream`](super::stream).
async fn respond_streaming<S: McpServer>(
    shared: Arc<Shared<S>>,
    method: String,
    params: Map<String, Value>,
    mut call: Call,
    guard: Option<crate::transport::session::InflightGuard>,
    answer: impl FnOnce(Result<Reply, RpcError>) -> (StatusCode, Answer) + Send + 'static,
) -> Response {
    let cancellation = call
        .cancellation
        .get_or_insert_with(CancellationToken::new)
        .clone();
    let (tx, rx) = mpsc::channel::<Vec<u8>>(32);
    call.notifier = Some(tx);
    let work: super::stream::Work = Box::pin(async move {
        let _guard = guard;
        answer(shared.engine.request(&method, params, call).await)
    });
    match super::stream::first(work, rx, cancellation).await {
        super::stream::First::Done(status, answer) => json_body(status, answer.into_body()),
        super::stream::First::Streaming(rest) => sse_stream(rest),
        super::stream::First::Cancelled => StatusCode::NO_CONTENT.into_response(),
    }
}

fn sse_stream<St>(stream: St) -> Response
where
    St: futures_util::Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn sse_response(rx: mpsc::Receiver<Vec<u8>>) -> Response {
    sse_stream(ReceiverStream::new(rx).map(|bytes| {
        let data = String::from_utf8(bytes).unwrap_or_default();
        Ok::<_, Infallible>(Event::default().event("message").data(data))
    }))
}

/// The standalone SSE stream of a 2025-11-25 session.
pub(super) async fn get<S: McpServer>(State(shared): Ctx<S>, req: Request) -> Response {
    if let Err(denied) = guard(&shared, &req) {
        return denied.into_response();
    }
    let headers = req.headers();
    let principal = match authenticate(&shared, headers).await {
        Ok(p) => p,
        Err(denied) => return denied.into_response(None),
    };
    if shared.engine.descriptor().stateless
        || !headers.contains_key(MCP_SESSION_ID) && is_modern_header(headers)
    {
        return method_not_allowed();
    }
    if !accepts(headers).sse {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::InvalidRequest,
            "`Accept` must list `text/event-stream`",
        );
    }
    match session_of(&shared, headers, principal.as_deref()) {
        Ok(session) => sse_response(session.open_stream(&shared.hub)),
        Err(refusal) => refusal.into_response(),
    }
}

/// Ends a 2025-11-25 session.
pub(super) async fn delete<S: McpServer>(State(shared): Ctx<S>, req: Request) -> Response {
    if let Err(denied) = guard(&shared, &req) {
        return denied.into_response();
    }
    let headers = req.headers();
    let principal = match authenticate(&shared, headers).await {
        Ok(p) => p,
        Err(denied) => return denied.into_response(None),
    };
    if shared.engine.descriptor().stateless
        || !headers.contains_key(MCP_SESSION_ID) && is_modern_header(headers)
    {
        return method_not_allowed();
    }
    match session_of(&shared, headers, principal.as_deref()) {
        Ok(session) => {
            shared.sessions.remove(&session.id);
            StatusCode::OK.into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

fn is_modern_header(headers: &HeaderMap) -> bool {
    header_str(headers, MCP_PROTOCOL_VERSION).is_some_and(|v| protocol::modern_version(v).is_some())
}

/// A request refused before it reaches the server, answered as an `InvalidRequest` error with
/// this status. Kept small (not a `Response`) because it travels in a `Result`.
struct Refusal {
    status: StatusCode,
    message: &'static str,
}

impl IntoResponse for Refusal {
    #[cold]
    fn into_response(self) -> Response {
        http_error(self.status, ErrorCode::InvalidRequest, self.message)
    }
}

/// The session named by the request; a session opened by another principal is, to this
/// caller, a session that does not exist.
fn session_of<S>(
    shared: &Shared<S>,
    headers: &HeaderMap,
    principal: Option<&Principal>,
) -> Result<Arc<Session>, Refusal> {
    let Some(id) = header_str(headers, MCP_SESSION_ID) else {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            message: "missing `Mcp-Session-Id` header; send `initialize` first",
        });
    };
    let owner = principal.map(|p| (p.issuer.as_str(), p.subject.as_str()));
    shared
        .sessions
        .get(id)
        .filter(|s| s.is_owned_by(owner))
        .ok_or(Refusal {
            status: StatusCode::NOT_FOUND,
            message: "session not found; send `initialize` again",
        })
}

/// DNS-rebinding protection: the `Host` must be one this endpoint serves, and a browser's
/// `Origin`, when present, must be allowed (2025-11-25 transports, security warning).
fn guard<S>(shared: &Shared<S>, req: &Request) -> Result<(), Refusal> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| {
            req.uri()
                .authority()
                .map(axum::http::uri::Authority::as_str)
        });
    if !host.is_some_and(|h| shared.config.host_allowed(h)) {
        return Err(Refusal {
            status: StatusCode::FORBIDDEN,
            message: "host not allowed",
        });
    }
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !origin
            .to_str()
            .is_ok_and(|o| shared.config.origin_allowed(o))
    {
        return Err(Refusal {
            status: StatusCode::FORBIDDEN,
            message: "origin not allowed",
        });
    }
    Ok(())
}

/// The HTTP status of a JSON-RPC error: 2026-07-28 answers an unknown method with 404 and
/// other errors with 200 (as its reference server does); 2025-11-25 always 200.
fn error_status(era: Era, error: &RpcError) -> StatusCode {
    match (era, error.code) {
        (Era::Modern(_), ErrorCode::MethodNotFound) => StatusCode::NOT_FOUND,
        (Era::Modern(_), ErrorCode::MissingRequiredClientCapability) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Which of the two media types of an MCP endpoint `Accept` admits.
struct Accepted {
    json: bool,
    sse: bool,
}

/// Reads `Accept` once, without allocating; wildcards count, case does not.
fn accepts(headers: &HeaderMap) -> Accepted {
    let mut accepted = Accepted {
        json: false,
        sse: false,
    };
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','));
    for range in ranges {
        // The media range is what comes before any parameter, without whitespace.
        let range = range.split(|&b| b == b';').next().unwrap_or_default();
        let range = range.trim_ascii();
        let is = |media: &[u8]| range.eq_ignore_ascii_case(media);
        accepted.json |= is(b"application/json") || is(b"application/*") || is(b"*/*");
        accepted.sse |= is(b"text/event-stream") || is(b"text/*") || is(b"*/*");
    }
    accepted
}

fn is_json(headers: &HeaderMap) -> bool {
    header_str(headers, header::CONTENT_TYPE)
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    json_body(status, Body::from(body))
}

fn json_body(status: StatusCode, body: Body) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[cold]
fn rpc_error(status: StatusCode, id: Option<&RequestId>, error: &RpcError) -> Response {
    json_response(status, protocol::error_json(id, error))
}

#[cold]
fn http_error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    rpc_error(status, None, &RpcError::new(code, message))
}

#[cold]
fn method_not_allowed() -> Response {
    let mut response = http_error(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::InvalidRequest,
        "this endpoint keeps no sessions: only POST is served",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// 403 before the tool runs when the token lacks the tool's scopes, naming every scope the
/// call needs so one step-up round suffices.
fn check_tool_scopes<S: McpServer>(
    shared: &Shared<S>,
    method: &str,
    params: &Map<String, Value>,
    call: &Call,
) -> Option<Denied> {
    let (Some(auth), Some(principal)) = (&shared.config.auth, &call.principal) else {
        return None;
    };
    if method != "tools/call" {
        return None;
    }
    let name = params.get("name").and_then(Value::as_str)?;
    let tool = shared
        .engine
        .descriptor()
        .tools
        .iter()
        .find(|t| t.name == name)?;
    if tool.scopes.iter().all(|s| principal.has_scope(s)) {
        return None;
    }
    let mut needed: Vec<&str> = auth.required.to_vec();
    needed.extend(tool.scopes.iter().filter(|s| !auth.required.contains(s)));
    let e = RpcError::new(
        ErrorCode::InsufficientScope,
        format!("insufficient scope for tool `{name}`"),
    );
    Some(Denied::challenge(
        auth,
        Challenge::InsufficientScope,
        &needed,
        e,
    ))
}

/// A refused request: status, challenge and JSON-RPC error.
struct Denied {
    status: StatusCode,
    challenge: Option<String>,
    error: RpcError,
}

impl Denied {
    #[cold]
    fn challenge(auth: &AuthSettings, kind: Challenge, scopes: &[&str], error: RpcError) -> Self {
        let status = match kind {
            Challenge::Missing | Challenge::InvalidToken => StatusCode::UNAUTHORIZED,
            Challenge::InvalidRequest => StatusCode::BAD_REQUEST,
            Challenge::InsufficientScope => StatusCode::FORBIDDEN,
        };
        let header = challenge_header(kind, &auth.config.metadata_url, scopes);
        Self {
            status,
            challenge: Some(header),
            error,
        }
    }

    #[cold]
    fn into_response(self, id: Option<&RequestId>) -> Response {
        let mut response = rpc_error(self.status, id, &self.error);
        if let Some(value) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// RFC 6750 §2.1: a bearer token in the `Authorization` header, verified on every request.
/// Tokens in the query string or body are never read.
async fn authenticate<S>(
    shared: &Shared<S>,
    headers: &HeaderMap,
) -> Result<Option<Arc<Principal>>, Denied> {
    let Some(auth) = &shared.config.auth else {
        return Ok(None);
    };
    let refuse = |kind, message: &str| {
        let e = RpcError::new(ErrorCode::InvalidRequest, message);
        Denied::challenge(auth, kind, auth.required, e)
    };
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(header::AUTHORIZATION) {
            refuse(Challenge::InvalidRequest, "send one `Authorization` header")
        } else {
            refuse(Challenge::Missing, "authorization required")
        });
    };
    let Ok(value) = value.to_str() else {
        return Err(refuse(
            Challenge::InvalidRequest,
            "malformed `Authorization` header",
        ));
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(refuse(Challenge::Missing, "authorization required"));
    }
    let token = token.trim();
    let b64token = token.trim_end_matches('=');
    if b64token.is_empty()
        || !b64token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    {
        return Err(refuse(
            Challenge::InvalidRequest,
            "malformed `Authorization` header",
        ));
    }
    // Boxed: verification (with its key refresh) stays out of the request's future.
    let principal = Box::pin(auth.config.verifier.verify(token, &auth.config.audiences))
        .await
        .map_err(|why| {
            tracing::debug!(reason = why.0, "access token refused");
            refuse(Challenge::InvalidToken, "invalid access token")
        })?;
    if let Some(missing) = auth.required.iter().find(|s| !principal.has_scope(s)) {
        tracing::debug!(scope = %missing, "token lacks a required scope");
        let e = RpcError::new(ErrorCode::InsufficientScope, "insufficient scope");
        return Err(Denied::challenge(
            auth,
            Challenge::InsufficientScope,
            auth.required,
            e,
        ));
    }
    Ok(Some(principal))
}

/// `_meta` key of a 2026-07-28 request's log level.
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// 2026-07-28 `subscriptions/listen`: an SSE stream that first acknowledges the
/// notifications it will carry, then carries exactly those, each tagged with the listen
/// request's id as `subscriptionId`. Closing the stream ends the subscription.
fn listen<S: McpServer>(
    shared: &Shared<S>,
    id: &RequestId,
    params: &Map<String, Value>,
) -> Response {
    let asked = params.get("notifications").and_then(Value::as_object);
    let flag = |name: &str| {
        asked
            .and_then(|a| a.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let desc = shared.engine.descriptor();
    let tools = flag("toolsListChanged") && !desc.tools.is_empty();
    let prompts = flag("promptsListChanged") && shared.engine.declares("prompts");
    let resources = flag("resourcesListChanged") && shared.engine.declares("resources");
    let uris: Vec<String> = asked
        .and_then(|a| a.get("resourceSubscriptions"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let uris: Vec<String> = if shared.engine.declares("resources") {
        uris
    } else {
        Vec::new()
    };
    let mut honored = Map::new();
    for (name, on) in [
        ("toolsListChanged", tools),
        ("promptsListChanged", prompts),
        ("resourcesListChanged", resources),
    ] {
        if on {
            honored.insert(name.into(), Value::Bool(true));
        }
    }
    if !uris.is_empty() {
        honored.insert("resourceSubscriptions".into(), serde_json::json!(uris));
    }
    let meta = serde_json::json!({ "io.modelcontextprotocol/subscriptionId": id });
    let (tx, rx) = mpsc::channel::<Vec<u8>>(64);
    let ack = protocol::notification_json(
        "notifications/subscriptions/acknowledged",
        &serde_json::json!({"notifications": honored, "_meta": meta}),
    );
    let mut changes = shared.hub.subscribe();
    tokio::spawn(async move {
        if tx.send(ack).await.is_err() {
            return;
        }
        loop {
            let change = tokio::select! {
                () = tx.closed() => return,
                change = changes.recv() => change,
            };
            let change = match change {
                Ok(change) => change,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let (method, mut params) = match change {
                Change::Tools if tools => {
                    ("notifications/tools/list_changed", serde_json::json!({}))
                }
                Change::Prompts if prompts => {
                    ("notifications/prompts/list_changed", serde_json::json!({}))
                }
                Change::Resources if resources => (
                    "notifications/resources/list_changed",
                    serde_json::json!({}),
                ),
                Change::Resource(uri) if uris.contains(&uri) => (
                    "notifications/resources/updated",
                    serde_json::json!({"uri": uri}),
                ),
                _ => continue,
            };
            params["_meta"] = meta.clone();
            if tx
                .send(protocol::notification_json(method, &params))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    sse_response(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(values: &[&str]) -> (bool, bool) {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        let a = accepts(&headers);
        (a.json, a.sse)
    }

    #[test]
    fn accept_is_read_with_wildcards_parameters_and_any_case() {
        assert_eq!(
            accepted(&["application/json, text/event-stream"]),
            (true, true)
        );
        assert_eq!(
            accepted(&["Application/JSON;q=0.9", " TEXT/Event-Stream "]),
            (true, true)
        );
        assert_eq!(accepted(&["*/*"]), (true, true));
        assert_eq!(accepted(&["application/*"]), (true, false));
        assert_eq!(accepted(&["text/*;q=1, application/xml"]), (false, true));
        assert_eq!(accepted(&["application/jsonx, text/event"]), (false, false));
        assert_eq!(accepted(&["*/json"]), (false, false));
        assert_eq!(accepted(&[]), (false, false));
    }
}
