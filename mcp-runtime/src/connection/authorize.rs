//! The one decision of which scopes a call needs, made before anything runs.
//!
//! A call needs the scopes the server requires of every request, plus those of the operation
//! it names: the tool of `tools/call`, the resource or template `resources/read` reads (its
//! URI matched as for reading), the prompt of `prompts/get`, and for `tasks/*` the tool whose
//! task it names (a task id ends with its tool's name). A scope may name a parameter of its
//! operation (`files:read:{project}`): the call then needs the scope with the argument's
//! value in its place, or the template variable's for a resource template. A caller lacking
//! any of them is refused with the whole set, concrete, so that one step-up authorization
//! suffices (MCP 2025-11-25, scope challenge handling); the HTTP transport's 403 challenge
//! and the stdio error both come from here.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::{Core, Step};
use crate::auth::Principal;
use crate::protocol::{ErrorCode, RequestId, RpcError};
use crate::server::McpServer;
use crate::server::dispatch::Era;

/// A call refused for want of scopes.
#[derive(Debug)]
pub(crate) struct Forbidden {
    /// Every scope the call needs, the server's first.
    pub(crate) needed: Vec<Cow<'static, str>>,
    /// The JSON-RPC error, with `data.scopes` = `needed`.
    pub(crate) error: RpcError,
}

impl Forbidden {
    /// The scopes needed, borrowed.
    pub(crate) fn needed(&self) -> Vec<&str> {
        self.needed.iter().map(AsRef::as_ref).collect()
    }
}

/// Why a call may not be made.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The caller lacks scopes it needs.
    Forbidden(Forbidden),
    /// The scopes it needs cannot be told: an argument a scope names is missing, or holds
    /// what no scope may (-32602).
    Invalid(RpcError),
}

impl Refusal {
    /// The step that answers request `id` with this refusal.
    pub(crate) fn step(self, id: RequestId, era: Option<Era>) -> Step {
        match self {
            Self::Forbidden(forbidden) => Step::Forbidden(id, forbidden),
            Self::Invalid(error) => Step::Error {
                id: Some(id),
                era,
                error,
                malformed: false,
            },
        }
    }
}

/// What an operation is, for messages: `("tool", "add")`.
type Operation = (&'static str, &'static str);

/// Where the values of an operation's placeholders come from.
enum Values<'p> {
    /// None: a fixed resource.
    None,
    /// A tool's arguments: strings, numbers and booleans as text.
    Arguments(Option<&'p Map<String, Value>>),
    /// A prompt's arguments, strings.
    Strings(Option<&'p Map<String, Value>>),
    /// A template's variables, by name, and their values in the URI.
    Captured(Vec<&'static str>, Vec<String>),
}

impl Values<'_> {
    fn get(&self, name: &str) -> Option<String> {
        match self {
            Self::None => None,
            Self::Arguments(arguments) => match arguments.and_then(|a| a.get(name)) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                _ => None,
            },
            Self::Strings(arguments) => arguments
                .and_then(|a| a.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned),
            Self::Captured(names, values) => {
                let i = names.iter().position(|n| *n == name)?;
                values.get(i).cloned()
            }
        }
    }
}

/// The scopes `method` with `params` needs: the server's, then the named operation's, with
/// their placeholders filled in; and what the operation is.
///
/// # Errors
///
/// -32602 when a placeholder's argument is missing or holds what no scope may.
pub(crate) fn scopes_needed<S: McpServer>(
    core: &Core<S>,
    method: &str,
    params: &Map<String, Value>,
) -> Result<(Vec<Cow<'static, str>>, Option<Operation>), RpcError> {
    let mut needed: Vec<Cow<'static, str>> =
        core.required.iter().copied().map(Cow::Borrowed).collect();
    let desc = core.engine.descriptor();
    let text = |key| params.get(key).and_then(Value::as_str);
    let arguments = params.get("arguments").and_then(Value::as_object);
    let (what, scopes, values) = match method {
        "tools/call" => {
            let Some(t) = text("name").and_then(|n| desc.tools.iter().find(|t| t.name == n)) else {
                return Ok((needed, None));
            };
            (("tool", t.name), t.scopes, Values::Arguments(arguments))
        }
        // The task's arguments were its creator's, who held the scopes they named: its
        // `tasks/*` calls need the tool's other scopes, and only its creator may make them.
        "tasks/get" | "tasks/update" | "tasks/cancel" => {
            let Some(t) = text("taskId")
                .and_then(crate::server::tasks::Tasks::tool_of)
                .and_then(|n| desc.tools.iter().find(|t| t.name == n))
            else {
                return Ok((needed, None));
            };
            let fixed = t.scopes.iter().filter(|s| !s.contains('{'));
            needed.extend(
                fixed
                    .filter(|s| !core.required.contains(s))
                    .map(|s| Cow::Borrowed(*s)),
            );
            return Ok((needed, Some(("tool", t.name))));
        }
        "resources/read" => {
            let Some(uri) = text("uri") else {
                return Ok((needed, None));
            };
            if let Some(r) = desc.resources.iter().find(|r| r.uri == uri) {
                (("resource", r.name), r.scopes, Values::None)
            } else if let Some((t, captured)) = desc
                .resource_templates
                .iter()
                .find_map(|t| t.matcher.captures(uri).map(|c| (t, c)))
            {
                let names = variables(t.uri_template);
                (
                    ("resource template", t.name),
                    t.scopes,
                    Values::Captured(names, captured),
                )
            } else {
                return Ok((needed, None));
            }
        }
        "prompts/get" => {
            let Some(p) = text("name").and_then(|n| desc.prompts.iter().find(|p| p.name == n))
            else {
                return Ok((needed, None));
            };
            (("prompt", p.name), p.scopes, Values::Strings(arguments))
        }
        _ => return Ok((needed, None)),
    };
    for scope in scopes {
        if core.required.contains(scope) {
            continue;
        }
        let scope = fill(scope, &values, what)?;
        if !needed.contains(&scope) {
            needed.push(scope);
        }
    }
    Ok((needed, Some(what)))
}

/// `scope` with each `{name}` replaced by its value; borrowed when it names nothing.
fn fill(
    scope: &'static str,
    values: &Values<'_>,
    (kind, name): Operation,
) -> Result<Cow<'static, str>, RpcError> {
    if !scope.contains('{') {
        return Ok(Cow::Borrowed(scope));
    }
    let mut out = String::with_capacity(scope.len() + 16);
    let mut rest = scope;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        let param = &rest[open + 1..close];
        let Some(value) = values.get(param) else {
            return Err(RpcError::invalid_params(format!(
                "{kind} `{name}` needs `{param}`: its scope `{scope}` names it"
            )));
        };
        // RFC 6749, section 3.3: a scope token is printable ASCII without space, `"` or `\`.
        if !value
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        {
            return Err(RpcError::invalid_params(format!(
                "`{param}` of {kind} `{name}` is part of the scope `{scope}`, so it may hold only printable ASCII without spaces, quotes or backslashes"
            )));
        }
        out.push_str(&value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// The variable names of an RFC 6570 level 1 template, in order.
fn variables(template: &str) -> Vec<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .collect()
}

/// Whether `caller` may make this call. An unprotected server lets anyone; a protected one
/// refuses a call without a caller, which no transport lets through.
///
/// # Errors
///
/// [`Refusal::Forbidden`] with every scope the call needs, or [`Refusal::Invalid`] when they
/// cannot be told.
pub(crate) fn authorize<S: McpServer>(
    core: &Core<S>,
    method: &str,
    params: &Map<String, Value>,
    caller: Option<&Principal>,
) -> Result<(), Refusal> {
    let protected = core.engine.descriptor().protected;
    if !protected && caller.is_none() {
        return Ok(());
    }
    let (needed, operation) = scopes_needed(core, method, params).map_err(Refusal::Invalid)?;
    let granted = |s: &Cow<'static, str>| caller.is_some_and(|p| p.has_scope(s));
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
    Err(Refusal::Forbidden(Forbidden { needed, error }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_take_the_values_they_name() {
        let arguments: Map<String, Value> =
            serde_json::from_value(json!({"project": "alpha", "id": 7, "bad": "a b", "list": []}))
                .unwrap();
        let values = Values::Arguments(Some(&arguments));
        let op = ("tool", "read");
        assert_eq!(fill("files:read", &values, op).unwrap(), "files:read");
        assert_eq!(
            fill("files:read:{project}", &values, op).unwrap(),
            "files:read:alpha"
        );
        assert_eq!(
            fill("p:{project}:d:{id}", &values, op).unwrap(),
            "p:alpha:d:7"
        );
        assert!(
            fill("x:{bad}", &values, op)
                .unwrap_err()
                .message
                .contains("without spaces")
        );
        assert_eq!(
            fill("x:{missing}", &values, op).unwrap_err().message,
            "tool `read` needs `missing`: its scope `x:{missing}` names it"
        );
        assert!(fill("x:{list}", &values, op).is_err());
        let captured = Values::Captured(
            variables("docs://{owner}/{id}/raw"),
            vec!["ann".into(), "3".into()],
        );
        assert_eq!(
            fill("docs:{owner}:{id}", &captured, op).unwrap(),
            "docs:ann:3"
        );
    }
}
