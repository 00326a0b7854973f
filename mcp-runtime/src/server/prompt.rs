//! Prompts: what `#[prompt]` declares, how its string arguments are read, and how a method's
//! return value becomes a `GetPromptResult`.
//!
//! 2025-11-25 and 2026-07-28 `server/prompts`: `prompts/list` → `{prompts: [{name, title?,
//! description?, arguments: [{name, description?, required}]}]}`; `prompts/get {name,
//! arguments?: {string: string}}`. An unknown prompt, a missing required argument or an
//! argument that is not a string is -32602; an internal failure -32603.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use crate::protocol::{ErrorCode, GetPromptResult, PromptMessage, RpcError};

/// A boxed future returned by the generated `prompts/get` dispatch.
pub type PromptFuture<'a> =
    Pin<Box<dyn Future<Output = Result<GetPromptResult, RpcError>> + Send + 'a>>;

/// Why a prompt could not be built.
///
/// A `#[prompt]` method may return `Result<T, E>` where `E` converts into this type
/// (`From<E> for PromptError`) or implements `Display`.
/// [`PromptError::InvalidArgument`] is answered -32602 with its message, for the client to
/// show; anything else is logged and answered -32603 with a generic message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptError {
    /// An argument's value is unusable; the message is sent to the client.
    InvalidArgument(String),
    /// Building the prompt failed; the message is logged, never sent.
    Internal(String),
}

impl PromptError {
    /// An invalid argument, with a message for the client.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    /// An internal failure with `error`'s message (logged, never sent).
    pub fn internal(error: impl fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }
}

impl fmt::Display for PromptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidArgument(message) | Self::Internal(message) => f.write_str(message),
        }
    }
}

impl super::errors::FromDisplay for PromptError {
    fn from_display(message: String) -> Self {
        Self::Internal(message)
    }
}

/// The protocol error for a prompt's `Err`.
#[doc(hidden)]
pub fn prompt_error(prompt: &str, error: PromptError) -> RpcError {
    match error {
        PromptError::InvalidArgument(message) => RpcError::invalid_params(message),
        PromptError::Internal(message) => {
            tracing::error!(prompt = %prompt, error = %message, "prompt failed");
            RpcError::new(ErrorCode::InternalError, "internal error")
        }
    }
}

/// -32602 for a prompt name the server does not have.
#[doc(hidden)]
pub fn unknown_prompt(name: &str) -> RpcError {
    RpcError::invalid_params(format!("unknown prompt `{name}`"))
}

/// What a `#[prompt]` method may return.
#[diagnostic::on_unimplemented(
    message = "a prompt cannot be made from `{Self}`",
    label = "a prompt returns text or messages",
    note = "return `String`, `PromptMessage`, `Vec<PromptMessage>` or `GetPromptResult`, or a `Result` of one"
)]
pub trait IntoGetPromptResult {
    /// The result.
    fn into_get_prompt_result(self) -> GetPromptResult;
}

impl IntoGetPromptResult for GetPromptResult {
    fn into_get_prompt_result(self) -> GetPromptResult {
        self
    }
}

impl IntoGetPromptResult for String {
    fn into_get_prompt_result(self) -> GetPromptResult {
        PromptMessage::user(self).into()
    }
}

impl IntoGetPromptResult for &str {
    fn into_get_prompt_result(self) -> GetPromptResult {
        PromptMessage::user(self).into()
    }
}

impl IntoGetPromptResult for PromptMessage {
    fn into_get_prompt_result(self) -> GetPromptResult {
        self.into()
    }
}

impl IntoGetPromptResult for Vec<PromptMessage> {
    fn into_get_prompt_result(self) -> GetPromptResult {
        self.into()
    }
}

/// The arguments of one `prompts/get`, each a string.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct PromptArguments(HashMap<String, String>);

impl PromptArguments {
    /// Reads `arguments` from the params: absent or `null` is none; every value must be a
    /// string.
    pub(crate) fn from_params(arguments: Option<Value>) -> Result<Self, RpcError> {
        let map = match arguments {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(RpcError::invalid_params(
                    "`arguments` must be an object of strings",
                ));
            }
        };
        Self::from_map(map)
    }

    fn from_map(map: Map<String, Value>) -> Result<Self, RpcError> {
        let mut out = HashMap::with_capacity(map.len());
        for (name, value) in map {
            let Value::String(value) = value else {
                return Err(RpcError::invalid_params(format!(
                    "argument `{name}` must be a string"
                )));
            };
            out.insert(name, value);
        }
        Ok(Self(out))
    }
}

/// A prompt parameter: `String` (required) or `Option<String>` (optional).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "prompt arguments are strings; take `String` or `Option<String>`",
    label = "not a string"
)]
pub trait PromptArgument: Sized {
    /// Takes the argument `name` out of `args`.
    fn from_prompt_args(args: &mut PromptArguments, name: &str) -> Result<Self, RpcError>;
}

impl PromptArgument for String {
    fn from_prompt_args(args: &mut PromptArguments, name: &str) -> Result<Self, RpcError> {
        args.0
            .remove(name)
            .ok_or_else(|| RpcError::invalid_params(format!("missing required argument `{name}`")))
    }
}

impl PromptArgument for Option<String> {
    fn from_prompt_args(args: &mut PromptArguments, name: &str) -> Result<Self, RpcError> {
        Ok(args.0.remove(name))
    }
}

/// One prompt as listed by `prompts/list`.
#[doc(hidden)]
#[derive(Debug)]
pub struct PromptDef {
    /// The name (default: the method name).
    pub name: &'static str,
    /// A display title.
    pub title: Option<&'static str>,
    /// What the prompt is for (from the doc comment unless given).
    pub description: Option<String>,
    /// Its icons.
    pub icons: &'static [super::IconDef],
    /// Its arguments, in parameter order.
    pub arguments: &'static [PromptArgumentDef],
    /// Scopes a caller needs to get it, besides the server's required ones.
    pub scopes: &'static [&'static str],
}

/// One argument of a prompt.
#[doc(hidden)]
#[derive(Debug)]
pub struct PromptArgumentDef {
    /// The name (the parameter's).
    pub name: &'static str,
    /// From `#[arg(description = "…")]`.
    pub description: Option<&'static str>,
    /// Whether it is a `String` rather than an `Option<String>`.
    pub required: bool,
}

impl PromptDef {
    /// The `prompts/list` entry.
    pub(crate) fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("name".into(), self.name.into());
        if let Some(title) = self.title {
            obj.insert("title".into(), title.into());
        }
        if let Some(description) = &self.description {
            obj.insert("description".into(), description.as_str().into());
        }
        if let Some(icons) = super::icons_json(self.icons) {
            obj.insert("icons".into(), icons);
        }
        let arguments = self
            .arguments
            .iter()
            .map(|a| {
                let mut arg = Map::new();
                arg.insert("name".into(), a.name.into());
                if let Some(description) = a.description {
                    arg.insert("description".into(), description.into());
                }
                arg.insert("required".into(), a.required.into());
                Value::Object(arg)
            })
            .collect();
        obj.insert("arguments".into(), Value::Array(arguments));
        Value::Object(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arguments_are_strings() {
        let mut args = PromptArguments::from_params(Some(json!({"a": "1"}))).unwrap();
        assert_eq!(
            <Option<String>>::from_prompt_args(&mut args, "b").unwrap(),
            None
        );
        assert_eq!(String::from_prompt_args(&mut args, "a").unwrap(), "1");
        let err = String::from_prompt_args(&mut args, "a").unwrap_err();
        assert_eq!(err.message, "missing required argument `a`");
        let err = PromptArguments::from_params(Some(json!({"a": 1}))).unwrap_err();
        assert_eq!(err.message, "argument `a` must be a string");
        assert!(PromptArguments::from_params(Some(json!([]))).is_err());
        assert!(PromptArguments::from_params(None).is_ok());
    }
}
