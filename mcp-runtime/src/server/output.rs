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
/// A tool returning `Result<T, E>` reports `Err(e)` as a result with `isError: true` whose
/// text is `e`'s message, so that the model can read what went wrong. `E` may be:
///
/// - `ToolError`, made with [`ToolError::new`] or with `?` from any `std::error::Error`: the
///   message is the error's, followed by those of its [`source`](std::error::Error::source)s
///   that it does not already contain (`reading notes.txt: permission denied`);
/// - `anyhow::Error` (or any type whose alternate `Display`, `{:#}`, prints a chain): each
///   `.context(..)` and the root cause, `outer: inner: root`;
/// - `String`, `&str` or any other `Display` type: its `Display`.
///
/// What the message says reaches the client, so keep secrets out of it.
///
/// ```
/// use mcp_runtime::ToolError;
///
/// let parsed: Result<u8, ToolError> = "300".parse::<u8>().map_err(ToolError::from);
/// assert_eq!(
///     parsed.unwrap_err().message(),
///     "number too large to fit in target type"
/// );
/// ```
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
        Self::new(with_sources(&error))
    }
}

/// An error's message followed by those of its sources that it does not already contain.
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
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
        // The alternate form: anyhow's (and eyre's) whole chain of contexts.
        CallToolResult::error(format!("{self:#}"))
    }
}

/// The result for a tool's `Err(e)`.
#[doc(hidden)]
pub fn error_result<E: fmt::Display>(error: &E) -> CallToolResult {
    CallToolResult::error(format!("{error:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("reading notes.txt")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[derive(Debug)]
    struct Quoting(std::io::Error);

    impl fmt::Display for Quoting {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "reading notes.txt: {}", self.0)
        }
    }

    impl std::error::Error for Quoting {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_keeps_its_causes_in_the_message() {
        let denied = || std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e: ToolError = Outer(denied()).into();
        assert_eq!(e.message(), "reading notes.txt: denied");
        // A cause the message already quotes is not repeated.
        let e: ToolError = Quoting(denied()).into();
        assert_eq!(e.message(), "reading notes.txt: denied");

        let chained = anyhow::Error::new(denied())
            .context("opening the store")
            .context("listing notes");
        let r = chained.error_result();
        assert!(r.is_error);
        assert_eq!(
            r.content,
            vec![Content::text("listing notes: opening the store: denied")]
        );
        assert_eq!(
            error_result(&chained).content,
            vec![Content::text("listing notes: opening the store: denied")]
        );
        assert_eq!("plain".error_result().content, vec![Content::text("plain")]);
    }

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
