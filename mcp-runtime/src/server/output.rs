//! How a tool's return value becomes a `CallToolResult`.
//!
//! Content types pass through ([`IntoCallToolResult`]); any other `Serialize + JsonSchema`
//! type becomes `structuredContent` (see [`ToolOutput`](super::schema::ToolOutput)); an `Err`
//! becomes a result with `isError: true`, because a tool failure is something the model
//! should read, not a protocol error.

use std::fmt;

use crate::protocol::{CallToolResult, Content};

/// Return types written as content blocks rather than structured output.
pub trait IntoCallToolResult {
    /// The result.
    fn into_call_tool_result(self) -> CallToolResult;
}

impl IntoCallToolResult for CallToolResult {
    fn into_call_tool_result(self) -> CallToolResult {
        self
    }
}

impl IntoCallToolResult for String {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoCallToolResult for &str {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoCallToolResult for Content {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::new(vec![self])
    }
}

impl IntoCallToolResult for Vec<Content> {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::new(self)
    }
}

impl IntoCallToolResult for () {
    fn into_call_tool_result(self) -> CallToolResult {
        CallToolResult::new(Vec::new())
    }
}

/// A tool failure with a message for the model.
///
/// Any `std::error::Error` converts into it with `?`; the message is the error's `Display`.
/// What the message says reaches the client, so keep secrets out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    message: String,
}

impl ToolError {
    /// A failure with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for ToolError {
    fn from(error: E) -> Self {
        Self::new(error.to_string())
    }
}

/// The error type of a tool returning `Result<T, E>`: its `Display` is the message the model
/// reads.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "tool error `{Self}` cannot be shown to the model",
    label = "this error type needs `Display`",
    note = "implement `std::fmt::Display` for it (its message is what the model reads), or return `ToolError`"
)]
pub trait ToolErrorMessage {
    /// The result for `Err(self)`.
    fn error_result(&self) -> CallToolResult;
}

#[diagnostic::do_not_recommend]
impl<E: fmt::Display + ?Sized> ToolErrorMessage for E {
    fn error_result(&self) -> CallToolResult {
        CallToolResult::error(self.to_string())
    }
}

/// The result for a tool's `Err(e)`.
#[doc(hidden)]
pub fn error_result<E: fmt::Display>(error: &E) -> CallToolResult {
    CallToolResult::error(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_convert_with_their_message() {
        let e: ToolError = "x".parse::<u8>().unwrap_err().into();
        assert_eq!(e.message(), "invalid digit found in string");
        let r = error_result(&e);
        assert!(r.is_error);
        assert_eq!(
            r.content,
            vec![Content::text("invalid digit found in string")]
        );
    }
}
