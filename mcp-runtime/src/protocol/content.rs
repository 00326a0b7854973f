//! Tool results, their content blocks and resource contents (MCP `CallToolResult`,
//! `ContentBlock`, `TextResourceContents | BlobResourceContents`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Hints for the client about a content block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Who the content is for: `"user"`, `"assistant"` or both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// Importance from 0 (optional) to 1 (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    /// ISO 8601 time of the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// The text form of an embedded resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextResource {
    /// The resource's URI.
    pub uri: String,
    /// The media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The text.
    pub text: String,
}

/// The binary form of an embedded resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobResource {
    /// The resource's URI.
    pub uri: String,
    /// The media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The bytes, base64-encoded.
    pub blob: String,
}

/// The contents of a resource: text or base64 bytes, with the resource's URI and media type.
///
/// What `resources/read` returns (`TextResourceContents | BlobResourceContents`), and what a
/// [`Content::Resource`] block embeds.
///
/// ```
/// use mcp_runtime::protocol::ResourceContents;
///
/// let readme = ResourceContents::text("file:///README.md", "# Notes").with_mime_type("text/markdown");
/// assert_eq!(readme.uri(), "file:///README.md");
/// assert_eq!(readme.mime_type(), Some("text/markdown"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResourceContents {
    /// Text contents.
    Text(TextResource),
    /// Binary contents.
    Blob(BlobResource),
}

/// The contents of an embedded resource: the same type as [`ResourceContents`].
pub type EmbeddedResource = ResourceContents;

impl ResourceContents {
    /// Text contents of the resource at `uri`, without a media type.
    pub fn text(uri: impl Into<String>, text: impl Into<String>) -> Self {
        Self::Text(TextResource {
            uri: uri.into(),
            mime_type: None,
            text: text.into(),
        })
    }

    /// Binary contents of the resource at `uri` from raw bytes (base64 on the wire), without
    /// a media type.
    pub fn blob(uri: impl Into<String>, bytes: impl AsRef<[u8]>) -> Self {
        Self::Blob(BlobResource {
            uri: uri.into(),
            mime_type: None,
            blob: b64(bytes.as_ref()),
        })
    }

    /// The same contents with the given media type.
    #[must_use]
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        let slot = match &mut self {
            Self::Text(t) => &mut t.mime_type,
            Self::Blob(b) => &mut b.mime_type,
        };
        *slot = Some(mime_type.into());
        self
    }

    /// The resource's URI.
    pub fn uri(&self) -> &str {
        match self {
            Self::Text(t) => &t.uri,
            Self::Blob(b) => &b.uri,
        }
    }

    /// The media type, if set.
    pub fn mime_type(&self) -> Option<&str> {
        match self {
            Self::Text(t) => t.mime_type.as_deref(),
            Self::Blob(b) => b.mime_type.as_deref(),
        }
    }

    /// Sets the media type when none is set.
    pub(crate) fn default_mime_type(&mut self, mime_type: Option<&str>) {
        let slot = match self {
            Self::Text(t) => &mut t.mime_type,
            Self::Blob(b) => &mut b.mime_type,
        };
        if slot.is_none() {
            *slot = mime_type.map(str::to_owned);
        }
    }
}

/// A link to a resource the client may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLink {
    /// The resource's URI.
    pub uri: String,
    /// Its name.
    pub name: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// One content block of a tool result or prompt message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// Plain text.
    Text {
        /// The text.
        text: String,
        /// Client hints.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        annotations: Option<Annotations>,
    },
    /// An image, base64-encoded.
    Image {
        /// The bytes, base64-encoded.
        data: String,
        /// The media type, such as `image/png`.
        #[serde(rename = "mimeType")]
        mime_type: String,
        /// Client hints.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        annotations: Option<Annotations>,
    },
    /// Audio, base64-encoded.
    Audio {
        /// The bytes, base64-encoded.
        data: String,
        /// The media type, such as `audio/wav`.
        #[serde(rename = "mimeType")]
        mime_type: String,
        /// Client hints.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        annotations: Option<Annotations>,
    },
    /// A resource embedded in the result.
    Resource {
        /// The contents.
        resource: ResourceContents,
        /// Client hints.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        annotations: Option<Annotations>,
    },
    /// A link to a resource.
    ResourceLink(ResourceLink),
}

impl Content {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text {
            text: text.into(),
            annotations: None,
        }
    }

    /// An image block from raw bytes.
    pub fn image(bytes: impl AsRef<[u8]>, mime_type: impl Into<String>) -> Self {
        Self::Image {
            data: b64(bytes.as_ref()),
            mime_type: mime_type.into(),
            annotations: None,
        }
    }

    /// An audio block from raw bytes.
    pub fn audio(bytes: impl AsRef<[u8]>, mime_type: impl Into<String>) -> Self {
        Self::Audio {
            data: b64(bytes.as_ref()),
            mime_type: mime_type.into(),
            annotations: None,
        }
    }

    /// An embedded text resource.
    pub fn resource_text(
        uri: impl Into<String>,
        mime_type: Option<&str>,
        text: impl Into<String>,
    ) -> Self {
        Self::Resource {
            resource: ResourceContents::Text(TextResource {
                uri: uri.into(),
                mime_type: mime_type.map(str::to_owned),
                text: text.into(),
            }),
            annotations: None,
        }
    }

    /// An embedded binary resource from raw bytes.
    pub fn resource_blob(
        uri: impl Into<String>,
        mime_type: Option<&str>,
        bytes: impl AsRef<[u8]>,
    ) -> Self {
        Self::Resource {
            resource: ResourceContents::Blob(BlobResource {
                uri: uri.into(),
                mime_type: mime_type.map(str::to_owned),
                blob: b64(bytes.as_ref()),
            }),
            annotations: None,
        }
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<ResourceContents> for Content {
    fn from(resource: ResourceContents) -> Self {
        Self::Resource {
            resource,
            annotations: None,
        }
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The result of `tools/call`.
///
/// A tool failure is a result with `is_error` set, not a protocol error, so the model can
/// read what went wrong.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// The content blocks.
    pub content: Vec<Content>,
    /// The structured output, matching the tool's `outputSchema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

impl CallToolResult {
    /// A successful result with the given content.
    pub fn new(content: Vec<Content>) -> Self {
        Self {
            content,
            structured_content: None,
            is_error: false,
        }
    }

    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(vec![Content::text(text)])
    }

    /// A failed result whose text says what went wrong.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            content: vec![Content::text(message)],
            structured_content: None,
            is_error: true,
        }
    }

    /// A successful result carrying `structured` plus its JSON text as a content block.
    pub fn structured(structured: Value) -> Self {
        // Serializing a `Value` cannot fail.
        let text = serde_json::to_string(&structured).unwrap_or_default();
        Self {
            content: vec![Content::text(text)],
            structured_content: Some(structured),
            is_error: false,
        }
    }
}

impl From<Content> for CallToolResult {
    fn from(content: Content) -> Self {
        Self::new(vec![content])
    }
}

impl From<Vec<Content>> for CallToolResult {
    fn from(content: Vec<Content>) -> Self {
        Self::new(content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_blocks_have_the_wire_shape() {
        assert_eq!(
            serde_json::to_value(Content::text("hi")).unwrap(),
            json!({"type":"text","text":"hi"})
        );
        assert_eq!(
            serde_json::to_value(Content::image([1u8, 2, 3], "image/png")).unwrap(),
            json!({"type":"image","data":"AQID","mimeType":"image/png"})
        );
        assert_eq!(
            serde_json::to_value(Content::resource_text("file:///a", Some("text/plain"), "x"))
                .unwrap(),
            json!({"type":"resource","resource":{"uri":"file:///a","mimeType":"text/plain","text":"x"}})
        );
        let link = Content::ResourceLink(ResourceLink {
            uri: "file:///b".into(),
            name: "b".into(),
            description: None,
            mime_type: None,
        });
        assert_eq!(
            serde_json::to_value(link).unwrap(),
            json!({"type":"resource_link","uri":"file:///b","name":"b"})
        );
    }

    #[test]
    fn results_carry_is_error_only_when_set() {
        assert_eq!(
            serde_json::to_value(CallToolResult::text("ok")).unwrap(),
            json!({"content":[{"type":"text","text":"ok"}]})
        );
        assert_eq!(
            serde_json::to_value(CallToolResult::error("no")).unwrap(),
            json!({"content":[{"type":"text","text":"no"}],"isError":true})
        );
        assert_eq!(
            serde_json::to_value(CallToolResult::structured(json!({"n":1}))).unwrap(),
            json!({"content":[{"type":"text","text":"{\"n\":1}"}],"structuredContent":{"n":1}})
        );
    }
}
