//! The handlers of resources, prompts and completions: reading the request's params,
//! calling the server's generated methods, and shaping their results per era.

use serde_json::{Map, Value, json};

use super::McpServer;
use super::completion::{CompletionContext, CompletionTarget};
use super::context::context;
use super::dispatch::{Call, Engine, Era, Reply, catch_panic, internal_error, string_param};
use super::prompt::PromptArguments;
use super::resource::ResourceError;
use crate::protocol::{Completion, ErrorCode, GetPromptResult, RpcError};

/// How long a 2026-07-28 client may cache `resources/read` (`ttlMs`: 0): contents come
/// from the server's own code, which may change them at any time, so they are stale at once
/// unless a later option says otherwise. A protected server's reads may depend on who asks.
const READ_CACHE_PUBLIC: &[u8] = br#""ttlMs":0,"cacheScope":"public","#;
const READ_CACHE_PRIVATE: &[u8] = br#""ttlMs":0,"cacheScope":"private","#;

impl<S: McpServer> Engine<S> {
    /// `resources/subscribe` and `resources/unsubscribe`: the URI, when some resource
    /// answers it; the caller records the subscription only then.
    pub(crate) fn subscription<'p>(
        &self,
        method: &str,
        params: &'p Map<String, Value>,
        era: Era,
    ) -> Result<&'p str, RpcError> {
        let desc = self.desc;
        if desc.resources.is_empty() && desc.resource_templates.is_empty() {
            return Err(RpcError::method_not_found(method));
        }
        let uri = uri_param(params)?;
        if self.is_readable(uri) {
            Ok(uri)
        } else {
            Err(resource_not_found(era, uri))
        }
    }

    /// Whether some resource answers `uri`, without reading it.
    fn is_readable(&self, uri: &str) -> bool {
        self.desc.resources.iter().any(|r| r.uri == uri)
            || self
                .desc
                .resource_templates
                .iter()
                .any(|t| t.matcher.matches(uri))
    }

    pub(super) async fn read_resource(
        &self,
        params: &Map<String, Value>,
        call: Call,
    ) -> Result<Reply, RpcError> {
        let era = call.era;
        let uri = uri_param(params)?;
        let ctx = context(params, call);
        let future = self.server.__read_resource(uri, ctx);
        let contents = match catch_panic(future, "resource", uri).await {
            Some(Ok(contents)) => contents,
            Some(Err(ResourceError::NotFound)) => return Err(resource_not_found(era, uri)),
            Some(Err(ResourceError::Internal(message))) => {
                tracing::error!(uri = %uri, error = %message, "resource read failed");
                return Err(internal_error());
            }
            None => return Err(internal_error()),
        };
        let extra: &[u8] = if self.desc.protected {
            READ_CACHE_PRIVATE
        } else {
            READ_CACHE_PUBLIC
        };
        self.reply(&json!({ "contents": contents }), era, extra)
    }

    pub(super) async fn get_prompt(
        &self,
        params: &Map<String, Value>,
        call: Call,
    ) -> Result<GetPromptResult, RpcError> {
        let name = string_param(params, "name", "prompt")?;
        let Some(def) = self.desc.prompts.iter().find(|p| p.name == name) else {
            return Err(super::prompt::unknown_prompt(name));
        };
        let arguments = PromptArguments::from_params(params.get("arguments").cloned())?;
        let ctx = context(params, call);
        let future = self.server.__get_prompt(name, arguments, ctx);
        let mut result = catch_panic(future, "prompt", name)
            .await
            .unwrap_or_else(|| Err(internal_error()))?;
        if result.description.is_none() {
            result.description.clone_from(&def.description);
        }
        Ok(result)
    }

    pub(super) async fn complete(
        &self,
        params: &Map<String, Value>,
        call: Call,
    ) -> Result<Completion, RpcError> {
        let reference = params
            .get("ref")
            .and_then(Value::as_object)
            .ok_or_else(|| RpcError::invalid_params("missing `ref`"))?;
        let field = |key: &str| reference.get(key).and_then(Value::as_str);
        let target = match field("type") {
            Some("ref/prompt") => {
                let name = field("name")
                    .ok_or_else(|| RpcError::invalid_params("`ref/prompt` needs a `name`"))?;
                let Some(prompt) = self.desc.prompts.iter().find(|p| p.name == name) else {
                    return Err(super::prompt::unknown_prompt(name));
                };
                CompletionTarget::Prompt(prompt.name)
            }
            Some("ref/resource") => {
                let uri = field("uri")
                    .ok_or_else(|| RpcError::invalid_params("`ref/resource` needs a `uri`"))?;
                if let Some(t) = self
                    .desc
                    .resource_templates
                    .iter()
                    .find(|t| t.uri_template == uri)
                {
                    CompletionTarget::Resource(t.uri_template)
                } else if self.desc.resources.iter().any(|r| r.uri == uri) {
                    // A fixed URI has nothing to complete.
                    return Ok(Completion::default());
                } else {
                    return Err(RpcError::invalid_params(format!(
                        "unknown resource `{uri}`"
                    )));
                }
            }
            _ => {
                return Err(RpcError::invalid_params(
                    "`ref.type` must be `ref/prompt` or `ref/resource`",
                ));
            }
        };
        let argument = params
            .get("argument")
            .and_then(Value::as_object)
            .ok_or_else(|| RpcError::invalid_params("missing `argument`"))?;
        let (Some(name), Some(value)) = (
            argument.get("name").and_then(Value::as_str),
            argument.get("value").and_then(Value::as_str),
        ) else {
            return Err(RpcError::invalid_params(
                "`argument` needs a string `name` and `value`",
            ));
        };
        let Some(index) = self
            .desc
            .completions
            .iter()
            .position(|c| c.target == target && c.argument == name)
        else {
            return Ok(Completion::default());
        };
        let context_arguments = CompletionContext::from_params(params.get("context"));
        let ctx = context(params, call);
        let future = self
            .server
            .__complete(index, value.to_owned(), context_arguments, ctx);
        catch_panic(future, "completion", name)
            .await
            .unwrap_or_else(|| Err(internal_error()))
    }
}

fn uri_param(params: &Map<String, Value>) -> Result<&str, RpcError> {
    string_param(params, "uri", "resource")
}

/// No resource answers `uri`: -32602 in 2026-07-28 (SEP-2164), -32002 before; `data.uri`
/// either way.
fn resource_not_found(era: Era, uri: &str) -> RpcError {
    let code = match era {
        Era::Modern(_) => ErrorCode::InvalidParams,
        Era::Legacy(_) => ErrorCode::ResourceNotFound,
    };
    RpcError::new(code, "resource not found").with_data(json!({ "uri": uri }))
}
