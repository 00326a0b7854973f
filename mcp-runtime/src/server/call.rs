//! What a transport knows about one request besides its method and params, and the
//! [`RequestContext`] a handler gets from it.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use std::sync::Mutex;

use super::input::{Hub, LogLevel, PendingRequests};
use super::session::Session;
use crate::auth::Principal;
use crate::protocol::{self, RequestId};

/// The protocol era of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Era {
    /// `initialize`-based revisions; the negotiated version.
    Legacy(&'static str),
    /// Stateless revisions with per-request `_meta`; the request's version.
    Modern(&'static str),
}

impl Era {
    pub(crate) fn version(self) -> &'static str {
        match self {
            Self::Legacy(v) | Self::Modern(v) => v,
        }
    }
}

/// A successful result, either built now or serialized ahead of time.
#[derive(Debug)]
pub(crate) enum Reply {
    Value(Value),
    Raw(Bytes),
    /// A `tools/call` result with `isError`, serialized.
    ToolError(Bytes),
}

impl Reply {
    /// The complete JSON-RPC response.
    pub(crate) fn into_response(self, id: &RequestId) -> Vec<u8> {
        match self {
            Self::Value(v) => protocol::response_json(id, &v),
            Self::Raw(raw) | Self::ToolError(raw) => protocol::response_raw(id, &raw),
        }
    }

    /// Whether this is a tool's failure.
    pub(crate) fn is_tool_error(&self) -> bool {
        matches!(self, Self::ToolError(_))
    }
}

/// What a transport knows about a request besides its method and params.
pub(crate) struct Call {
    pub(crate) id: RequestId,
    pub(crate) era: Era,
    pub(crate) client: Arc<ClientDeclaration>,
    /// How the transport cancels the request; `None` when only the client going away can.
    pub(crate) cancellation: Option<CancellationToken>,
    pub(crate) notifier: Option<mpsc::Sender<Vec<u8>>>,
    pub(crate) principal: Option<Arc<crate::auth::Principal>>,
    pub(crate) link: ClientLink,
}

/// The request's `_meta.progressToken`, when it is one.
pub(crate) fn progress_token(params: &Map<String, Value>) -> Option<&Value> {
    params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .filter(|t| t.is_string() || t.is_number())
}

impl Call {
    /// Whether the handler may send anything before its result: progress (the request
    /// has a token), log messages (the client set a level) or requests to the client (a
    /// session whose client declared something to be asked for). Otherwise the answer is
    /// the result alone.
    pub(crate) fn may_stream(&self, params: &Map<String, Value>) -> bool {
        self.link.log_level.is_some()
            || progress_token(params).is_some()
            || self.link.pending.is_some() && self.client.may_be_asked()
    }
}

/// What a client declared about itself: in `initialize` for a session, in `_meta` for a
/// 2026-07-28 request. Shared, not copied, by the requests of a session.
#[derive(Debug)]
pub(crate) struct ClientDeclaration {
    /// `clientInfo`, if sent.
    pub(crate) info: Option<Value>,
    /// The capabilities (an empty object when none were sent).
    pub(crate) capabilities: Value,
}

impl ClientDeclaration {
    pub(crate) fn new(info: Option<Value>, capabilities: Option<Value>) -> Arc<Self> {
        Arc::new(Self {
            info,
            capabilities: capabilities.unwrap_or_else(|| Value::Object(Map::new())),
        })
    }

    /// Whether the client declared a capability that a server-to-client request needs.
    pub(crate) fn may_be_asked(&self) -> bool {
        ["elicitation", "sampling", "roots"]
            .iter()
            .any(|c| self.capabilities.get(c).is_some_and(|v| !v.is_null()))
    }
}

/// How a request can reach its client beyond the response: set by the transport.
#[derive(Debug, Default, Clone)]
pub(crate) struct ClientLink {
    /// The threshold of `notifications/message` (session level, or `_meta` logLevel).
    pub(crate) log_level: Option<LogLevel>,
    /// Server-to-client requests awaiting answers (2025-11-25 sessions, stdio).
    pub(crate) pending: Option<Arc<PendingRequests>>,
    /// `inputResponses` of a 2026-07-28 retry.
    pub(crate) input_responses: Option<Map<String, Value>>,
    /// The verified application state of a 2026-07-28 retry.
    pub(crate) request_state: Option<Value>,
    /// Where list and resource changes are published.
    pub(crate) hub: Option<Hub>,
    /// What the handler asked for, read by the dispatch once it returns.
    pub(crate) outcome: Arc<Mutex<Outcome>>,
    /// The 2025-11-25 session (or the stdio process) the request belongs to.
    pub(crate) session: Option<Session>,
}

/// What a tool asked for that the response must carry (2026-07-28 input rounds).
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) needed: Map<String, Value>,
    pub(crate) missing_capability: Option<&'static str>,
    pub(crate) next_state: Option<Value>,
}

/// The fields a transport fills in to build a [`RequestContext`].
pub(crate) struct ContextParts {
    pub(crate) id: RequestId,
    pub(crate) protocol_version: &'static str,
    pub(crate) client: Arc<ClientDeclaration>,
    pub(crate) progress_token: Option<Value>,
    pub(crate) cancellation: Option<CancellationToken>,
    pub(crate) notifier: Option<mpsc::Sender<Vec<u8>>>,
    pub(crate) principal: Option<Arc<Principal>>,
    pub(crate) link: ClientLink,
}
