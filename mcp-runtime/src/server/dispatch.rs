//! The method table shared by every transport: lifecycle, discovery and tools, answered per
//! protocol era.
//!
//! Everything that does not depend on the request (`tools/list`, `server/discover`, the
//! capabilities) is serialized once when the engine is built. 2026-07-28 results carry
//! `resultType` and `_meta["io.modelcontextprotocol/serverInfo"]`; lists also carry `ttlMs`
//! and `cacheScope` (SEP-2549). Legacy results carry none of these, since legacy clients may
//! check that `ping` returns exactly `{}`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt as _;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::context::{ContextParts, RequestContext};
use super::{McpServer, ServerDescriptor};
use crate::protocol::{
    self, CallToolResult, ErrorCode, LATEST_LEGACY_VERSION, META_SERVER_INFO, MODERN_VERSIONS,
    RequestId, RpcError,
};

/// How long a 2026-07-28 client may cache `tools/list` and `server/discover`.
const LIST_TTL_MS: u64 = 60_000;

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
}

impl Reply {
    /// The complete JSON-RPC response.
    pub(crate) fn into_response(self, id: &RequestId) -> Vec<u8> {
        match self {
            Self::Value(v) => protocol::response_json(id, &v),
            Self::Raw(raw) => protocol::response_raw(id, &raw),
        }
    }
}

/// What a transport knows about a request besides its method and params.
pub(crate) struct Call {
    pub(crate) id: RequestId,
    pub(crate) era: Era,
    pub(crate) client_info: Option<Value>,
    pub(crate) client_capabilities: Value,
    pub(crate) cancellation: CancellationToken,
    pub(crate) notifier: Option<mpsc::Sender<Vec<u8>>>,
    #[cfg(feature = "http")]
    pub(crate) principal: Option<Arc<crate::auth::Principal>>,
}

/// A server plus everything about it that is computed once.
pub(crate) struct Engine<S> {
    server: Arc<S>,
    desc: &'static ServerDescriptor,
    server_info: Value,
    capabilities: Value,
    tools_legacy: Bytes,
    tools_modern: Bytes,
    discover: Bytes,
}

impl<S: McpServer> Engine<S> {
    pub(crate) fn new(server: S) -> Self {
        let desc = S::__descriptor();
        let mut server_info = json!({"name": desc.name, "version": desc.version});
        if let Some(title) = desc.title {
            server_info["title"] = title.into();
        }
        let mut capabilities = Map::new();
        if !desc.tools.is_empty() {
            capabilities.insert("tools".into(), json!({"listChanged": false}));
        }
        let capabilities = Value::Object(capabilities);
        let tools: Vec<Value> = desc.tools.iter().map(super::ToolDef::to_json).collect();
        let meta = json!({ META_SERVER_INFO: server_info });
        let tools_legacy = to_bytes(&json!({"tools": tools}));
        let tools_modern = to_bytes(&json!({
            "tools": tools,
            "resultType": "complete",
            "ttlMs": LIST_TTL_MS,
            "cacheScope": "public",
            "_meta": meta,
        }));
        let mut discover = json!({
            "supportedVersions": MODERN_VERSIONS,
            "capabilities": capabilities,
            "resultType": "complete",
            "ttlMs": LIST_TTL_MS,
            "cacheScope": "public",
            "_meta": meta,
        });
        if let Some(instructions) = desc.instructions {
            discover["instructions"] = instructions.into();
        }
        let discover = to_bytes(&discover);
        Self {
            server: Arc::new(server),
            desc,
            server_info,
            capabilities,
            tools_legacy,
            tools_modern,
            discover,
        }
    }

    pub(crate) fn descriptor(&self) -> &'static ServerDescriptor {
        self.desc
    }

    /// Answers `initialize`: the negotiated version and the result.
    pub(crate) fn initialize(&self, params: &Map<String, Value>) -> (&'static str, Value) {
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let version = protocol::legacy_version(requested).unwrap_or(LATEST_LEGACY_VERSION);
        let mut result = json!({
            "protocolVersion": version,
            "capabilities": self.capabilities,
            "serverInfo": self.server_info,
        });
        if let Some(instructions) = self.desc.instructions {
            result["instructions"] = instructions.into();
        }
        (version, result)
    }

    /// Answers one request (anything but `initialize`, which opens a session).
    pub(crate) async fn request(
        &self,
        method: &str,
        params: Map<String, Value>,
        call: Call,
    ) -> Result<Reply, RpcError> {
        let era = call.era;
        match (method, era) {
            ("ping", Era::Legacy(_)) => Ok(Reply::Value(json!({}))),
            ("server/discover", Era::Modern(_)) => Ok(Reply::Raw(self.discover.clone())),
            ("tools/list", _) if !self.desc.tools.is_empty() => {
                if params.get("cursor").is_some_and(|c| !c.is_null()) {
                    return Err(RpcError::invalid_params(
                        "invalid cursor: the tool list has one page",
                    ));
                }
                Ok(Reply::Raw(match era {
                    Era::Legacy(_) => self.tools_legacy.clone(),
                    Era::Modern(_) => self.tools_modern.clone(),
                }))
            }
            ("tools/call", _) if !self.desc.tools.is_empty() => {
                let result = self.call_tool(params, call).await?;
                let mut value = serde_json::to_value(result)
                    .map_err(|_| RpcError::new(ErrorCode::InternalError, "internal error"))?;
                if let Era::Modern(_) = era {
                    self.stamp_modern(&mut value);
                }
                Ok(Reply::Value(value))
            }
            _ => Err(RpcError::method_not_found(method)),
        }
    }

    fn stamp_modern(&self, value: &mut Value) {
        if let Some(obj) = value.as_object_mut() {
            obj.insert("resultType".into(), "complete".into());
            obj.insert(
                "_meta".into(),
                json!({ META_SERVER_INFO: self.server_info }),
            );
        }
    }

    async fn call_tool(
        &self,
        mut params: Map<String, Value>,
        call: Call,
    ) -> Result<CallToolResult, RpcError> {
        let name = match params.remove("name") {
            Some(Value::String(name)) => name,
            Some(_) => return Err(RpcError::invalid_params("`name` must be a string")),
            None => return Err(RpcError::invalid_params("missing tool `name`")),
        };
        let arguments = match params.remove("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(args)) => args,
            Some(_) => return Err(RpcError::invalid_params("`arguments` must be an object")),
        };
        let progress_token = params
            .get("_meta")
            .and_then(|m| m.get("progressToken"))
            .filter(|t| t.is_string() || t.is_number())
            .cloned();
        #[cfg(feature = "http")]
        if let Some(principal) = &call.principal
            && let Some(tool) = self.desc.tools.iter().find(|t| t.name == name)
            && let Some(missing) = tool.scopes.iter().find(|s| !principal.has_scope(s))
        {
            tracing::debug!(tool = %name, scope = %missing, "token lacks a tool scope");
            return Err(RpcError::new(
                ErrorCode::InsufficientScope,
                format!("insufficient scope for tool `{name}`"),
            )
            .with_data(json!({"scopes": tool.scopes})));
        }
        let ctx = RequestContext::new(ContextParts {
            id: call.id,
            protocol_version: call.era.version(),
            client_info: call.client_info,
            client_capabilities: call.client_capabilities,
            progress_token,
            cancellation: call.cancellation,
            notifier: call.notifier,
            #[cfg(feature = "http")]
            principal: call.principal,
        });
        let future = self.server.__call_tool(&name, arguments, ctx);
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(tool = %name, panic = %what, "tool panicked");
                Ok(CallToolResult::error(format!(
                    "tool `{name}` failed unexpectedly"
                )))
            }
        }
    }
}

/// The error a modern client gets for an unsupported version (-32022).
pub(crate) fn unsupported_version(requested: &str) -> RpcError {
    RpcError::new(
        ErrorCode::UnsupportedProtocolVersion,
        format!("unsupported protocol version `{requested}`"),
    )
    .with_data(json!({"supported": MODERN_VERSIONS, "requested": requested}))
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("serializing a JSON value cannot fail"))
}
