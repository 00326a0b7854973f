//! The `POST`, `GET` and `DELETE` handlers of the MCP endpoint, behind the layers: they read
//! the body, hand the message and its caller to the connection core, and write the
//! [`Step`] it returns.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};

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

type Ctx<S> = State<Arc<Http<S>>>;

pub(super) async fn post<S: McpServer>(State(http): Ctx<S>, req: Request) -> Response {
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
pub(super) async fn get<S: McpServer>(State(http): Ctx<S>, req: Request) -> Response {
    match session_of(&http, &req) {
        Ok(session) => sse_response(session.open_stream(&http.core.hub)),
        Err(refusal) => refusal.into_response(),
    }
}

/// Ends a 2025-11-25 session.
pub(super) async fn delete<S: McpServer>(State(http): Ctx<S>, req: Request) -> Response {
    match session_of(&http, &req) {
        Ok(session) => {
            http.core.sessions.remove(&session.id);
            StatusCode::OK.into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}
