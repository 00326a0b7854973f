//! JSON-RPC 2.0 framing and the MCP protocol versions this runtime speaks; serde only, no I/O.
//!
//! MCP 2025-06-18 removed JSON-RPC batches, and 2026-07-28 forbids a `null` request id, so a
//! message here is always one object with a string or integer id (or none, for notifications).

mod completion;
mod content;
mod message;
mod prompt;
mod rpc_error;
pub(crate) mod wire;

pub use completion::{Completion, MAX_COMPLETION_VALUES};
pub use content::{
    Annotations, BlobResource, CallToolResult, Content, EmbeddedResource, ResourceContents,
    ResourceLink, TextResource,
};
pub use message::{ErrorCode, Message, RequestId, RpcError};
pub use prompt::{GetPromptResult, PromptMessage, Role};
pub(crate) use wire::{error_json, notification_json, response_json, response_raw};

/// The newest revision: stateless, metadata on every request.
pub const MODERN_VERSION: &str = "2026-07-28";

/// The newest revision that uses the `initialize` handshake and sessions.
pub const LATEST_LEGACY_VERSION: &str = "2025-11-25";

/// Revisions answered through the `initialize` handshake, newest first.
pub const LEGACY_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// Revisions answered statelessly, with `_meta` on every request.
pub const MODERN_VERSIONS: &[&str] = &[MODERN_VERSION];

/// Prefix of the reserved `_meta` keys of 2026-07-28.
pub const META_PREFIX: &str = "io.modelcontextprotocol/";

/// `_meta` key holding the request's protocol version (2026-07-28).
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key holding the client's capabilities (2026-07-28).
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key holding the client's name and version (2026-07-28).
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key holding the server's name and version on results (2026-07-28).
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// Returns the supported legacy revision equal to `requested`, if any.
pub fn legacy_version(requested: &str) -> Option<&'static str> {
    LEGACY_VERSIONS.iter().copied().find(|v| *v == requested)
}

/// Returns the supported modern revision equal to `requested`, if any.
pub fn modern_version(requested: &str) -> Option<&'static str> {
    MODERN_VERSIONS.iter().copied().find(|v| *v == requested)
}
