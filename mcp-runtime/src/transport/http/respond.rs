//! Running one request: awaited directly when its handler can send nothing before the
//! result, otherwise as described in [`stream`](super::stream).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use futures_util::{Stream, StreamExt as _};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::body::Answer;
use super::error::json_body;
use super::lifecycle::Held;
use super::sse::{self, Frame};
use super::stream::Continue;
use super::{Http, HttpConfig};
use crate::connection::Prepared;
use crate::connection::events::{EventId, Kind, Reader, Streams, spawn_writer};
use crate::connection::session::{InflightGuard, Session};
use crate::protocol::{self, ErrorCode, RpcError};
use crate::server::McpServer;
use crate::server::context::CLOSE_STREAM;
use crate::server::dispatch::{Call, Era, Reply};
use crate::telemetry::{Operation, Outcome};
use tracing::Instrument as _;

/// How a request ended: with the handler's outcome, or cut short by the drain deadline.
enum Finished {
    Ran(Result<Reply, RpcError>),
    ShuttingDown,
}

/// Runs one request; see [`stream`](super::stream) for how JSON or SSE is chosen.
pub(super) async fn respond<S: McpServer>(
    http: Arc<Http<S>>,
    request: Prepared,
    operation: Operation,
) -> Response {
    let Prepared {
        method,
        params,
        call,
        guard,
    } = request;
    let id = call.id.clone();
    let era = call.era;
    let span = operation.span();
    let answer = move |finished: Finished| match finished {
        Finished::Ran(Ok(reply)) => {
            operation.finish(if reply.is_tool_error() {
                Outcome::ToolError
            } else {
                Outcome::Ok
            });
            (StatusCode::OK, Answer::reply(&id, reply))
        }
        Finished::Ran(Err(e)) => {
            operation.finish(Outcome::Failed(&e));
            (
                error_status(era, &e),
                Answer::Whole(protocol::error_json(Some(&id), &e)),
            )
        }
        Finished::ShuttingDown => {
            let e = shutting_down();
            operation.finish(Outcome::Failed(&e));
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Answer::Whole(protocol::error_json(Some(&id), &e)),
            )
        }
    };
    if call.may_stream(&params) {
        // Boxed: this path's state stays out of every other request's future.
        let streaming = respond_streaming(http, method, params, call, guard, answer, span);
        return Box::pin(streaming).await;
    }
    // Only the result can come: no stream to prepare for. Nothing can cancel a request
    // outside a session but the client going away.
    let watch = call.cancellation.clone();
    let deadline = &http.config.life.deadline;
    let mut request = std::pin::pin!(http.core.run(&method, params, call).instrument(span));
    // A cancelled request gets no answer, even when its handler returned.
    if watch.as_ref().is_some_and(CancellationToken::is_cancelled) {
        return StatusCode::NO_CONTENT.into_response();
    }
    // A request done at its first poll (most are) never waits on a token or a timer.
    let finished = match poll_once(request.as_mut()).await {
        Poll::Ready(outcome) => Finished::Ran(outcome),
        // Biased: a tool that returns because it saw the cancellation gets no answer.
        Poll::Pending if let Some(cancellation) = watch => tokio::select! {
            biased;
            () = cancellation.cancelled() => return StatusCode::NO_CONTENT.into_response(),
            outcome = &mut request => Finished::Ran(outcome),
            () = deadline.cancelled() => Finished::ShuttingDown,
        },
        Poll::Pending => tokio::select! {
            biased;
            outcome = &mut request => Finished::Ran(outcome),
            () = deadline.cancelled() => Finished::ShuttingDown,
        },
    };
    drop(guard);
    let (status, answer) = answer(finished);
    let mut response = json_body(status, answer.into_body());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Polls `future` once.
pub(super) async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

/// The error of a request still running at the drain deadline.
#[cold]
pub(super) fn shutting_down() -> RpcError {
    RpcError::new(
        ErrorCode::InternalError,
        "the server is shutting down; retry the request",
    )
}

/// Runs a request whose handler may send messages before its result; see
/// [`stream`](super::stream).
async fn respond_streaming<S: McpServer>(
    http: Arc<Http<S>>,
    method: String,
    params: Map<String, Value>,
    mut call: Call,
    guard: Option<InflightGuard>,
    answer: impl FnOnce(Finished) -> (StatusCode, Answer) + Send + 'static,
    span: tracing::Span,
) -> Response {
    let cancellation = call
        .cancellation
        .get_or_insert_with(CancellationToken::new)
        .clone();
    let (tx, rx) = mpsc::channel::<Vec<u8>>(32);
    call.notifier = Some(tx);
    let session = guard.as_ref().map(|g| Arc::clone(g.session()));
    let keep_alive = http.config.sse_keep_alive;
    let work: super::stream::Work = Box::pin(
        async move {
            let _guard = guard;
            let deadline = http.config.life.deadline.clone();
            // Dropping the run at the deadline cancels the handler; the client gets the error.
            let finished = tokio::select! {
                biased;
                outcome = http.core.run(&method, params, call) => Finished::Ran(outcome),
                () = deadline.cancelled() => Finished::ShuttingDown,
            };
            answer(finished)
        }
        .instrument(span),
    );
    match super::stream::first(work, rx, cancellation).await {
        super::stream::First::Done(status, answer) => json_body(status, answer.into_body()),
        super::stream::First::Streaming(rest) => match session {
            Some(session) => resumable_answer(&session, rest, keep_alive),
            None => sse::response(
                rest.filter(|m| std::future::ready(m != CLOSE_STREAM))
                    .map(|m| Frame::message(None, &m)),
                keep_alive,
            ),
        },
        super::stream::First::Cancelled => StatusCode::NO_CONTENT.into_response(),
    }
}

/// The streamed answer to a request of a 2025-11-25 session: the request runs on its own,
/// writing its messages to a stream of the session, and the response reads that stream
/// after a priming event. A client whose connection breaks resumes it with `GET` and
/// `Last-Event-ID`; a closed connection is not a cancellation (`notifications/cancelled`
/// is).
fn resumable_answer(session: &Session, rest: Continue, keep_alive: Duration) -> Response {
    sse::response(
        resumable(session.streams(), Kind::Call, rest, None),
        keep_alive,
    )
}

/// The frames of a new stream of `streams` carrying what `messages` yields: a task writes
/// them to the stream whether or not a connection reads it (and closes the reading
/// connection when a handler asks, with [`CLOSE_STREAM`]); the frames are the priming event,
/// then what the stream holds, as it comes. When the session ends, the task stops and
/// drops `messages`.
pub(super) fn resumable<M>(
    streams: &Arc<Streams>,
    kind: Kind,
    messages: M,
    until: Option<CancellationToken>,
) -> impl Stream<Item = Frame> + Send + 'static + use<M>
where
    M: Stream<Item = Vec<u8>> + Send + 'static,
{
    let writer = streams.open(kind);
    let stream = writer.stream();
    let reader = streams.read(stream, 0);
    spawn_writer(writer, messages, until);
    futures_util::stream::once(std::future::ready(Frame::priming(stream)))
        .chain(futures_util::stream::iter(reader).flat_map(read_frames))
}

/// The frames of what `reader` reads, each with its id.
pub(super) fn read_frames(reader: Reader) -> impl Stream<Item = Frame> + Send + 'static {
    frames_of(futures_util::stream::unfold(
        reader,
        |mut reader| async move { reader.next().await.map(|events| (events, reader)) },
    ))
}

/// The frames of events that come in batches, each with its id.
pub(super) fn frames_of(
    batches: impl Stream<Item = Vec<(EventId, Vec<u8>)>> + Send + 'static,
) -> impl Stream<Item = Frame> + Send + 'static {
    batches.flat_map(|events| {
        futures_util::stream::iter(
            events
                .into_iter()
                .map(|(id, bytes)| Frame::message(Some(id), &bytes)),
        )
    })
}

/// The messages `rx` receives, as a stream.
pub(super) fn received(
    rx: mpsc::Receiver<Vec<u8>>,
) -> impl Stream<Item = Vec<u8>> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) })
}

/// A notification stream: `frames`, until they end, the stream reaches
/// [`HttpConfig::sse_max_lifetime`](super::HttpConfig::sse_max_lifetime) or the server
/// starts shutting down; in the last two cases a `retry:` event tells the client when to
/// reconnect. `held` counts it among the endpoint's streams while it lives.
pub(super) fn sse_response(
    config: &HttpConfig,
    frames: impl Stream<Item = Frame> + Send + 'static,
    held: Held,
) -> Response {
    let lifetime = config.sse_max_lifetime;
    let draining = config.life.draining.clone();
    let end = Box::pin(async move {
        tokio::select! {
            () = tokio::time::sleep(lifetime) => {}
            () = draining.cancelled_owned() => {}
        }
    });
    sse::response(
        Notifications {
            frames: Box::pin(frames),
            end: Some(end),
            _held: held,
        },
        config.sse_keep_alive,
    )
}

struct Notifications {
    frames: Pin<Box<dyn Stream<Item = Frame> + Send>>,
    /// Fires when the server ends the stream; `None` once it has.
    end: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    _held: Held,
}

impl Stream for Notifications {
    type Item = Frame;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(end) = &mut this.end else {
            return Poll::Ready(None);
        };
        if end.as_mut().poll(cx).is_ready() {
            this.end = None;
            return Poll::Ready(Some(Frame::retry()));
        }
        this.frames.as_mut().poll_next(cx)
    }
}

/// The HTTP status of a JSON-RPC error: 2026-07-28 answers an unknown method with 404 and
/// other errors with 200 (as its reference server does); 2025-11-25 always 200.
pub(super) fn error_status(era: Era, error: &RpcError) -> StatusCode {
    match (era, error.code) {
        (Era::Modern(_), ErrorCode::MethodNotFound) => StatusCode::NOT_FOUND,
        (Era::Modern(_), ErrorCode::MissingRequiredClientCapability) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}
