//! JSON-RPC errors: the codes this runtime answers with, and the error object.

use std::fmt;

use serde_json::{Map, Value};

/// JSON-RPC and MCP error codes used by this runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// -32700: the body is not JSON.
    ParseError,
    /// -32600: JSON, but not a JSON-RPC request.
    InvalidRequest,
    /// -32601: no such method (or a capability the server did not declare).
    MethodNotFound,
    /// -32602: the params are wrong: unknown tool, bad arguments, missing `_meta`.
    InvalidParams,
    /// -32603: the server failed.
    InternalError,
    /// -32002: resource not found (2025-11-25 only).
    ResourceNotFound,
    /// -32020: an HTTP header disagrees with the body, or a required one is missing (2026-07-28).
    HeaderMismatch,
    /// -32021: the request needs a client capability the client did not declare (2026-07-28).
    MissingRequiredClientCapability,
    /// -32022: the requested protocol version is not supported (2026-07-28).
    UnsupportedProtocolVersion,
    /// -32800: the request was cancelled.
    RequestCancelled,
    /// -32001: the server is not ready for this request (for instance before `initialize`).
    ServerNotInitialized,
    /// The token lacks scopes; answered over HTTP as 403 `insufficient_scope` (code -32600).
    InsufficientScope,
}

impl ErrorCode {
    /// The numeric code.
    pub const fn code(self) -> i64 {
        match self {
            Self::ParseError => -32700,
            Self::InvalidRequest | Self::InsufficientScope => -32600,
            Self::MethodNotFound => -32601,
            Self::InvalidParams => -32602,
            Self::InternalError => -32603,
            Self::ResourceNotFound => -32002,
            Self::HeaderMismatch => -32020,
            Self::MissingRequiredClientCapability => -32021,
            Self::UnsupportedProtocolVersion => -32022,
            Self::RequestCancelled => -32800,
            Self::ServerNotInitialized => -32001,
        }
    }
}

/// A JSON-RPC error object: code, message and optional data.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The error code.
    pub code: ErrorCode,
    /// A short, client-safe description.
    pub message: String,
    /// Structured details (for instance the supported versions).
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with the given code and message.
    #[cold]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches structured `data`.
    #[must_use]
    #[cold]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// -32602 with the given message.
    #[cold]
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParams, message)
    }

    /// -32601 naming the method.
    #[cold]
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            ErrorCode::MethodNotFound,
            format!("method `{method}` not found"),
        )
    }

    /// The error object as JSON.
    pub fn to_value(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("code".into(), Value::from(self.code.code()));
        obj.insert("message".into(), Value::from(self.message.as_str()));
        if let Some(data) = &self.data {
            obj.insert("data".into(), data.clone());
        }
        Value::Object(obj)
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.code())
    }
}

impl std::error::Error for RpcError {}
