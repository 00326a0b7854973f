//! [`RequestContext`]: what a tool may know about the request that called it.

use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::call::{Call, ClientDeclaration, ClientLink, ContextParts, Outcome, progress_token};
use super::inject::{DeclaresOAuth, FromCaller, KeepsSessions};
use super::input::{Change, InputRequest, InputRequired, LogLevel};
use super::session::Session;
use super::tasks::Live;
use crate::auth::{Auth, AuthClaims, Principal};
use crate::protocol::{ErrorCode, RequestId, RpcError, notification_json};

/// The request a tool is answering: id, protocol version, client, cancellation and progress.
///
/// A tool receives it by declaring a parameter of this type; it is injected, never read from
/// the arguments, and does not appear in the input schema.
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// struct Jobs;
///
/// #[mcp_server]
/// impl Jobs {
///     /// Counts to `n`, reporting progress, and stops early when cancelled.
///     #[tool]
///     async fn count(&self, ctx: RequestContext, n: u32) -> String {
///         for i in 0..n {
///             if ctx.is_cancelled() {
///                 return format!("cancelled at {i}");
///             }
///             ctx.progress(f64::from(i), Some(f64::from(n)), None).await;
///         }
///         format!("counted to {n}")
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RequestContext {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: RequestId,
    protocol_version: &'static str,
    client: Arc<ClientDeclaration>,
    progress_token: Option<Value>,
    /// Made on first use when nothing outside the handler can cancel the request.
    cancellation: OnceLock<CancellationToken>,
    /// Messages sent before the result: used by `ask`, `log` and `progress` only, which is
    /// what `Call::may_stream` checks before a transport prepares one.
    notifier: Option<mpsc::Sender<Vec<u8>>>,
    principal: Option<Arc<Principal>>,
    link: ClientLink,
    /// The task the call became, once it did: questions then wait for `tasks/update`.
    task: OnceLock<Arc<Live>>,
}

impl<S: KeepsSessions> FromCaller<S> for Session {
    fn from_context(ctx: &RequestContext) -> Result<Self, crate::protocol::RpcError> {
        ctx.inner.link.session.clone().ok_or_else(|| {
            crate::protocol::RpcError::new(
                crate::protocol::ErrorCode::InvalidRequest,
                "this request belongs to no session: send `initialize` first (2025-11-25)",
            )
        })
    }
}

impl<S: DeclaresOAuth, C: AuthClaims> FromCaller<S> for Auth<C> {
    fn from_context(ctx: &RequestContext) -> Result<Self, RpcError> {
        let principal = ctx
            .principal()
            .cloned()
            .ok_or_else(|| RpcError::new(ErrorCode::InternalError, "no verified caller"))?;
        Auth::read(principal).map_err(|e| {
            tracing::warn!(error = %e, "token claims do not fit the tool's claims type");
            RpcError::new(
                ErrorCode::InvalidRequest,
                "the access token lacks claims this tool needs",
            )
        })
    }
}

impl RequestContext {
    pub(crate) fn new(parts: ContextParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                id: parts.id,
                protocol_version: parts.protocol_version,
                client: parts.client,
                progress_token: parts.progress_token,
                cancellation: parts
                    .cancellation
                    .map_or_else(OnceLock::new, OnceLock::from),
                notifier: parts.notifier,
                principal: parts.principal,
                link: parts.link,
                task: OnceLock::new(),
            }),
        }
    }

    /// The call became the task `live`.
    pub(crate) fn attach_task(&self, live: Arc<Live>) {
        let _ = self.inner.task.set(live);
    }

    /// Whether the handler asked for input this round, or lacked a capability: its return
    /// then becomes `input_required` or -32021.
    pub(crate) fn asked_for_input(&self) -> bool {
        let outcome = self.outcome();
        !outcome.needed.is_empty() || outcome.missing_capability.is_some()
    }

    /// The id of the task this call became (Tasks extension), once it became one.
    pub fn task_id(&self) -> Option<String> {
        self.inner.task.get().map(|t| t.snapshot().id)
    }

    /// The JSON-RPC id of the request.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.id
    }

    /// The protocol revision of the request (for instance `2025-11-25` or `2026-07-28`).
    pub fn protocol_version(&self) -> &'static str {
        self.inner.protocol_version
    }

    /// The verified caller, on servers declared with `oauth`.
    pub fn principal(&self) -> Option<&Arc<Principal>> {
        self.inner.principal.as_ref()
    }

    /// The client's self-declared `Implementation` (`name`, `version`, …), if it sent one.
    ///
    /// Self-asserted by the client: never a basis for security decisions.
    pub fn client_info(&self) -> Option<&Value> {
        self.inner.client.info.as_ref()
    }

    /// The client's declared capabilities (an empty object when none).
    pub fn client_capabilities(&self) -> &Value {
        &self.inner.client.capabilities
    }

    /// Whether the client cancelled the request (or went away).
    pub fn is_cancelled(&self) -> bool {
        self.inner
            .cancellation
            .get()
            .is_some_and(CancellationToken::is_cancelled)
    }

    /// Completes when the request is cancelled; use it in `tokio::select!`.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.inner
            .cancellation
            .get_or_init(CancellationToken::new)
            .cancelled()
    }

    /// Whether the client asked for progress notifications on this request.
    pub fn wants_progress(&self) -> bool {
        self.inner.progress_token.is_some() && self.inner.notifier.is_some()
    }

    /// Whether the client declared `capability` (`"elicitation"`, `"sampling"`, `"roots"`, …).
    pub fn supports(&self, capability: &str) -> bool {
        self.inner
            .client
            .capabilities
            .get(capability)
            .is_some_and(|c| !c.is_null())
    }

    /// Whether the request is answered statelessly (2026-07-28): input comes in rounds.
    pub fn is_stateless_round(&self) -> bool {
        crate::protocol::modern_version(self.inner.protocol_version).is_some()
    }

    /// Asks the client for input and waits for its answer (the `result` of the client's
    /// response: an `ElicitResult`, `CreateMessageResult` or `ListRootsResult`).
    ///
    /// `key` names the request; it must be unique within the tool. In a 2025-11-25 session
    /// the request goes out now. In 2026-07-28 the answer comes with the client's retry:
    /// the first call fails with [`InputRequired`], which the tool returns with `?`, and the
    /// server answers `input_required`. See [`input`](crate::input). In a call that became a
    /// task, the task waits in `input_required` until the client answers with `tasks/update`.
    ///
    /// # Errors
    ///
    /// [`InputRequired`] when the answer must come in another round, or the client cannot
    /// be asked (it did not declare the capability, or went away, or refused).
    pub async fn ask(&self, key: &str, request: InputRequest) -> Result<Value, InputRequired> {
        if let Some(task) = self.inner.task.get() {
            if !self.supports(request.capability()) {
                return Err(InputRequired {
                    reason: "the client did not declare this capability",
                });
            }
            // A key is asked once in a task's life, so an answer of the wrong shape is final.
            return match task.ask(key, request.to_json()).await {
                Some(answer) if valid_answer(&request, &answer) => Ok(answer),
                Some(_) => Err(InputRequired {
                    reason: "the client's answer is not of the requested kind",
                }),
                None => Err(InputRequired {
                    reason: "the task was cancelled",
                }),
            };
        }
        if self.is_stateless_round() {
            if let Some(answer) = self
                .input_response(key)
                .filter(|a| valid_answer(&request, a))
            {
                return Ok(answer.clone());
            }
            if !self.supports(request.capability()) {
                self.require_capability(request.capability())?;
            }
            self.outcome()
                .needed
                .insert(key.to_owned(), request.to_json());
            return Err(InputRequired {
                reason: "the client must answer in another round",
            });
        }
        if !self.supports(request.capability()) {
            return Err(InputRequired {
                reason: "the client did not declare this capability",
            });
        }
        let (Some(pending), Some(tx)) = (&self.inner.link.pending, &self.inner.notifier) else {
            return Err(InputRequired {
                reason: "this request has no stream to ask the client on",
            });
        };
        let (id, rx) = pending.register();
        let message = json!({"jsonrpc": "2.0", "id": id, "method": request.method(), "params": request.params()});
        if tx.send(message.to_string().into_bytes()).await.is_err() {
            pending.forget(&id);
            return Err(InputRequired {
                reason: "the client went away",
            });
        }
        let answer = tokio::select! {
            answer = rx => answer,
            () = self.cancelled() => {
                pending.forget(&id);
                return Err(InputRequired { reason: "the request was cancelled" });
            }
            () = tokio::time::sleep(request.answer_timeout()) => {
                pending.forget(&id);
                let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id, "reason": "no answer in time"}});
                let _ = tx.send(cancel.to_string().into_bytes()).await;
                return Err(InputRequired { reason: "the client did not answer in time" });
            }
        };
        match answer {
            Ok(Ok(result)) => Ok(result),
            _ => Err(InputRequired {
                reason: "the client answered with an error",
            }),
        }
    }

    /// The client's answer to the input request `key`, in a 2026-07-28 retry.
    pub fn input_response(&self, key: &str) -> Option<&Value> {
        self.inner.link.input_responses.as_ref()?.get(key)
    }

    /// Fails the request with -32021 (missing required client capability) unless the
    /// client declared `capability`.
    ///
    /// # Errors
    ///
    /// [`InputRequired`], which the tool returns with `?`; the server then answers -32021
    /// naming the capability.
    pub fn require_capability(&self, capability: &'static str) -> Result<(), InputRequired> {
        if self.supports(capability) {
            return Ok(());
        }
        self.outcome().missing_capability.get_or_insert(capability);
        Err(InputRequired {
            reason: "the client lacks a required capability",
        })
    }

    /// The application state the tool sealed into the previous round's `requestState`.
    pub fn request_state(&self) -> Option<&Value> {
        self.inner.link.request_state.as_ref()
    }

    /// State to seal into this round's `requestState`; the retry reads it back with
    /// [`RequestContext::request_state`]. It is integrity-protected, not encrypted.
    pub fn set_request_state(&self, state: Value) {
        self.outcome().next_state = Some(state);
    }

    /// Sends `notifications/message` at `level` when the client asked for that level (with
    /// `logging/setLevel` in a session, or `_meta` `logLevel` in 2026-07-28).
    pub async fn log(&self, level: LogLevel, data: impl Serialize) {
        self.log_as(level, None, data).await;
    }

    /// Like [`RequestContext::log`], naming the logger.
    pub async fn log_as(&self, level: LogLevel, logger: Option<&str>, data: impl Serialize) {
        let (Some(threshold), Some(tx)) = (self.inner.link.log_level, &self.inner.notifier) else {
            return;
        };
        if level < threshold {
            return;
        }
        let mut params = json!({"level": level.as_str(), "data": serde_json::to_value(data).unwrap_or(Value::Null)});
        if let Some(logger) = logger {
            params["logger"] = json!(logger);
        }
        let _ = tx
            .send(notification_json("notifications/message", &params))
            .await;
    }

    /// Tells subscribed clients that something changed (list-changed or resource-updated
    /// notifications, on 2025-11-25 GET streams and 2026-07-28 `subscriptions/listen`).
    pub fn notify(&self, change: Change) {
        if let Some(hub) = &self.inner.link.hub {
            hub.publish(change);
        }
    }

    fn outcome(&self) -> std::sync::MutexGuard<'_, Outcome> {
        self.inner
            .link
            .outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes the connection carrying this request's SSE stream while the request goes on
    /// (SSE polling, SEP-1699): the client reconnects after the stream's `retry` delay with
    /// `GET` and `Last-Event-ID`, and receives what came meanwhile and the result. A long
    /// call so holds no connection while it works.
    ///
    /// Only in a 2025-11-25 session, whose streams can be resumed; elsewhere closing the
    /// stream would cancel the request, so this does nothing. Nor does it when the call
    /// answers with plain JSON (nothing it does can send a message before its result).
    pub async fn close_sse_stream(&self) {
        if self.inner.link.session.is_none() {
            return;
        }
        if let Some(tx) = &self.inner.notifier {
            let _ = tx.send(CLOSE_STREAM.to_vec()).await;
        }
    }

    /// Sends `notifications/progress` for this request, when the client asked for progress.
    ///
    /// `progress` must increase from one call to the next; `total` may be unknown. Does
    /// nothing when the client gave no progress token.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let (Some(token), Some(tx)) = (&self.inner.progress_token, &self.inner.notifier) else {
            return;
        };
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        // A closed channel means the client went away; cancellation tells the tool.
        let _ = tx
            .send(notification_json("notifications/progress", &params))
            .await;
    }
}

/// What a handler sends on its notifier to close its connection: no message is empty.
pub(crate) const CLOSE_STREAM: &[u8] = b"";

/// Whether an answer has the shape of the result its request asks for.
fn valid_answer(request: &InputRequest, answer: &Value) -> bool {
    match request.capability() {
        "elicitation" => answer
            .get("action")
            .and_then(Value::as_str)
            .is_some_and(|a| matches!(a, "accept" | "decline" | "cancel")),
        "sampling" => answer.get("content").is_some(),
        _ => answer.get("roots").is_some_and(Value::is_array),
    }
}

/// The request context of a call; `params` may carry `_meta.progressToken`.
pub(super) fn context(params: &Map<String, Value>, call: Call) -> RequestContext {
    let progress_token = progress_token(params).cloned();
    RequestContext::new(ContextParts {
        id: call.id,
        protocol_version: call.era.version(),
        client: call.client,
        progress_token,
        cancellation: call.cancellation,
        notifier: call.notifier,
        principal: call.principal,
        link: call.link,
    })
}
