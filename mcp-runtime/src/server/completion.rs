//! Completions: what `#[completion]` declares and how `completion/complete` finds the method.
//!
//! 2025-11-25 and 2026-07-28 `server/utilities/completion`: `completion/complete {ref:
//! {type: "ref/prompt", name} | {type: "ref/resource", uri}, argument: {name, value},
//! context?: {arguments}}` → `{completion: {values (at most 100), total?, hasMore?}}`. A
//! reference to a prompt or resource the server does not have is -32602; an argument without
//! a completion method gets no values.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::protocol::{Completion, ErrorCode, RpcError};

/// A boxed future returned by the generated `completion/complete` dispatch.
pub type CompletionFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Completion, RpcError>> + Send + 'a>>;

/// The other arguments the user has already filled in, for a `#[completion]` method that
/// narrows its suggestions by them (`context.arguments` of `completion/complete`).
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// struct Travel;
///
/// #[mcp_server]
/// impl Travel {
///     /// Plans a trip.
///     #[prompt]
///     fn trip(&self, country: String, city: String) -> String {
///         format!("Plan a trip to {city}, {country}.")
///     }
///
///     #[completion(prompt = "trip", argument = "city")]
///     fn cities(&self, value: String, context: CompletionContext) -> Vec<String> {
///         let cities: &[&str] = match context.argument("country") {
///             Some("France") => &["Paris", "Lyon"],
///             _ => &["London", "Paris", "Rome"],
///         };
///         cities.iter().filter(|c| c.starts_with(&value)).map(|c| (*c).to_owned()).collect()
///     }
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletionContext {
    arguments: HashMap<String, String>,
}

impl CompletionContext {
    /// Reads `context` from the params; values that are not strings are skipped.
    pub(crate) fn from_params(context: Option<&Value>) -> Self {
        let arguments = context
            .and_then(|c| c.get("arguments"))
            .and_then(Value::as_object)
            .map(|args| {
                args.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Self { arguments }
    }

    /// The value already given for the argument `name`.
    pub fn argument(&self, name: &str) -> Option<&str> {
        self.arguments.get(name).map(String::as_str)
    }

    /// Every argument already given.
    pub fn arguments(&self) -> &HashMap<String, String> {
        &self.arguments
    }
}

/// What a `#[completion]` method may return.
#[diagnostic::on_unimplemented(
    message = "completion values cannot be made from `{Self}`",
    label = "a completion returns `Vec<String>` or `Completion`",
    note = "return `Vec<String>` or `Completion`, or a `Result` of one"
)]
pub trait IntoCompletion {
    /// The completion.
    fn into_completion(self) -> Completion;
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Completion {
        self
    }
}

impl IntoCompletion for Vec<String> {
    fn into_completion(self) -> Completion {
        Completion::new(self)
    }
}

/// The protocol error for a completion method's `Err`: logged, answered -32603.
#[doc(hidden)]
pub fn completion_error<E: super::errors::ErrorMessage>(method: &str, error: &E) -> RpcError {
    tracing::error!(completion = %method, error = %error.message(), "completion failed");
    RpcError::new(ErrorCode::InternalError, "internal error")
}

/// What a completion method completes.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionTarget {
    /// An argument of the prompt with this name (`ref/prompt`).
    Prompt(&'static str),
    /// A variable of the resource template with this URI template (`ref/resource`).
    Resource(&'static str),
}

/// One `#[completion]` method.
#[doc(hidden)]
#[derive(Debug)]
pub struct CompletionDef {
    /// The prompt or resource template.
    pub target: CompletionTarget,
    /// The argument or template variable.
    pub argument: &'static str,
}
