//! The `POST`, `GET` and `DELETE` handlers of the MCP endpoint, behind the layers: they read
//! the body, hand the message and its caller to the connection core, and write the
//! [`Step`] it returns.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use futures_util::StreamExt as _;

use tower_service::Service;

use super::Http;
use super::bearer::Caller;
use super::error::{Refusal, json_response, rpc_error};
use super::lifecycle::Held;
use super::respond::{
    error_status, frames_of, read_frames, received, respond, resumable, sse_response,
};
use super::revision::{MCP_SESSION_ID, STORE_DOWN, no_session, route};
use super::sse::Frame;
use super::{header_str, trace_headers};
use crate::auth::Principal;
use tokio_util::sync::CancellationToken;

use crate::connection::events::{EventId, Kind};
use crate::connection::session::Session;
use crate::connection::{Limited, Step};
use crate::protocol::Message;
use crate::server::McpServer;
use crate::server::input::Hub;
use crate::telemetry::{AuthOutcome, Operation, Outcome, Recorder, Via};
use tracing::Instrument as _;

/// The MCP endpoint as a service: `POST`, `GET` and `DELETE`, 405 for any other method.
pub(super) struct Endpoint<S> {
    http: Arc<Http<S>>,
}

impl<S: McpServer> Endpoint<S> {
    pub(super) fn new(http: Http<S>) -> Self {
        Self {
            http: Arc::new(http),
        }
    }

    /// Whether the server keeps no sessions.
    pub(super) fn stateless(&self) -> bool {
        self.http.core.stateless()
    }
}

impl<S> Clone for Endpoint<S> {
    fn clone(&self) -> Self {
        Self {
            http: Arc::clone(&self.http),
        }
    }
}

type EndpointFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S: McpServer> Service<Request> for Endpoint<S> {
    type Response = Response;
    type Error = Infallible;
    type Future = EndpointFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let http = Arc::clone(&self.http);
        match *req.method() {
            Method::POST => Box::pin(async move { Ok(post(http, req).await) }),
            Method::GET => {
                let (head, _) = req.into_parts();
                Box::pin(async move { Ok(get(&http, &head).await) })
            }
            Method::DELETE => {
                let (head, _) = req.into_parts();
                Box::pin(async move { Ok(delete(&http, &head).await) })
            }
            _ => Box::pin(std::future::ready(Ok(OTHER_METHOD.into_response()))),
        }
    }
}

/// 405 for a method the endpoint does not serve.
const OTHER_METHOD: Refusal = Refusal::new(
    StatusCode::METHOD_NOT_ALLOWED,
    "the MCP endpoint serves POST, GET and DELETE",
);

async fn post<S: McpServer>(http: Arc<Http<S>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let caller = parts.extensions.get::<Caller>();
    let mut read = std::pin::pin!(read_body(body, http.config.body_limit));
    // A body that came with the head is read at once, without arming a timer.
    let read = match super::respond::poll_once(read.as_mut()).await {
        Poll::Ready(read) => read,
        Poll::Pending => tokio::select! {
            read = tokio::time::timeout(http.config.body_timeout, read) => match read {
                Ok(read) => read,
                Err(_) => return SLOW_BODY.into_response(),
            },
            () = http.config.life.deadline.cancelled() => return shutting_down(None),
        },
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal.into_response(),
    };
    let message = match Message::parse(&bytes) {
        Ok(m) => m,
        Err((id, e)) => return rpc_error(StatusCode::BAD_REQUEST, id.as_ref(), &e),
    };
    let principal = caller.map(|c| Arc::clone(&c.principal));
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let via = Via {
        http: true,
        peer: address,
        trace_headers: if Recorder::PROPAGATES {
            trace_headers(&parts.headers)
        } else {
            (None, None)
        },
    };
    let mut operation = Operation::start(&http.recorder, &message, via);
    if let Some(principal) = &principal {
        operation.caller(principal);
    }
    if let Some(session) = header_str(&parts.headers, &MCP_SESSION_ID) {
        operation.session(session);
    }
    let route = route(
        &http.core,
        &parts.headers,
        message,
        principal,
        address.map(|a| a.ip()),
    );
    let step = route.instrument(operation.span()).await;
    write(http, caller, step, operation).await
}

/// 408 for a body that arrives slower than [`HttpConfig::body_timeout`](super::HttpConfig::body_timeout).
const SLOW_BODY: Refusal = Refusal::new(
    StatusCode::REQUEST_TIMEOUT,
    "the body did not arrive in time",
);

/// 503 for a request whose body was still arriving when the drain deadline came.
fn shutting_down(id: Option<&crate::protocol::RequestId>) -> Response {
    let mut response = rpc_error(
        StatusCode::SERVICE_UNAVAILABLE,
        id,
        &super::respond::shutting_down(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// 503 (the server at its limit) or 429 (the client at its share), with `Retry-After`.
fn limited(limited: &Limited) -> Response {
    let status = if limited.server_wide {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::TOO_MANY_REQUESTS
    };
    let mut response = rpc_error(status, Some(&limited.id), &limited.error);
    let seconds = limited.retry_after.as_secs().max(1);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Writes what the core decided, and records how the request ended.
async fn write<S: McpServer>(
    http: Arc<Http<S>>,
    caller: Option<&Caller>,
    step: Step,
    mut operation: Operation,
) -> Response {
    match step {
        Step::Run(prepared) => {
            operation.version(prepared.call.era.version());
            respond(http, prepared, operation).await
        }
        Step::Result(body) => {
            operation.finish(Outcome::Ok);
            json_response(StatusCode::OK, body)
        }
        Step::Accepted => {
            operation.finish(Outcome::Ok);
            StatusCode::ACCEPTED.into_response()
        }
        Step::Error {
            id,
            era,
            error,
            malformed,
        } => {
            if let Some(era) = era {
                operation.version(era.version());
            }
            operation.finish(Outcome::Failed(&error));
            let status = match era {
                _ if malformed => StatusCode::BAD_REQUEST,
                Some(era) => error_status(era, &error),
                None => StatusCode::OK,
            };
            rpc_error(status, id.as_ref(), &error)
        }
        Step::Limited(l) => {
            operation.finish(Outcome::Failed(&l.error));
            limited(&l)
        }
        Step::Forbidden(id, forbidden) => {
            http.recorder.auth(AuthOutcome::InsufficientScope);
            let needed = forbidden.needed();
            operation.forbidden(caller.map(|c| &*c.principal), &needed);
            operation.finish(Outcome::Failed(&forbidden.error));
            match caller {
                Some(caller) => caller.insufficient_scope(Some(&id), &needed, &forbidden.error),
                None => rpc_error(StatusCode::FORBIDDEN, Some(&id), &forbidden.error),
            }
        }
        Step::Opened {
            body,
            session,
            version,
        } => {
            operation.version(version);
            if let Some(session) = &session {
                operation.session(&session.id);
            }
            operation.finish(Outcome::Ok);
            let mut response = json_response(StatusCode::OK, body);
            if let Some(value) = session.and_then(|s| HeaderValue::from_str(&s.id).ok()) {
                response.headers_mut().insert(MCP_SESSION_ID, value);
            }
            response
        }
        Step::Listen(rx) => {
            operation.finish(Outcome::Ok);
            notification_stream(&http, rx)
        }
        Step::NoSession(why) => {
            let refusal = no_session(why);
            operation.finish(Outcome::Refused(why.as_str(), refusal.message));
            refusal.into_response()
        }
    }
}

/// Reads the body, refusing more than `limit` bytes with 413.
async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, Refusal> {
    use http_body_util::BodyExt as _;
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is larger than the endpoint accepts",
        )),
        Err(_) => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "the body could not be read",
        )),
    }
}

/// The session a `GET` or `DELETE` names, as the layers let it through.
async fn session_of<S: McpServer>(http: &Http<S>, head: &Parts) -> Result<Arc<Session>, Refusal> {
    let caller: Option<&Principal> = head.extensions.get::<Caller>().map(|c| &*c.principal);
    http.core
        .session_for(header_str(&head.headers, &MCP_SESSION_ID), caller)
        .await
        .map_err(no_session)
}

/// The standalone SSE stream of a 2025-11-25 session, or with `Last-Event-ID` the rest of
/// any of its streams (see [`events`](crate::connection::events)).
async fn get<S: McpServer>(http: &Http<S>, request: &Parts) -> Response {
    let session = match session_of(http, request).await {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    let resume = match request.headers.get(LAST_EVENT_ID) {
        None => None,
        Some(value) => match value.to_str().ok().and_then(EventId::parse) {
            Some(id) => Some(id),
            None => return NOT_AN_EVENT_ID.into_response(),
        },
    };
    let Some(held) = http.config.life.stream(http.config.max_streams) else {
        return too_many_streams();
    };
    let streams = session.streams();
    if let Some(id) = resume {
        if let Some(reader) = streams.read(id.stream, id.seq) {
            return sse_response(&http.config, read_frames(reader), held);
        }
        return resume_elsewhere(http, &session, id, held).await;
    }
    sse_response(&http.config, standalone(http, &session), held)
}

/// A new standalone stream of `session`: its notifications, kept for resumption. While
/// the server drains, the stream goes on being written without a connection; once it
/// stops, the stream is handed off to another replica where replicas share sessions, which
/// writes on what is raised from then on (the moment of the handoff itself, a few
/// milliseconds, is not covered), for the client to resume there.
fn standalone<S: McpServer>(
    http: &Http<S>,
    session: &Arc<Session>,
) -> impl futures_util::Stream<Item = Frame> + Send + use<S> {
    open_standalone(session, &http.core.hub, http.config.life.stopped.clone())
}

fn open_standalone(
    session: &Arc<Session>,
    hub: &Hub,
    stopped: CancellationToken,
) -> impl futures_util::Stream<Item = Frame> + Send + use<> {
    let notifications = received(session.open_stream(hub));
    resumable(
        session.streams(),
        Kind::Standalone,
        notifications,
        Some(stopped),
    )
}

/// Resumes a stream this process does not hold: one another replica wrote, read from the
/// store shared by replicas. A standalone stream then carries on here as a new stream
/// once no replica writes the one read any more.
async fn resume_elsewhere<S: McpServer>(
    http: &Http<S>,
    session: &Arc<Session>,
    id: EventId,
    held: Held,
) -> Response {
    let Some(shared) = http.core.sessions.shared() else {
        return STREAM_GONE.into_response();
    };
    // Once no replica writes the stream any more (its writer is gone), it carries on
    // here, as a new stream.
    let next = id.standalone().then(|| {
        let (session, hub) = (Arc::clone(session), http.core.hub.clone());
        let stopped = http.config.life.stopped.clone();
        futures_util::stream::once(async move { open_standalone(&session, &hub, stopped) })
            .flatten()
    });
    match shared.read(&session.id, id).await {
        Ok(Some(remote)) => {
            let frames = frames_of(remote).chain(futures_util::stream::iter(next).flatten());
            sse_response(&http.config, frames, held)
        }
        // A standalone stream quiet for longer than the store keeps it: nothing the
        // client missed is left, and it carries on as a new stream.
        Ok(None) => match next {
            Some(next) => sse_response(&http.config, next, held),
            None => STREAM_GONE.into_response(),
        },
        Err(_) => STORE_DOWN.into_response(),
    }
}

/// The header naming the last event a resuming client saw.
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// 400 for a `Last-Event-ID` this server did not give.
const NOT_AN_EVENT_ID: Refusal = Refusal::new(
    StatusCode::BAD_REQUEST,
    "`Last-Event-ID` is not an event id of this server",
);

/// 400 for a `Last-Event-ID` of a stream the session no longer holds.
const STREAM_GONE: Refusal = Refusal::new(
    StatusCode::BAD_REQUEST,
    "`Last-Event-ID` names a stream this session no longer holds; open a new stream without it",
);

/// A notification stream, unless as many are open as the endpoint allows.
fn notification_stream<S: McpServer>(
    http: &Http<S>,
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
) -> Response {
    match http.config.life.stream(http.config.max_streams) {
        Some(held) => sse_response(
            &http.config,
            received(rx).map(|m| Frame::message(None, &m)),
            held,
        ),
        None => too_many_streams(),
    }
}

#[cold]
fn too_many_streams() -> Response {
    tracing::warn!("notification stream limit reached (`HttpConfig::max_streams`)");
    let mut response = Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server has as many notification streams open as it may; try again later",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// Ends a 2025-11-25 session.
async fn delete<S: McpServer>(http: &Http<S>, head: &Parts) -> Response {
    match session_of(http, head).await {
        Ok(session) => match http.core.sessions.remove(&session.id).await {
            Ok(_) => StatusCode::OK.into_response(),
            Err(_) => STORE_DOWN.into_response(),
        },
        Err(refusal) => refusal.into_response(),
    }
}
