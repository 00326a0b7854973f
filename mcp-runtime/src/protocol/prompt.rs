//! Prompt results (MCP `GetPromptResult`, `PromptMessage`, `Role`).

use serde::{Deserialize, Serialize};

use super::Content;

/// Who says a message of a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user.
    User,
    /// The assistant (the model).
    Assistant,
}

/// One message of a prompt: a role and one content block.
///
/// ```
/// use mcp_runtime::prelude::*;
///
/// let question = PromptMessage::user("What is in this picture?");
/// let picture = PromptMessage::user(Content::image([0x89, b'P', b'N', b'G'], "image/png"));
/// let answer = PromptMessage::assistant("A cat.");
/// # let _ = (question, picture, answer);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptMessage {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: Content,
}

impl PromptMessage {
    /// A message with the given role.
    pub fn new(role: Role, content: impl Into<Content>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }

    /// A message from the user: text (`&str`, `String`) or any [`Content`].
    pub fn user(content: impl Into<Content>) -> Self {
        Self::new(Role::User, content)
    }

    /// A message from the assistant: text (`&str`, `String`) or any [`Content`].
    pub fn assistant(content: impl Into<Content>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

/// The result of `prompts/get`: the messages and, optionally, a description.
///
/// When a prompt returns one without a description, the prompt's own description is used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetPromptResult {
    /// What this instance of the prompt is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The messages, in order.
    pub messages: Vec<PromptMessage>,
}

impl GetPromptResult {
    /// A result with the given messages.
    pub fn new(messages: Vec<PromptMessage>) -> Self {
        Self {
            description: None,
            messages,
        }
    }

    /// The same result with a description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

impl From<PromptMessage> for GetPromptResult {
    fn from(message: PromptMessage) -> Self {
        Self::new(vec![message])
    }
}

impl From<Vec<PromptMessage>> for GetPromptResult {
    fn from(messages: Vec<PromptMessage>) -> Self {
        Self::new(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_have_the_wire_shape() {
        let result = GetPromptResult::new(vec![
            PromptMessage::user("hi"),
            PromptMessage::assistant(Content::text("hello")),
        ]);
        assert_eq!(
            serde_json::to_value(&result).unwrap(),
            json!({"messages": [
                {"role": "user", "content": {"type": "text", "text": "hi"}},
                {"role": "assistant", "content": {"type": "text", "text": "hello"}},
            ]})
        );
        assert_eq!(
            serde_json::to_value(result.with_description("d")).unwrap()["description"],
            "d"
        );
    }
}
