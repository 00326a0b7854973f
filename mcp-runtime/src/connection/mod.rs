//! The connection core: everything about a conversation with a client that does not depend
//! on how its bytes travel.
//!
//! It owns revision negotiation (a 2026-07-28 request describes itself in `_meta`; a
//! 2025-11-25 one belongs to what `initialize` negotiated), `initialize` and its session,
//! the per-request `_meta` (protocol version, client, log level), cancellation,
//! `logging/setLevel`, resource subscriptions, the client's answers to server-to-client
//! requests, and the caller's identity, with the one decision of which scopes a call needs
//! ([`authorize`]). The core imports no transport.
//!
//! # Adding a transport
//!
//! A transport reads messages ([`Message::parse`]) and knows who sends them (a
//! [`Principal`], or none on an unprotected server). For each message it:
//!
//! 1. classifies it with [`classify`], passing what it knows besides the body (a session
//!    named by the client, a protocol version sent beside the message);
//! 2. for a 2025-11-25 message, calls [`Core::legacy_in`] with the session it names (a
//!    transport with one client names its one session); for a 2026-07-28 request, reads its
//!    `_meta` with [`ModernMeta::read`] and calls [`Core::modern`];
//! 3. writes the [`Step`] it gets back: an answer, an acknowledgement, a new session, a
//!    notification stream, or a [`Prepared`] request to run with [`Core::run`], whose
//!    result (and whatever the handler sends before it, on the notifier the transport puts
//!    in the call) it writes in turn.
//!
//! `stdio` is the smallest example; Streamable HTTP adds its layers in front. The tests
//! below drive the core with an in-memory transport.

mod authorize;
// Only Streamable HTTP resumes streams; stdio has one unbroken one.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) mod events;
mod listen;
mod negotiate;
pub(crate) mod session;
pub(crate) mod sessions;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

pub(crate) use authorize::{Forbidden, authorize};
use negotiate::legacy_version;
pub(crate) use negotiate::{ModernMeta, Revision, classify};
use session::{Refused, Session, SubscriptionRefused};
use sessions::{Sessions, StoreDown};

use crate::auth::Principal;
use crate::protocol::{self, Message, RequestId, RpcError};
use crate::server::McpServer;
use crate::server::call::{ClientDeclaration, ClientLink};
use crate::server::dispatch::{Call, Engine, Era, Reply};
use crate::server::input::{Hub, LogLevel, StateKeys};
pub(crate) use crate::server::tasks::TaskSettings;

/// One server and the state of its conversations, shared by a transport's connections.
pub(crate) struct Core<S> {
    pub(crate) engine: Engine<S>,
    pub(crate) hub: Hub,
    pub(crate) sessions: Sessions,
    /// Scopes every request of a protected server needs.
    required: &'static [&'static str],
}

/// What the transport does with a message.
#[derive(Debug)]
pub(crate) enum Step {
    /// Nothing to answer: a notification or a client's response, taken.
    Accepted,
    /// A JSON-RPC result, complete.
    Result(Vec<u8>),
    /// A JSON-RPC error. `malformed` says the message itself was wrong for its revision
    /// (an HTTP transport answers 400), rather than the request failing.
    Error {
        id: Option<RequestId>,
        era: Option<Era>,
        error: RpcError,
        malformed: bool,
    },
    /// A limit stopped the request; the client may retry later.
    Limited(Limited),
    /// The caller lacks scopes the call needs; nothing ran.
    Forbidden(RequestId, Forbidden),
    /// `initialize` answered; `session` is the session it opened, unless the server is
    /// stateless.
    Opened {
        body: Vec<u8>,
        session: Option<Arc<Session>>,
        /// The protocol version negotiated.
        version: &'static str,
    },
    /// 2026-07-28 `subscriptions/listen`: the stream of notifications it asked for.
    Listen(tokio::sync::mpsc::Receiver<Vec<u8>>),
    /// A 2025-11-25 message whose session is missing or unknown (a transport with one
    /// client never gives this).
    NoSession(NoSession),
    /// A request to run with [`Core::run`].
    Run(Prepared),
}

/// A request stopped by a limit: the error, and when the client may retry.
#[derive(Debug)]
pub(crate) struct Limited {
    pub(crate) id: RequestId,
    pub(crate) error: RpcError,
    pub(crate) retry_after: Duration,
    /// Whether the whole server is at its limit (HTTP answers 503), rather than this
    /// client at its share (429).
    pub(crate) server_wide: bool,
}

impl Limited {
    /// The step of `id` stopped by the limit called `limit` (in the error's `data`).
    fn step(
        id: RequestId,
        limit: &'static str,
        message: String,
        retry_after: Duration,
        server_wide: bool,
    ) -> Step {
        let error = RpcError::new(protocol::ErrorCode::InternalError, message)
            .with_data(json!({"limit": limit, "retryAfter": retry_after.as_secs().max(1)}));
        Step::Limited(Self {
            id,
            error,
            retry_after,
            server_wide,
        })
    }
}

/// A request ready to run: method, params, and what the handler may know and use.
pub(crate) struct Prepared {
    pub(crate) method: String,
    pub(crate) params: Map<String, Value>,
    pub(crate) call: Call,
    /// Unregisters the request from its session once it is dropped.
    pub(crate) guard: Option<session::InflightGuard>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// Why a 2025-11-25 message has no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoSession {
    /// The client named none.
    Missing,
    /// The session named does not exist, expired, or belongs to another caller.
    Unknown,
    /// The store shared by replicas did not answer; the client may retry.
    StoreDown,
}

impl NoSession {
    /// The reason, as telemetry's `error.type`.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "session_missing",
            Self::Unknown => "session_not_found",
            Self::StoreDown => "store_unavailable",
        }
    }
}

impl<S: McpServer> Core<S> {
    /// The core of `server`, its 2025-11-25 sessions in `sessions`, its 2026-07-28 request
    /// states sealed with `keys`.
    pub(crate) fn new(
        server: S,
        sessions: Sessions,
        keys: StateKeys,
        required: &'static [&'static str],
        tasks: TaskSettings,
    ) -> Self {
        let task_store = sessions.shared().map(|s| s.task_store());
        Self {
            engine: Engine::new(server, keys, task_store, tasks, sessions.hub().clone()),
            hub: sessions.hub().clone(),
            sessions,
            required,
        }
    }

    /// Whether the server keeps no sessions.
    pub(crate) fn stateless(&self) -> bool {
        self.engine.descriptor().stateless
    }

    /// The session `id`, when it exists and `caller` opened it: a session opened by another
    /// principal is, to this caller, a session that does not exist.
    pub(crate) async fn session_for(
        &self,
        id: Option<&str>,
        caller: Option<&Principal>,
    ) -> Result<Arc<Session>, NoSession> {
        let id = id.ok_or(NoSession::Missing)?;
        let owner = caller.map(|p| (p.issuer.as_str(), p.subject.as_str()));
        self.sessions
            .get(id)
            .await
            .map_err(|StoreDown| NoSession::StoreDown)?
            .filter(|s| s.is_owned_by(owner))
            .ok_or(NoSession::Unknown)
    }

    /// Answers `initialize`, opening a session unless the server is stateless. `peer` is
    /// the client's address, when the transport knows it: without OAuth, sessions are
    /// counted per address.
    pub(crate) async fn initialize(
        &self,
        id: &RequestId,
        params: &Map<String, Value>,
        caller: Option<&Principal>,
        peer: Option<IpAddr>,
    ) -> Step {
        if self.stateless() {
            let (version, result) = self.engine.initialize(params);
            return Step::Opened {
                body: protocol::response_json(id, &result),
                session: None,
                version,
            };
        }
        let info = params.get("clientInfo");
        let capabilities = params.get("capabilities");
        let most = self.sessions.limits().client_bytes;
        if !fits(info, capabilities, most) {
            return Step::Error {
                id: Some(id.clone()),
                era: None,
                error: RpcError::invalid_params(format!(
                    "`clientInfo` and `capabilities` may take at most {most} bytes"
                )),
                malformed: false,
            };
        }
        let (version, result) = self.engine.initialize(params);
        let client = ClientDeclaration::new(info.cloned(), capabilities.cloned());
        let owner = caller.map(|p| (p.issuer.clone(), p.subject.clone()));
        let Ok(created) = self.sessions.create(version, client, owner, peer).await else {
            return store_down(id.clone());
        };
        match created {
            Ok(session) => Step::Opened {
                body: protocol::response_json(id, &result),
                session: Some(session),
                version,
            },
            Err(Refused::Full { retry_after }) => {
                tracing::warn!(
                    "the session table is full; `initialize` refused (see `HttpConfig::max_sessions`)"
                );
                Limited::step(
                    id.clone(),
                    "sessions",
                    "the server holds as many sessions as it may; try again later".into(),
                    retry_after,
                    true,
                )
            }
            Err(Refused::ClientQuota { limit, retry_after }) => Limited::step(
                id.clone(),
                "sessions_per_client",
                format!(
                    "this client already holds {limit} sessions, the most one may; close one or try again later"
                ),
                retry_after,
                false,
            ),
        }
    }

    /// A 2025-11-25 message (or older) of the session named `session_id`, with the protocol
    /// version `sent` beside it, if any: `initialize` opens a session; on a stateless server
    /// no session is needed; otherwise the session must exist and belong to `caller`.
    pub(crate) async fn legacy_in(
        &self,
        message: Message,
        session_id: Option<&str>,
        sent: Option<&str>,
        caller: Option<Arc<Principal>>,
        peer: Option<IpAddr>,
    ) -> Step {
        if let Message::Request { id, method, params } = &message
            && method == "initialize"
        {
            if let Err(refusal) = authorize(self, method, params, caller.as_deref()) {
                return refusal.step(id.clone(), None);
            }
            return self.initialize(id, params, caller.as_deref(), peer).await;
        }
        let session = if self.stateless() {
            None
        } else {
            match self.session_for(session_id, caller.as_deref()).await {
                Ok(session) => Some(session),
                Err(why) => {
                    return match (why, message.request_id()) {
                        (NoSession::StoreDown, Some(id)) => store_down(id.clone()),
                        (why, _) => Step::NoSession(why),
                    };
                }
            }
        };
        match legacy_version(session.as_ref().map(|s| s.version), sent) {
            Ok(version) => {
                self.legacy(message, session.as_ref(), version, caller)
                    .await
            }
            Err(sent) => Step::Error {
                id: message.request_id().cloned(),
                era: None,
                error: RpcError::new(
                    protocol::ErrorCode::InvalidRequest,
                    format!("unsupported `MCP-Protocol-Version` `{sent}`"),
                ),
                malformed: true,
            },
        }
    }

    /// A 2025-11-25 message (or older) of `session` (`None` on a stateless server), at
    /// `version`.
    async fn legacy(
        &self,
        message: Message,
        session: Option<&Arc<Session>>,
        version: &'static str,
        caller: Option<Arc<Principal>>,
    ) -> Step {
        let (id, method, params) = match message {
            Message::Request { id, method, params } => (id, method, params),
            Message::Notification { method, params } => {
                if method == "notifications/cancelled"
                    && let (Some(session), Some(id)) = (session, params.get("requestId"))
                    && let Ok(id) = serde_json::from_value::<RequestId>(id.clone())
                    && self.sessions.cancel(session, &id).await.is_err()
                {
                    return Step::NoSession(NoSession::StoreDown);
                }
                return Step::Accepted;
            }
            Message::Response { id, outcome } => {
                if let Some(session) = session
                    && self.sessions.answer(session, &id, outcome).await.is_err()
                {
                    return Step::NoSession(NoSession::StoreDown);
                }
                return Step::Accepted;
            }
        };
        let era = Era::Legacy(version);
        if let Err(refusal) = authorize(self, &method, &params, caller.as_deref()) {
            return refusal.step(id, Some(era));
        }
        if method == "logging/setLevel" {
            let Some(level) = params
                .get("level")
                .and_then(Value::as_str)
                .and_then(LogLevel::parse)
            else {
                return failed(id, era, RpcError::invalid_params(LEVELS));
            };
            if let Some(session) = session
                && self.sessions.set_log_level(session, level).await.is_err()
            {
                return store_down(id);
            }
            return Step::Result(protocol::response_json(&id, &Value::Object(Map::new())));
        }
        if matches!(
            method.as_str(),
            "resources/subscribe" | "resources/unsubscribe"
        ) {
            // Recorded only once the server accepts the URI.
            let recorded = match (self.engine.subscription(&method, &params, era), session) {
                (Ok(uri), Some(session)) => {
                    let on = method == "resources/subscribe";
                    match self.sessions.subscribe(session, uri, on).await {
                        Ok(recorded) => recorded.map_err(subscription_refused),
                        Err(StoreDown) => return store_down(id),
                    }
                }
                (checked, _) => checked.map(drop),
            };
            return match recorded {
                Ok(()) => Step::Result(protocol::response_json(&id, &Value::Object(Map::new()))),
                Err(e) => failed(id, era, e),
            };
        }
        let (cancellation, guard) = match session {
            Some(s) => match s.track(&id) {
                Some((token, guard)) => (Some(token), Some(guard)),
                None => {
                    return Limited::step(
                        id,
                        "requests_per_session",
                        format!(
                            "this session has {} requests in flight, the most it may; wait for one to finish",
                            s.max_in_flight()
                        ),
                        Duration::from_secs(1),
                        false,
                    );
                }
            },
            None => (None, None),
        };
        let call = Call {
            id,
            era,
            client: session.map_or_else(
                || ClientDeclaration::new(None, None),
                |s| Arc::clone(&s.client),
            ),
            cancellation,
            notifier: None,
            principal: caller,
            link: ClientLink {
                log_level: session.and_then(|s| s.log_level()),
                pending: session.map(|s| Arc::clone(&s.pending)),
                session: session.map(|s| s.handle()),
                hub: Some(self.hub.clone()),
                ..ClientLink::default()
            },
        };
        Step::Run(Prepared {
            method,
            params,
            call,
            guard,
        })
    }

    /// A 2026-07-28 request, whose `_meta` was read into `meta`; any other message goes to
    /// [`Core::modern_other`].
    pub(crate) fn modern(
        &self,
        message: Message,
        meta: &ModernMeta,
        caller: Option<Arc<Principal>>,
    ) -> Step {
        match message {
            Message::Request { id, method, params } => {
                negotiate::modern(self, id, method, params, meta, caller)
            }
            other => modern_other(other),
        }
    }

    /// Runs a prepared request to its result.
    pub(crate) async fn run(
        &self,
        method: &str,
        params: Map<String, Value>,
        call: Call,
    ) -> Result<Reply, RpcError> {
        self.engine.request(method, params, call).await
    }
}

/// A 2026-07-28 notification (taken) or response (refused: clients send none in this
/// revision).
pub(crate) fn modern_other(message: Message) -> Step {
    match message {
        Message::Response { id, .. } => Step::Error {
            id: Some(id),
            era: None,
            error: RpcError::new(
                protocol::ErrorCode::InvalidRequest,
                "clients do not send responses in 2026-07-28",
            ),
            malformed: true,
        },
        _ => Step::Accepted,
    }
}

/// A request refused because the store shared by replicas did not answer.
fn store_down(id: RequestId) -> Step {
    Limited::step(
        id,
        "session_store",
        "the session store is unavailable; try again shortly".into(),
        StoreDown::RETRY_AFTER,
        true,
    )
}

/// The message of `logging/setLevel` with a level that is not one.
const LEVELS: &str =
    "`level` must be one of debug, info, notice, warning, error, critical, alert, emergency";

/// The error of a subscription the session may not hold.
fn subscription_refused(why: SubscriptionRefused) -> RpcError {
    match why {
        SubscriptionRefused::TooMany(most) => RpcError::invalid_params(format!(
            "this session holds {most} subscriptions, the most it may; unsubscribe from one first"
        )),
        SubscriptionRefused::UriTooLong => RpcError::invalid_params(format!(
            "a subscribed URI may be at most {} bytes",
            session::MAX_SUBSCRIBED_URI
        )),
    }
}

/// Whether `clientInfo` and `capabilities` serialize to at most `most` bytes together,
/// counted without building the text.
fn fits(info: Option<&Value>, capabilities: Option<&Value>, most: usize) -> bool {
    struct Budget(usize);
    impl std::io::Write for Budget {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self
                .0
                .checked_sub(buf.len())
                .ok_or_else(|| std::io::Error::other("over budget"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut budget = Budget(most);
    [info, capabilities]
        .into_iter()
        .flatten()
        .all(|v| serde_json::to_writer(&mut budget, v).is_ok())
}

fn failed(id: RequestId, era: Era, error: RpcError) -> Step {
    Step::Error {
        id: Some(id),
        era: Some(era),
        error,
        malformed: false,
    }
}
