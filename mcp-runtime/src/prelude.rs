//! Everything a server definition needs: `use mcp_runtime::prelude::*;`.

#[cfg(feature = "http")]
pub use crate::auth::{Auth, OAuthConfig};
pub use crate::protocol::{CallToolResult, Content};
pub use crate::server::schema::Args;
pub use crate::server::{McpServer as _, RequestContext, ToolError};
#[cfg(feature = "http")]
pub use crate::transport::http::HttpConfig;
pub use mcp_macros::{mcp_server, tool};
