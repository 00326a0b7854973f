//! Running one request: awaited directly when its handler can send nothing before the
//! result, otherwise as described in [`stream`](super::stream).

use std::convert::Infallible;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::Http;
use super::body::Answer;
use super::error::json_body;
use crate::connection::Prepared;
use crate::connection::session::InflightGuard;
use crate::protocol::{self, ErrorCode, RpcError};
use crate::server::McpServer;
use crate::server::dispatch::{Call, Era, Reply};

/// Runs one request; see [`stream`](super::stream) for how JSON or SSE is chosen.
pub(super) async fn respond<S: McpServer>(http: Arc<Http<S>>, request: Prepared) -> Response {
    let Prepared {
        method,
        params,
        call,
        guard,
    } = request;
    let id = call.id.clone();
    let era = call.era;
    let answer = move |outcome: Result<Reply, RpcError>| match outcome {
        Ok(reply) => (StatusCode::OK, Answer::reply(&id, reply)),
        Err(e) => (
            error_status(era, &e),
            Answer::Whole(protocol::error_json(Some(&id), &e)),
        ),
    };
    if call.may_stream(&params) {
        // Boxed: this path's state stays out of every other request's future.
        return Box::pin(respond_streaming(http, method, params, call, guard, answer)).await;
    }
    // Only the result can come: no stream to prepare for. Nothing can cancel a request
    // outside a session but the client going away.
    let watch = call.cancellation.clone();
    let mut request = std::pin::pin!(http.core.run(&method, params, call));
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
    http: Arc<Http<S>>,
    method: String,
    params: Map<String, Value>,
    mut call: Call,
    guard: Option<InflightGuard>,
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
        answer(http.core.run(&method, params, call).await)
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

pub(super) fn sse_response(rx: mpsc::Receiver<Vec<u8>>) -> Response {
    sse_stream(ReceiverStream::new(rx).map(|bytes| {
        let data = String::from_utf8(bytes).unwrap_or_default();
        Ok::<_, Infallible>(Event::default().event("message").data(data))
    }))
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
