//! Server-sent events as the endpoint writes them: one frame per JSON-RPC message (with an
//! id on resumable streams), the priming event that starts a resumable stream, the
//! `retry:` that ends one, and a comment when nothing else went out for a while.
//!
//! Written here rather than through a general SSE type because a priming event needs a
//! `data` field with an empty value: a client dispatches an event only when it has a data
//! field, and then skips this one because its data is empty.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::{BufMut as _, Bytes, BytesMut};
use futures_util::Stream;

use crate::connection::events::EventId;

/// How long a client waits before it reconnects to a stream the server ended or closed.
pub(super) const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// One encoded event.
#[derive(Debug, Clone)]
pub(super) struct Frame(Bytes);

impl Frame {
    /// The event of `message`, with `id` on a resumable stream.
    pub(super) fn message(id: Option<EventId>, message: &[u8]) -> Self {
        let mut out = BytesMut::with_capacity(message.len() + 40);
        if let Some(id) = id {
            out.put_slice(b"id: ");
            out.put_slice(id.to_string().as_bytes());
            out.put_u8(b'\n');
        }
        out.put_slice(b"event: message\n");
        // Compact JSON has no line breaks; any other text is split over `data` lines,
        // which the client joins with line feeds, whitespace to JSON.
        for line in message.split(|b| matches!(b, b'\n' | b'\r')) {
            out.put_slice(b"data: ");
            out.put_slice(line);
            out.put_u8(b'\n');
        }
        out.put_u8(b'\n');
        Self(out.freeze())
    }

    /// The first event of resumable stream `stream`: an id to resume from, the
    /// reconnection delay, and an empty message, which clients skip.
    pub(super) fn priming(stream: u64) -> Self {
        let id = EventId { stream, seq: 0 };
        Self(Bytes::from(format!(
            "id: {id}\nretry: {}\ndata: \n\n",
            RECONNECT_AFTER.as_millis()
        )))
    }

    /// The last event of a stream the server ends while the client should come back.
    pub(super) fn retry() -> Self {
        Self(Bytes::from(format!(
            "retry: {}\n\n",
            RECONNECT_AFTER.as_millis()
        )))
    }

    #[cfg(test)]
    fn text(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The `200 text/event-stream` response carrying `frames`, with a comment after every
/// `keep_alive` of silence so that proxies keep the connection open.
pub(super) fn response<St>(frames: St, keep_alive: Duration) -> Response
where
    St: Stream<Item = Frame> + Send + 'static,
{
    let body = Body::from_stream(KeepAlive {
        frames: Box::pin(frames),
        every: keep_alive,
        quiet: Box::pin(tokio::time::sleep(keep_alive)),
    });
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx would otherwise buffer the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

struct KeepAlive {
    frames: Pin<Box<dyn Stream<Item = Frame> + Send>>,
    every: Duration,
    quiet: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for KeepAlive {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.frames.as_mut().poll_next(cx) {
            Poll::Ready(Some(frame)) => {
                let next = tokio::time::Instant::now() + this.every;
                this.quiet.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame.0)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if this.quiet.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let next = tokio::time::Instant::now() + this.every;
                this.quiet.as_mut().reset(next);
                Poll::Ready(Some(Ok(Bytes::from_static(b":\n\n"))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_events_a_client_reads() {
        let id = EventId { stream: 2, seq: 5 };
        assert_eq!(
            Frame::message(Some(id), br#"{"a":1}"#).text(),
            "id: 2-5\nevent: message\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(
            Frame::message(None, b"{\n\"a\":\r1}").text(),
            "event: message\ndata: {\ndata: \"a\":\ndata: 1}\n\n"
        );
        assert_eq!(Frame::priming(3).text(), "id: 3-0\nretry: 1000\ndata: \n\n");
        assert_eq!(Frame::retry().text(), "retry: 1000\n\n");
    }

    #[tokio::test(start_paused = true)]
    async fn silence_is_broken_by_comments() {
        use futures_util::StreamExt as _;
        let (tx, rx) = tokio::sync::mpsc::channel::<Frame>(1);
        let frames =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|f| (f, rx)) },
            );
        let mut body = KeepAlive {
            frames: Box::pin(frames),
            every: Duration::from_secs(15),
            quiet: Box::pin(tokio::time::sleep(Duration::from_secs(15))),
        };
        tx.send(Frame::retry()).await.unwrap();
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b"retry: 1000\n\n");
        assert_eq!(&body.next().await.unwrap().unwrap()[..], b":\n\n");
        drop(tx);
        assert!(body.next().await.is_none());
    }
}
