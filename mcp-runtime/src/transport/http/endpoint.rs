//! The `POST`, `GET` and `DELETE` handlers of the MCP endpoint, behind the layers: they read
//! the body, hand the message and its caller to the connection core, and write the
//! [`Step`] it returns.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse as _, Response};

use tower_service::Service;

use super::Http;
use super::bearer::Caller;
use super::error::{Refusal, json_response, rpc_error};
use super::header_str;
use super::respond::{error_status, respond, sse_response};
use super::revision::{MCP_SESSION_ID, no_session, route};
use crate::auth::Principal;
use crate::connection::Step;
use crate::protocol::Message;
use crate::server::McpServer;

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
            Method::GET => Box::pin(async move { Ok(get(&http, &req)) }),
            Method::DELETE => Box::pin(async move { Ok(delete(&http, &req)) }),
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
    let bytes = match read_body(body, http.config.body_limit).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal.into_response(),
    };
    let message = match Message::parse(&bytes) {
        Ok(m) => m,
        Err((id, e)) => return rpc_error(StatusCode::BAD_REQUEST, id.as_ref(), &e),
    };
    let principal = caller.map(|c| Arc::clone(&c.principal));
    let step = route(&http.core, &parts.headers, message, principal);
    write(http, caller, step).await
}

/// Writes what the core decided.
async fn write<S: McpServer>(http: Arc<Http<S>>, caller: Option<&Caller>, step: Step) -> Response {
    match step {
        Step::Run(prepared) => respond(http, prepared).await,
        Step::Result(body) => json_response(StatusCode::OK, body),
        Step::Accepted => StatusCode::ACCEPTED.into_response(),
        Step::Error {
            id,
            era,
            error,
            malformed,
        } => {
            let status = match era {
                _ if malformed => StatusCode::BAD_REQUEST,
                Some(era) => error_status(era, &error),
                None => StatusCode::OK,
            };
            rpc_error(status, id.as_ref(), &error)
        }
        Step::Unavailable(id, error) => {
            rpc_error(StatusCode::SERVICE_UNAVAILABLE, Some(&id), &error)
        }
        Step::Forbidden(id, forbidden) => match caller {
            Some(caller) => {
                caller.insufficient_scope(Some(&id), &forbidden.needed, &forbidden.error)
            }
            None => rpc_error(StatusCode::FORBIDDEN, Some(&id), &forbidden.error),
        },
        Step::Opened { body, session } => {
            let mut response = json_response(StatusCode::OK, body);
            if let Some(value) = session.and_then(|s| HeaderValue::from_str(&s.id).ok()) {
                response.headers_mut().insert(MCP_SESSION_ID, value);
            }
            response
        }
        Step::Listen(rx) => sse_response(rx),
        Step::NoSession(why) => no_session(why).into_response(),
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
fn session_of<S: McpServer>(
    http: &Http<S>,
    req: &Request,
) -> Result<Arc<crate::connection::session::Session>, Refusal> {
    let caller: Option<&Principal> = req.extensions().get::<Caller>().map(|c| &*c.principal);
    http.core
        .session_for(header_str(req.headers(), &MCP_SESSION_ID), caller)
        .map_err(no_session)
}

/// The standalone SSE stream of a 2025-11-25 session.
fn get<S: McpServer>(http: &Http<S>, req: &Request) -> Response {
    match session_of(http, req) {
        Ok(session) => sse_response(session.open_stream(&http.core.hub)),
        Err(refusal) => refusal.into_response(),
    }
}

/// Ends a 2025-11-25 session.
fn delete<S: McpServer>(http: &Http<S>, req: &Request) -> Response {
    match session_of(http, req) {
        Ok(session) => {
            http.core.sessions.remove(&session.id);
            StatusCode::OK.into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}
