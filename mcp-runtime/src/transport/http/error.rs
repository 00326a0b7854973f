//! The endpoint's one vocabulary of refusals: every answer that is not a result goes out
//! through these, as a JSON-RPC error body with the right HTTP status.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, Ready, ready};

use crate::protocol::{self, ErrorCode, RequestId, RpcError};

/// A request refused before it reaches the server, answered as an `InvalidRequest` error
/// with this status. Small (not a `Response`) because it travels in a `Result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: &'static str,
}

impl Refusal {
    pub(crate) const fn new(status: StatusCode, message: &'static str) -> Self {
        Self { status, message }
    }
}

impl IntoResponse for Refusal {
    #[cold]
    fn into_response(self) -> Response {
        let mut response = http_error(self.status, ErrorCode::InvalidRequest, self.message);
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE
            && !response.headers().contains_key(header::RETRY_AFTER)
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// 405 for `GET` and `DELETE` where no session can exist.
pub(crate) const NO_SESSIONS: Refusal = Refusal::new(
    StatusCode::METHOD_NOT_ALLOWED,
    "this endpoint keeps no sessions: only POST is served",
);

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    json_body(status, Body::from(body))
}

pub(crate) fn json_body(status: StatusCode, body: Body) -> Response {
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
pub(crate) fn rpc_error(status: StatusCode, id: Option<&RequestId>, error: &RpcError) -> Response {
    json_response(status, protocol::error_json(id, error))
}

#[cold]
pub(crate) fn http_error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    rpc_error(status, None, &RpcError::new(code, message))
}

/// The future of a layer that refuses some requests from their head: the refusal at once,
/// or the inner service's answer.
pub(crate) type CheckFuture<F, E> = Either<Ready<Result<Response, E>>, F>;

/// Forwards `req` to `inner` when `check` passed, else answers the refusal.
pub(crate) fn forward_unless<S, R>(
    inner: &mut S,
    req: R,
    check: Result<(), Refusal>,
) -> CheckFuture<S::Future, S::Error>
where
    S: tower_service::Service<R, Response = Response>,
{
    match check {
        Ok(()) => Either::Right(inner.call(req)),
        Err(refusal) => Either::Left(ready(Ok(refusal.into_response()))),
    }
}
