//! The [`McpServer`] trait that `#[mcp_server]` implements, the tools, resources, prompts and
//! completions it describes, and the dispatch that every transport shares.

pub(crate) mod call;
pub(crate) mod completion;
pub(crate) mod context;
pub(crate) mod dispatch;
pub(crate) mod errors;
mod handlers;
pub(crate) mod inject;
pub mod input;
pub(crate) mod mirror;
pub(crate) mod output;
pub(crate) mod page;
pub(crate) mod prompt;
pub(crate) mod resource;
pub(crate) mod rounds;
pub(crate) mod schema;
pub(crate) mod sealing;
pub(crate) mod session;
pub(crate) mod tasks;
pub(crate) mod uri_template;

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

pub use completion::{
    CompletionContext, CompletionDef, CompletionFuture, CompletionTarget, IntoCompletion,
};
pub use context::RequestContext;
pub use output::{IntoCallToolResult, ToolError};
pub use prompt::{
    IntoGetPromptResult, PromptArgumentDef, PromptArguments, PromptDef, PromptError, PromptFuture,
};
pub use resource::{
    Blob, IntoResourceContents, ResourceDef, ResourceError, ResourceFuture, ResourceTemplateDef,
};
pub use session::Session;

use crate::protocol::{CallToolResult, Completion, RpcError};

/// A boxed future returned by generated tool dispatch.
pub type ToolFuture<'a> =
    Pin<Box<dyn Future<Output = Result<CallToolResult, RpcError>> + Send + 'a>>;

/// An MCP server: implemented by `#[mcp_server]`, never by hand.
///
/// [`Serve`](crate::Serve) turns a server into a transport. Which configuration a server
/// accepts follows from its declaration: a server without `oauth` is [`Unprotected`] and
/// served with an `HttpConfig` or plain stdio; one with `oauth` is [`Protected`] and served
/// with an `OAuthConfig` or, over stdio, as a [`LocalCaller`](crate::auth::LocalCaller).
pub trait McpServer: Send + Sync + Sized + 'static {
    /// The server's static description: identity, options and tools.
    #[doc(hidden)]
    fn __descriptor() -> &'static ServerDescriptor;

    /// Calls the tool `name` with `arguments`; generated as a `match` on the name.
    ///
    /// `Self: Sync` repeats the supertrait so that the generated body may assume it: a server
    /// that is not `Sync` is then one error, at its `impl` block, not a second one at the
    /// future that borrows it.
    #[doc(hidden)]
    fn __call_tool<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a Map<String, Value>,
        ctx: RequestContext,
    ) -> ToolFuture<'a>
    where
        Self: Sync;

    /// Reads the resource at `uri`: generated as a `match` on the fixed URIs, then the
    /// templates in declaration order. Servers without resources keep this default.
    #[doc(hidden)]
    fn __read_resource<'a>(&'a self, uri: &'a str, ctx: RequestContext) -> ResourceFuture<'a>
    where
        Self: Sync,
    {
        let _ = (uri, ctx);
        Box::pin(std::future::ready(Err(ResourceError::NotFound)))
    }

    /// Builds the prompt `name` from `arguments`; generated as a `match` on the name.
    /// Servers without prompts keep this default.
    #[doc(hidden)]
    fn __get_prompt<'a>(
        &'a self,
        name: &'a str,
        arguments: PromptArguments,
        ctx: RequestContext,
    ) -> PromptFuture<'a>
    where
        Self: Sync,
    {
        let _ = (arguments, ctx);
        Box::pin(std::future::ready(Err(prompt::unknown_prompt(name))))
    }

    /// Runs the completion method at `index` of the descriptor's `completions`. Servers
    /// without completions keep this default.
    #[doc(hidden)]
    fn __complete(
        &self,
        index: usize,
        value: String,
        context: CompletionContext,
        ctx: RequestContext,
    ) -> CompletionFuture<'_>
    where
        Self: Sync,
    {
        let _ = (index, value, context, ctx);
        Box::pin(std::future::ready(Ok(Completion::default())))
    }
}

/// Marks a server declared without `oauth`: it may be served without authorization.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is declared with `#[mcp_server(oauth(..))]`, so every request needs a verified caller",
    label = "this serves `{Self}` without one",
    note = "over HTTP, pass an `OAuthConfig`: `OAuthConfig::builder().resource(..).authorization_server(..).build().await?`",
    note = "over stdio, name the local caller and its scopes: `serve_stdio_as(LocalCaller::new(..).scopes([..]))`"
)]
pub trait Unprotected: McpServer {}

/// Marks a server declared with `oauth`: it is served only with an `OAuthConfig`, or over
/// stdio as a [`LocalCaller`](crate::auth::LocalCaller).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not declared with `oauth`, so there is no caller to check",
    label = "this needs a server declared with `oauth`",
    note = "declare the server with `#[mcp_server(oauth(scopes = [..]))]`, or serve it with `HttpConfig::new()` (HTTP) or `serve_stdio()` (stdio)"
)]
pub trait Protected: McpServer {
    /// Scopes every request needs.
    #[doc(hidden)]
    const REQUIRED_SCOPES: &'static [&'static str];
    /// Scopes the server declares (`scopes_supported`).
    #[doc(hidden)]
    const SCOPES: &'static [&'static str];
}

/// What `#[mcp_server]` declares about a server, built once at first use.
#[doc(hidden)]
#[derive(Debug)]
pub struct ServerDescriptor {
    /// `serverInfo.name`.
    pub name: &'static str,
    /// `serverInfo.version`.
    pub version: &'static str,
    /// `serverInfo.title`.
    pub title: Option<&'static str>,
    /// The `instructions` in `initialize` and `server/discover`.
    pub instructions: Option<&'static str>,
    /// `serverInfo.icons`.
    pub icons: &'static [IconDef],
    /// Whether the server refuses sessions.
    pub stateless: bool,
    /// Whether the server is declared with `oauth` (its reads may depend on the caller).
    pub protected: bool,
    /// The tools in declaration order.
    pub tools: Vec<ToolDef>,
    /// The resources with a fixed URI, in declaration order.
    pub resources: Vec<ResourceDef>,
    /// The resource templates, in declaration order.
    pub resource_templates: Vec<ResourceTemplateDef>,
    /// The prompts, in declaration order.
    pub prompts: Vec<PromptDef>,
    /// The completion methods, in declaration order.
    pub completions: Vec<CompletionDef>,
}

/// One tool as listed by `tools/list`.
#[doc(hidden)]
#[derive(Debug)]
pub struct ToolDef {
    /// The tool name.
    pub name: &'static str,
    /// A display title.
    pub title: Option<&'static str>,
    /// What the tool does (from the doc comment unless given).
    pub description: Option<String>,
    /// Its icons.
    pub icons: &'static [IconDef],
    /// The JSON Schema of the arguments (an object).
    pub input_schema: Value,
    /// The JSON Schema of `structuredContent`, when the tool returns structured output.
    pub output_schema: Option<Value>,
    /// Whether structured output is wrapped as `{"result": …}` (non-object roots).
    pub wraps_output: bool,
    /// Behaviour hints.
    pub annotations: ToolAnnotations,
    /// Scopes a caller needs for this tool, besides the server's required ones.
    pub scopes: &'static [&'static str],
    /// The arguments mirrored into `Mcp-Param-*` headers.
    pub headers: &'static [mirror::MirroredArg],
    /// Whether the tool runs as a task of the Tasks extension.
    pub task: tasks::TaskSupport,
}

/// One icon of the server, a tool, a resource or a prompt (2025-11-25 and 2026-07-28
/// `Icon`), checked by the macros: an `https:` or `data:` image.
#[doc(hidden)]
#[derive(Debug)]
pub struct IconDef {
    /// `src`: an `https:` URL or a `data:` URI.
    pub src: &'static str,
    /// `mimeType`.
    pub mime_type: Option<&'static str>,
    /// `sizes`: each `WxH` or `any`.
    pub sizes: &'static [&'static str],
    /// `theme`: `light` or `dark`.
    pub theme: Option<&'static str>,
}

impl IconDef {
    /// The icon as JSON.
    pub(crate) fn to_json(&self) -> Value {
        let mut icon = Map::new();
        icon.insert("src".into(), self.src.into());
        if let Some(mime_type) = self.mime_type {
            icon.insert("mimeType".into(), mime_type.into());
        }
        if !self.sizes.is_empty() {
            icon.insert("sizes".into(), self.sizes.into());
        }
        if let Some(theme) = self.theme {
            icon.insert("theme".into(), theme.into());
        }
        Value::Object(icon)
    }
}

/// The `icons` array, or `None` when there are none (the key is then left out).
pub(crate) fn icons_json(icons: &[IconDef]) -> Option<Value> {
    (!icons.is_empty()).then(|| icons.iter().map(IconDef::to_json).collect())
}

/// Behaviour hints for clients; untrusted by definition, so never a security boundary.
#[doc(hidden)]
#[derive(Debug, Default, Clone, Copy)]
pub struct ToolAnnotations {
    /// `readOnlyHint`.
    pub read_only: Option<bool>,
    /// `destructiveHint`.
    pub destructive: Option<bool>,
    /// `idempotentHint`.
    pub idempotent: Option<bool>,
    /// `openWorldHint`.
    pub open_world: Option<bool>,
}

impl ToolDef {
    /// The tool as a `tools/list` entry.
    pub(crate) fn to_json(&self) -> Value {
        let mut tool = Map::new();
        tool.insert("name".into(), self.name.into());
        if let Some(title) = self.title {
            tool.insert("title".into(), title.into());
        }
        if let Some(description) = &self.description {
            tool.insert("description".into(), description.as_str().into());
        }
        if let Some(icons) = icons_json(self.icons) {
            tool.insert("icons".into(), icons);
        }
        tool.insert("inputSchema".into(), self.input_schema.clone());
        if let Some(output) = &self.output_schema {
            tool.insert("outputSchema".into(), output.clone());
        }
        let a = &self.annotations;
        let mut hints = Map::new();
        for (key, value) in [
            ("readOnlyHint", a.read_only),
            ("destructiveHint", a.destructive),
            ("idempotentHint", a.idempotent),
            ("openWorldHint", a.open_world),
        ] {
            if let Some(v) = value {
                hints.insert(key.into(), v.into());
            }
        }
        if !hints.is_empty() {
            tool.insert("annotations".into(), Value::Object(hints));
        }
        Value::Object(tool)
    }
}
