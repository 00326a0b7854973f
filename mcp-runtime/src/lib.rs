#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The crate's own tests declare servers with the macros, whose code names `::mcp_runtime`.
#[cfg(test)]
extern crate self as mcp_runtime;

pub mod auth;
mod connection;
#[cfg(feature = "http")]
pub mod contract;
#[cfg(feature = "dev-auth")]
pub mod dev_auth;
pub mod headers;
pub mod protocol;
#[cfg(feature = "redis")]
pub mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

mod error;
mod server;

pub use auth::Auth;
pub use error::ServeError;
pub use mcp_macros::{completion, mcp_server, prompt, resource, tool};
pub use server::input;
pub use server::schema::{Args, ToolInput, ToolOutput};
pub use server::{
    Blob, CompletionContext, IntoCallToolResult, IntoCompletion, IntoGetPromptResult,
    IntoResourceContents, McpServer, PromptError, Protected, RequestContext, ResourceError,
    Session, ToolError, Unprotected,
};
pub use transport::Serve;
#[cfg(feature = "http")]
pub use transport::http::oauth;
#[cfg(feature = "http")]
pub use transport::http::{HttpConfig, OAuthConfig, ServeConfig, Stats};

/// Everything a server definition needs: `use mcp_runtime::prelude::*;`.
///
/// The attribute macros, [`Auth`] and [`LocalCaller`](crate::auth::LocalCaller),
/// [`RequestContext`], [`ToolError`] and the other error types, the content types a tool,
/// resource or prompt returns, [`HttpConfig`] and [`OAuthConfig`], and the
/// [`Serve`] methods (`serve_http`, `router`, `serve_stdio`, `contract`):
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// struct Clock;
///
/// #[mcp_server]
/// impl Clock {
///     /// The time in a city, or a tool error the model can read.
///     #[tool(read_only)]
///     fn time_in(&self, city: String) -> Result<String, ToolError> {
///         match city.as_str() {
///             "Paris" => Ok("12:00".into()),
///             other => Err(ToolError::new(format!("no clock in {other}"))),
///         }
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), mcp_runtime::ServeError> {
///     Clock.serve_http("127.0.0.1:3000", HttpConfig::new()).await
/// }
/// ```
pub mod prelude {
    pub use crate::auth::{Auth, LocalCaller};
    pub use crate::protocol::{
        CallToolResult, Completion, Content, GetPromptResult, PromptMessage, ResourceContents, Role,
    };
    pub use crate::server::input::{Change, InputRequest, InputRequired, LogLevel};
    pub use crate::server::schema::Args;
    pub use crate::server::{
        Blob, CompletionContext, McpServer as _, PromptError, RequestContext, ResourceError,
        Session, ToolError,
    };
    pub use crate::transport::Serve as _;
    #[cfg(feature = "http")]
    pub use crate::transport::http::{HttpConfig, OAuthConfig};
    pub use mcp_macros::{completion, mcp_server, prompt, resource, tool};
}

/// Used by code that `#[mcp_server]` generates. Not public API: no semver guarantees.
#[doc(hidden)]
pub mod __private {
    pub use ::schemars;
    pub use ::serde;
    pub use ::serde_json;
    pub use ::std;

    pub use crate::protocol::{CallToolResult, RpcError};
    pub use crate::protocol::{Completion, GetPromptResult, ResourceContents};
    pub use crate::server::completion::completion_error;
    pub use crate::server::errors::{
        DisplayTag, ErrProbe, ErrorMessage, IntoTag, ProbeDisplay, ProbeInto,
    };
    pub use crate::server::mirror::{HeaderArg, MirroredArg};
    pub use crate::server::output::{ToolErrorMessage, error_result};
    pub use crate::server::prompt::{PromptArgument, prompt_error, unknown_prompt};
    pub use crate::server::schema::{
        Args, ParamSpec, ToolInput, ToolOutput, args_schema, output_schema, params_schema,
    };
    pub use crate::server::tasks::TaskSupport;
    pub use crate::server::uri_template::{TemplatePart, UriTemplate};
    pub use crate::server::{
        Blob, CompletionContext, CompletionDef, CompletionFuture, CompletionTarget, IconDef,
        IntoCallToolResult, IntoCompletion, IntoGetPromptResult, IntoResourceContents, McpServer,
        PromptArgumentDef, PromptArguments, PromptDef, PromptError, PromptFuture, RequestContext,
        ResourceDef, ResourceError, ResourceFuture, ResourceTemplateDef, ServerDescriptor,
        ToolAnnotations, ToolDef, ToolFuture, Unprotected,
    };

    pub use crate::auth::{Auth, AuthClaims};
    pub use crate::server::Protected;
    pub use crate::server::inject::{
        Argument, DeclaresOAuth, FromArguments, FromCaller, KeepsSessions, Provided, ReadParam,
        ScopeArg, ToolParam, input_schema, scope_arg,
    };

    /// Boxes a tool future.
    pub fn boxed<'a, F>(future: F) -> ToolFuture<'a>
    where
        F: std::future::Future<Output = Result<CallToolResult, RpcError>> + Send + 'a,
    {
        Box::pin(future)
    }

    /// Runs the method of a `#[tool(blocking)]` where it may block: on a multi-threaded
    /// runtime the worker hands its other tasks to another thread first
    /// (`tokio::task::block_in_place`); elsewhere it runs inline.
    pub fn run_blocking<R>(f: impl FnOnce() -> R) -> R {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime)
                if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread =>
            {
                tokio::task::block_in_place(f)
            }
            _ => f(),
        }
    }

    /// Boxes the future of one async tool, requiring it to be `Send` where the tool is
    /// declared rather than at `#[mcp_server]`.
    pub fn send_tool<'a, F>(
        future: F,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = F::Output> + Send + 'a>>
    where
        F: std::future::Future + Send + 'a,
    {
        Box::pin(future)
    }

    /// Boxes a resource future.
    pub fn boxed_resource<'a, F>(future: F) -> ResourceFuture<'a>
    where
        F: std::future::Future<Output = Result<Vec<ResourceContents>, ResourceError>> + Send + 'a,
    {
        Box::pin(future)
    }

    /// Boxes a prompt future.
    pub fn boxed_prompt<'a, F>(future: F) -> PromptFuture<'a>
    where
        F: std::future::Future<Output = Result<GetPromptResult, RpcError>> + Send + 'a,
    {
        Box::pin(future)
    }

    /// Boxes a completion future.
    pub fn boxed_completion<'a, F>(future: F) -> CompletionFuture<'a>
    where
        F: std::future::Future<Output = Result<Completion, RpcError>> + Send + 'a,
    {
        Box::pin(future)
    }

    /// -32602 for a tool name the server does not have.
    pub fn unknown_tool(name: &str) -> RpcError {
        RpcError::invalid_params(format!("unknown tool `{name}`"))
    }
}
