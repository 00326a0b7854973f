//! Asking the client for input, one API for both revisions.
//!
//! In a 2025-11-25 session, [`RequestContext::ask`](super::RequestContext::ask) sends a real
//! server-to-client request (`elicitation/create`, `sampling/createMessage`, `roots/list`) on
//! the request's SSE stream and waits for the client to POST its answer. In 2026-07-28 (and
//! in stateless servers) there are no such requests: the first call records what is needed
//! and fails with [`InputRequired`]; the server answers with an `input_required` result
//! (SEP-2322) carrying the requests and a sealed `requestState`, and the client retries
//! with `inputResponses`, where the second call finds its answer.
//!
//! `requestState` is HMAC-SHA256-sealed and bound to the method, a digest of the params, the
//! caller and an expiry, so a tampered or replayed state is refused with -32602.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use tokio::sync::{broadcast, oneshot};

pub use super::sealing::{STATE_KEYS_VAR, STATE_LIFETIME_SECS, StateKeys, StateKeysError};
use crate::protocol::RequestId;

/// One thing the server asks of the client.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRequest {
    method: &'static str,
    params: Value,
    timeout: Option<Duration>,
}

/// How long a 2025-11-25 session's client has to answer a request of the server, unless
/// [`InputRequest::timeout`] says otherwise: long enough for a person to fill in a form.
pub const DEFAULT_ANSWER_TIMEOUT: Duration = Duration::from_mins(5);

impl InputRequest {
    /// `elicitation/create` in form mode: `message` for the user, and the flat object schema
    /// (string, number, integer, boolean and enum properties) of what to fill in. Never for
    /// passwords or other secrets.
    pub fn elicit(message: impl Into<String>, requested_schema: impl Into<Value>) -> Self {
        Self {
            method: "elicitation/create",
            params: json!({"mode": "form", "message": message.into(), "requestedSchema": requested_schema.into()}),
            timeout: None,
        }
    }

    /// `elicitation/create` in URL mode: the user completes a step at `url` out of band.
    pub fn elicit_url(message: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: "elicitation/create",
            params: json!({"mode": "url", "message": message.into(), "url": url.into()}),
            timeout: None,
        }
    }

    /// `sampling/createMessage` with the given params (`messages`, `maxTokens`, …).
    pub fn sample(params: Value) -> Self {
        Self {
            method: "sampling/createMessage",
            params,
            timeout: None,
        }
    }

    /// `sampling/createMessage` for one user text and a token budget.
    pub fn sample_text(text: impl Into<String>, max_tokens: u32) -> Self {
        Self::sample(json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": text.into()}}],
            "maxTokens": max_tokens,
        }))
    }

    /// `roots/list`.
    pub fn list_roots() -> Self {
        Self {
            method: "roots/list",
            params: json!({}),
            timeout: None,
        }
    }

    /// How long the client of a 2025-11-25 session has to answer (default
    /// [`DEFAULT_ANSWER_TIMEOUT`]); then the server sends `notifications/cancelled` and
    /// [`ask`](super::RequestContext::ask) fails. A 2026-07-28 client answers in its retry,
    /// so this does not apply there.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long the client has to answer.
    pub fn answer_timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_ANSWER_TIMEOUT)
    }

    /// The JSON-RPC method.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The params.
    pub fn params(&self) -> &Value {
        &self.params
    }

    /// The client capability the request needs.
    pub fn capability(&self) -> &'static str {
        match self.method {
            "elicitation/create" => "elicitation",
            "sampling/createMessage" => "sampling",
            _ => "roots",
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({"method": self.method, "params": self.params})
    }
}

/// The client must answer before the tool can go on; return it (with `?`) from the tool.
///
/// In 2026-07-28 the server then answers with an `input_required` result; in a 2025-11-25
/// session it means the client could not be asked (it did not declare the capability, or
/// the request has no stream to ask on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRequired {
    pub(crate) reason: &'static str,
}

impl fmt::Display for InputRequired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
    }
}

impl std::error::Error for InputRequired {}

/// Log levels of `notifications/message` (RFC 5424 severities, least severe first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `debug`.
    Debug,
    /// `info`.
    Info,
    /// `notice`.
    Notice,
    /// `warning`.
    Warning,
    /// `error`.
    Error,
    /// `critical`.
    Critical,
    /// `alert`.
    Alert,
    /// `emergency`.
    Emergency,
}

impl LogLevel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
            Self::Alert => "alert",
            Self::Emergency => "emergency",
        }
    }

    /// Reads a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "debug" => Self::Debug,
            "info" => Self::Info,
            "notice" => Self::Notice,
            "warning" => Self::Warning,
            "error" => Self::Error,
            "critical" => Self::Critical,
            "alert" => Self::Alert,
            "emergency" => Self::Emergency,
            _ => return None,
        })
    }

    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_u8(n: u8) -> Option<Self> {
        [
            Self::Debug,
            Self::Info,
            Self::Notice,
            Self::Warning,
            Self::Error,
            Self::Critical,
            Self::Alert,
            Self::Emergency,
        ]
        .get(usize::from(n))
        .copied()
    }
}

/// Server-to-client requests awaiting the client's answer (2025-11-25 sessions, stdio).
///
/// Ids are `s-{n}`, or `s{replica}-{n}` where replicas share a session: unique across the
/// processes that may ask the same client.
#[derive(Debug, Default)]
pub(crate) struct PendingRequests {
    /// The replica's number, where replicas share sessions.
    replica: Option<u64>,
    next: AtomicU64,
    waiting: Mutex<HashMap<RequestId, oneshot::Sender<Result<Value, Value>>>>,
}

impl PendingRequests {
    /// The requests of replica number `replica` (`None` for a process of its own).
    pub(crate) fn of_replica(replica: Option<u64>) -> Self {
        Self {
            replica,
            ..Self::default()
        }
    }

    pub(crate) fn register(&self) -> (RequestId, oneshot::Receiver<Result<Value, Value>>) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = RequestId::String(match self.replica {
            None => format!("s-{n}"),
            Some(replica) => format!("s{replica}-{n}"),
        });
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id.clone(), tx);
        (id, rx)
    }

    /// Delivers the client's answer; the answer back when no request of this process
    /// awaits it.
    pub(crate) fn resolve(
        &self,
        id: &RequestId,
        outcome: Result<Value, Value>,
    ) -> Option<Result<Value, Value>> {
        match self.lock().remove(id) {
            Some(tx) => {
                let _ = tx.send(outcome);
                None
            }
            None => Some(outcome),
        }
    }

    pub(crate) fn forget(&self, id: &RequestId) {
        self.lock().remove(id);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<RequestId, oneshot::Sender<Result<Value, Value>>>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What changed on the server, for list-changed and resource-updated notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The tool list changed.
    Tools,
    /// The prompt list changed.
    Prompts,
    /// The resource list changed.
    Resources,
    /// A resource's contents changed.
    Resource(String),
}

/// Fans changes out to every open stream that asked for them, and to the other replicas
/// where replicas share sessions. Cloned for every request: one reference count.
#[derive(Clone, Default)]
pub(crate) struct Hub(Arc<Channels>);

struct Channels {
    changes: broadcast::Sender<Change>,
    relay: Option<Relay>,
    /// Ids of tasks (the Tasks extension) whose record changed.
    tasks: broadcast::Sender<Arc<str>>,
    relay_task: Option<TaskRelay>,
}

/// Hands a change to the other replicas.
type Relay = Box<dyn Fn(&Change) + Send + Sync>;
/// Hands a task's change to the other replicas.
type TaskRelay = Box<dyn Fn(&str) + Send + Sync>;

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("relayed", &self.0.relay.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Channels {
    fn default() -> Self {
        Self {
            changes: broadcast::channel(256).0,
            relay: None,
            tasks: broadcast::channel(256).0,
            relay_task: None,
        }
    }
}

impl Hub {
    /// A hub that also hands every change published here to `relay`, and every task
    /// change to `relay_task`.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn relayed(
        relay: impl Fn(&Change) + Send + Sync + 'static,
        relay_task: impl Fn(&str) + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(Channels {
            relay: Some(Box::new(relay)),
            relay_task: Some(Box::new(relay_task)),
            ..Channels::default()
        }))
    }

    pub(crate) fn publish(&self, change: Change) {
        if let Some(relay) = &self.0.relay {
            relay(&change);
        }
        self.publish_here(change);
    }

    /// Publishes to this process's streams only: a change another replica relayed.
    pub(crate) fn publish_here(&self, change: Change) {
        // No subscriber is not an error: nobody is listening.
        let _ = self.0.changes.send(change);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.0.changes.subscribe()
    }

    /// Tells the streams listening to task `id`, here and on the other replicas, that its
    /// record changed.
    pub(crate) fn publish_task(&self, id: &str) {
        if let Some(relay) = &self.0.relay_task {
            relay(id);
        }
        self.publish_task_here(id);
    }

    /// Tells this process's streams only: a change another replica relayed.
    pub(crate) fn publish_task_here(&self, id: &str) {
        let _ = self.0.tasks.send(id.into());
    }

    pub(crate) fn subscribe_tasks(&self) -> broadcast::Receiver<Arc<str>> {
        self.0.tasks.subscribe()
    }
}

/// The next change (or task id) `changes` carries for a stream that writes to `out`; `None`
/// once the stream's reader went away or nothing can be published any more. A stream that
/// fell behind skips what it missed: a list change says "list again", and a task is sent as
/// it is now, so the latest suffices.
pub(crate) async fn next_change<T: Clone>(
    changes: &mut broadcast::Receiver<T>,
    out: &tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Option<T> {
    loop {
        let change = tokio::select! {
            () = out.closed() => return None,
            change = changes.recv() => change,
        };
        match change {
            Ok(change) => return Some(change),
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// What a `requestState` is bound to: the method, the params (without the retry fields and
/// `_meta`) and the caller.
pub(crate) fn binding(method: &str, params: &Map<String, Value>, caller: Option<&str>) -> String {
    let mut digest = Sha256::new();
    digest.update(method.as_bytes());
    digest.update([0]);
    for (k, v) in params {
        if matches!(k.as_str(), "inputResponses" | "requestState" | "_meta") {
            continue;
        }
        digest.update(k.as_bytes());
        digest.update([0]);
        // Serialized straight into the hash: no intermediate string on the request path.
        let _ = serde_json::to_writer(&mut digest, v);
        digest.update([0]);
    }
    digest.update(caller.unwrap_or_default().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_order_and_parse() {
        assert!(LogLevel::Debug < LogLevel::Error);
        assert_eq!(LogLevel::parse("warning"), Some(LogLevel::Warning));
        assert_eq!(LogLevel::parse("loud"), None);
        assert_eq!(
            LogLevel::from_u8(LogLevel::Alert.to_u8()),
            Some(LogLevel::Alert)
        );
    }
}
