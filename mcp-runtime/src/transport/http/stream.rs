//! The answer to one `POST`ed request: plain JSON when the result comes first, an SSE stream
//! when a notification or a server-to-client request comes first.
//!
//! The choice is made by what the handler does, not guessed from the request: a tool that
//! reports progress, logs, or asks the client something gets a stream that carries those
//! messages and then the result; any other request gets one JSON object. Outside a
//! 2025-11-25 session the stream owns the request's future, so a client that closes it
//! cancels the request (2026-07-28 `streamable-http`: closing the response stream is
//! cancellation). Inside a session the request runs on its own and writes a stream of the
//! session that the response reads ([`events`](crate::connection::events)): a broken
//! connection is resumed with `Last-Event-ID`, and only `notifications/cancelled` cancels.
//! A request whose handler
//! can send nothing before its result (no progress token, no log level, nothing the client
//! could be asked) does not come here: it is answered directly.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::body::Answer;

/// The request's work: yields the HTTP status a JSON answer would have, and the serialized
/// final response.
pub(super) type Work = Pin<Box<dyn Future<Output = (axum::http::StatusCode, Answer)> + Send>>;

/// Runs `work` until it finishes or sends its first message.
pub(super) enum First {
    /// The final response, before any message.
    Done(axum::http::StatusCode, Answer),
    /// A message came first: stream it, then the rest.
    Streaming(Continue),
    /// The request was cancelled (`notifications/cancelled`); no answer is due.
    Cancelled,
}

pub(super) async fn first(
    mut work: Work,
    mut rx: mpsc::Receiver<Vec<u8>>,
    cancellation: CancellationToken,
) -> First {
    tokio::select! {
        biased;
        () = cancellation.cancelled() => First::Cancelled,
        Some(message) = rx.recv() => First::Streaming(Continue {
            pending: Some(message),
            work: Some(work),
            rx,
            last: None,
            cancelled: Box::pin(cancellation.clone().cancelled_owned()),
            cancellation,
        }),
        (status, body) = &mut work => {
            // Messages sent just before the end still go first.
            match rx.try_recv() {
                Ok(message) => First::Streaming(Continue {
                    pending: Some(message),
                    work: None,
                    rx,
                    last: Some(body),
                    cancelled: Box::pin(cancellation.clone().cancelled_owned()),
                    cancellation,
                }),
                Err(_) => First::Done(status, body),
            }
        }
    }
}

/// The rest of a streamed answer: queued messages, then the final response.
pub(super) struct Continue {
    pending: Option<Vec<u8>>,
    work: Option<Work>,
    rx: mpsc::Receiver<Vec<u8>>,
    last: Option<Answer>,
    cancelled: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
    cancellation: CancellationToken,
}

impl Drop for Continue {
    fn drop(&mut self) {
        if self.work.is_some() {
            // The client went away before the result: stop the work.
            self.cancellation.cancel();
        }
    }
}

/// The messages of the answer, the final response last.
impl Stream for Continue {
    type Item = Vec<u8>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.work.is_some() && this.cancelled.as_mut().poll(cx).is_ready() {
            // `notifications/cancelled`: stop, and send nothing more for this request.
            this.work = None;
            return Poll::Ready(None);
        }
        if let Some(message) = this.pending.take() {
            return Poll::Ready(Some(message));
        }
        if let Some(work) = &mut this.work
            && let Poll::Ready((_, body)) = work.as_mut().poll(cx)
        {
            this.work = None;
            this.last = Some(body);
        }
        if let Poll::Ready(Some(message)) = this.rx.poll_recv(cx) {
            return Poll::Ready(Some(message));
        }
        if this.work.is_none() {
            // Done: anything still queued was sent before the result, so it goes first.
            if let Ok(message) = this.rx.try_recv() {
                return Poll::Ready(Some(message));
            }
            return Poll::Ready(this.last.take().map(Answer::into_vec));
        }
        Poll::Pending
    }
}
