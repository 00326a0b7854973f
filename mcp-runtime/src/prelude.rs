//! Everything a server definition needs: `use mcp_runtime::prelude::*;`.

#[cfg(feature = "http")]
pub use crate::auth::{Auth, OAuthConfig};
pub use crate::protocol::{
    CallToolResult, Completion, Content, GetPromptResult, PromptMessage, ResourceContents, Role,
};
pub use crate::server::input::{Change, InputRequest, InputRequired, LogLevel};
pub use crate::server::schema::Args;
pub use crate::server::{
    Blob, CompletionContext, McpServer as _, PromptError, RequestContext, ResourceError, Session,
    ToolError,
};
#[cfg(feature = "http")]
pub use crate::transport::http::HttpConfig;
pub use mcp_macros::{completion, mcp_server, prompt, resource, tool};
