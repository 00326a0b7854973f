//! The one decision of which scopes a call needs, made before anything runs.
//!
//! A call needs the scopes the server requires of every request, plus, for `tools/call`,
//! the scopes of the tool it names, and for `tasks/*` those of the tool whose task it names
//! (a task id ends with its tool's name). A caller lacking any of them is refused with the whole
//! set, so that one step-up authorization suffices (MCP 2025-11-25, scope challenge
//! handling); the HTTP transport's 403 challenge and the stdio error both come from here.

use serde_json::{Map, Value, json};

use super::Core;
use crate::auth::Principal;
use crate::protocol::{ErrorCode, RpcError};
use crate::server::McpServer;

/// A call refused for want of scopes.
#[derive(Debug)]
pub(crate) struct Forbidden {
    /// Every scope the call needs, the server's first.
    pub(crate) needed: Vec<&'static str>,
    /// The JSON-RPC error, with `data.scopes` = `needed`.
    pub(crate) error: RpcError,
}

/// The scopes `method` with `params` needs: the server's, then the named operation's; and
/// what the operation is, for messages (`("tool", "add")`).
pub(crate) fn scopes_needed<S: McpServer>(
    core: &Core<S>,
    method: &str,
    params: &Map<String, Value>,
) -> (Vec<&'static str>, Option<(&'static str, &'static str)>) {
    let mut needed = core.required.to_vec();
    let desc = core.engine.descriptor();
    let text = |key| params.get(key).and_then(Value::as_str);
    let tool = |name: &str| {
        desc.tools
            .iter()
            .find(|t| t.name == name)
            .map(|t| (("tool", t.name), t.scopes))
    };
    let operation = match method {
        "tools/call" => text("name").and_then(tool),
        "tasks/get" | "tasks/update" | "tasks/cancel" => text("taskId")
            .and_then(crate::server::tasks::Tasks::tool_of)
            .and_then(tool),
        "resources/read" => text("uri").and_then(|uri| {
            desc.resources
                .iter()
                .find(|r| r.uri == uri)
                .map(|r| (("resource", r.name), r.scopes))
                .or_else(|| {
                    desc.resource_templates
                        .iter()
                        .find(|t| t.matcher.matches(uri))
                        .map(|t| (("resource template", t.name), t.scopes))
                })
        }),
        "prompts/get" => text("name").and_then(|name| {
            desc.prompts
                .iter()
                .find(|p| p.name == name)
                .map(|p| (("prompt", p.name), p.scopes))
        }),
        _ => None,
    };
    let Some((what, scopes)) = operation else {
        return (needed, None);
    };
    needed.extend(scopes.iter().filter(|s| !core.required.contains(s)));
    (needed, Some(what))
}

/// Whether `caller` may make this call. An unprotected server lets anyone; a protected one
/// refuses a call without a caller, which no transport lets through.
///
/// # Errors
///
/// [`Forbidden`] with every scope the call needs.
pub(crate) fn authorize<S: McpServer>(
    core: &Core<S>,
    method: &str,
    params: &Map<String, Value>,
    caller: Option<&Principal>,
) -> Result<(), Forbidden> {
    let protected = core.engine.descriptor().protected;
    if !protected && caller.is_none() {
        return Ok(());
    }
    let (needed, operation) = scopes_needed(core, method, params);
    let granted = |s: &&str| caller.is_some_and(|p| p.has_scope(s));
    if caller.is_some() && needed.iter().all(granted) {
        return Ok(());
    }
    if let Some(missing) = needed.iter().find(|s| !granted(s)) {
        tracing::debug!(scope = %missing, method, "caller lacks a scope the call needs");
    }
    let message = match operation {
        Some((kind, name)) => format!("insufficient scope for {kind} `{name}`"),
        None => "insufficient scope".to_owned(),
    };
    let error =
        RpcError::new(ErrorCode::InsufficientScope, message).with_data(json!({"scopes": needed}));
    Err(Forbidden { needed, error })
}
