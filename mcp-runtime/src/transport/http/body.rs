//! Response bodies that send a result serialized ahead of time (a page of a list, the
//! `server/discover` document) without copying it into each response.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::protocol::{self, RequestId};
use crate::server::dispatch::Reply;

/// Below this size a shared result is copied: one buffer is cheaper than three writes.
const SHARE_FROM: usize = 4096;

/// A serialized JSON-RPC response.
pub(super) enum Answer {
    /// The whole response in one buffer.
    Whole(Vec<u8>),
    /// `{"jsonrpc":"2.0","id":…,"result":`, the shared result, then `}`.
    Shared { head: Vec<u8>, result: Bytes },
}

/// The start of a success response, up to its result; the result and `}` follow.
fn response_head(id: &RequestId) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    protocol::wire::write_response_head(&mut out, Some(id));
    out.extend_from_slice(b"\"result\":");
    out
}

impl Answer {
    /// The success response to request `id`.
    pub(super) fn reply(id: &RequestId, reply: Reply) -> Self {
        match reply {
            Reply::Raw(result) | Reply::ToolError(result) if result.len() >= SHARE_FROM => {
                Self::Shared {
                    head: response_head(id),
                    result,
                }
            }
            reply => Self::Whole(reply.into_response(id)),
        }
    }

    /// The response as one buffer, for an SSE event.
    pub(super) fn into_vec(self) -> Vec<u8> {
        match self {
            Self::Whole(bytes) => bytes,
            Self::Shared { mut head, result } => {
                head.extend_from_slice(&result);
                head.push(b'}');
                head
            }
        }
    }

    pub(super) fn into_body(self) -> Body {
        match self {
            Self::Whole(bytes) => Body::from(bytes),
            Self::Shared { head, result } => Body::new(Pieces {
                pieces: [Bytes::from(head), result, Bytes::from_static(b"}")],
                next: 0,
            }),
        }
    }
}

/// A body sent as a few frames, with an exact length so that it gets `Content-Length`.
struct Pieces {
    pieces: [Bytes; 3],
    next: usize,
}

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        let Some(piece) = this.pieces.get_mut(this.next) else {
            return Poll::Ready(None);
        };
        this.next += 1;
        Poll::Ready(Some(Ok(Frame::data(std::mem::take(piece)))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.pieces.len()
    }

    fn size_hint(&self) -> SizeHint {
        let left = self.pieces[self.next.min(self.pieces.len())..]
            .iter()
            .map(Bytes::len)
            .sum::<usize>();
        SizeHint::with_exact(left as u64)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn a_shared_result_is_sent_whole_with_its_length() {
        let result = Bytes::from(format!("{{\"tools\":\"{}\"}}", "x".repeat(SHARE_FROM)));
        let id = RequestId::Number(7);
        let expected = Reply::Raw(result.clone()).into_response(&id);
        let answer = Answer::reply(&id, Reply::Raw(result.clone()));
        assert!(matches!(answer, Answer::Shared { .. }));
        let body = answer.into_body();
        assert_eq!(
            http_body::Body::size_hint(&body).exact(),
            Some(expected.len() as u64)
        );
        assert_eq!(body.collect().await.unwrap().to_bytes(), expected);
        let answer = Answer::reply(&id, Reply::Raw(result));
        assert_eq!(answer.into_vec(), expected);
    }
}
