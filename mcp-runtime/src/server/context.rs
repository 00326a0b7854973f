//! [`RequestContext`]: what a tool may know about the request that called it.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::protocol::{RequestId, notification_json};

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
    client_info: Option<Value>,
    client_capabilities: Value,
    progress_token: Option<Value>,
    cancellation: CancellationToken,
    notifier: Option<mpsc::Sender<Vec<u8>>>,
    #[cfg(feature = "http")]
    principal: Option<Arc<crate::auth::Principal>>,
}

impl RequestContext {
    pub(crate) fn new(parts: ContextParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                id: parts.id,
                protocol_version: parts.protocol_version,
                client_info: parts.client_info,
                client_capabilities: parts.client_capabilities,
                progress_token: parts.progress_token,
                cancellation: parts.cancellation,
                notifier: parts.notifier,
                #[cfg(feature = "http")]
                principal: parts.principal,
            }),
        }
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
    #[cfg(feature = "http")]
    pub fn principal(&self) -> Option<&Arc<crate::auth::Principal>> {
        self.inner.principal.as_ref()
    }

    /// The client's self-declared `Implementation` (`name`, `version`, …), if it sent one.
    ///
    /// Self-asserted by the client: never a basis for security decisions.
    pub fn client_info(&self) -> Option<&Value> {
        self.inner.client_info.as_ref()
    }

    /// The client's declared capabilities (an empty object when none).
    pub fn client_capabilities(&self) -> &Value {
        &self.inner.client_capabilities
    }

    /// Whether the client cancelled the request (or went away).
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancellation.is_cancelled()
    }

    /// Completes when the request is cancelled; use it in `tokio::select!`.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.inner.cancellation.cancelled()
    }

    /// Whether the client asked for progress notifications on this request.
    pub fn wants_progress(&self) -> bool {
        self.inner.progress_token.is_some() && self.inner.notifier.is_some()
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

/// The fields a transport fills in to build a [`RequestContext`].
pub(crate) struct ContextParts {
    pub(crate) id: RequestId,
    pub(crate) protocol_version: &'static str,
    pub(crate) client_info: Option<Value>,
    pub(crate) client_capabilities: Value,
    pub(crate) progress_token: Option<Value>,
    pub(crate) cancellation: CancellationToken,
    pub(crate) notifier: Option<mpsc::Sender<Vec<u8>>>,
    #[cfg(feature = "http")]
    pub(crate) principal: Option<Arc<crate::auth::Principal>>,
}
