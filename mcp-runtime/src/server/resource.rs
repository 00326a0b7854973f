//! Resources: what `#[resource]` declares, how a method's return value becomes
//! `resources/read` contents, and the RFC 6570 level 1 matcher for resource templates.
//!
//! 2025-11-25 and 2026-07-28 `server/resources`: `resources/list`, `resources/templates/list`,
//! `resources/read {uri}` → `{contents: [{uri, mimeType?, text | blob}]}`. A URI no resource
//! answers is -32602 with `data: {uri}` in 2026-07-28 (SEP-2164) and -32002 with the same
//! data in 2025-11-25.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use super::uri_template::UriTemplate;
use crate::protocol::ResourceContents;

/// A boxed future returned by the generated `resources/read` dispatch.
pub type ResourceFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<ResourceContents>, ResourceError>> + Send + 'a>>;

/// Bytes returned by a `#[resource]` method, sent base64-encoded as `blob`.
///
/// ```no_run
/// use mcp_runtime::prelude::*;
///
/// struct Assets;
///
/// #[mcp_server]
/// impl Assets {
///     /// The logo.
///     #[resource(uri = "assets://logo.png", mime_type = "image/png")]
///     fn logo(&self) -> Blob {
///         Blob(std::fs::read("logo.png").unwrap_or_default())
///     }
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Blob(pub Vec<u8>);

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for Blob {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

/// Why a resource could not be read.
///
/// A `#[resource]` method may return `Result<T, E>` where `E` converts into this type
/// (`From<E> for ResourceError`) or implements `Display`. [`ResourceError::NotFound`]
/// becomes the protocol's not-found error for the requested URI; anything else is logged and
/// answered -32603 with a generic message, so nothing internal reaches the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceError {
    /// No resource at this URI (for instance no row with this id).
    NotFound,
    /// The read failed; the message is logged, never sent.
    Internal(String),
}

impl ResourceError {
    /// An internal failure with `error`'s message (logged, never sent).
    pub fn internal(error: impl fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }
}

impl fmt::Display for ResourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("resource not found"),
            Self::Internal(message) => f.write_str(message),
        }
    }
}

impl super::errors::FromDisplay for ResourceError {
    fn from_display(message: String) -> Self {
        Self::Internal(message)
    }
}

/// What a `#[resource]` method may return: text, bytes or whole contents.
#[diagnostic::on_unimplemented(
    message = "resource contents cannot be made from `{Self}`",
    label = "a resource returns text, bytes or `ResourceContents`",
    note = "return `String`, `Blob`, `ResourceContents` or `Vec<ResourceContents>`, or a `Result` of one"
)]
pub trait IntoResourceContents {
    /// The contents of a read of `uri`; `mime_type` is the declared one, used where the
    /// value sets none.
    fn into_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceContents>;
}

impl IntoResourceContents for String {
    fn into_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceContents> {
        ResourceContents::text(uri, self).into_contents(uri, mime_type)
    }
}

impl IntoResourceContents for &str {
    fn into_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceContents> {
        self.to_owned().into_contents(uri, mime_type)
    }
}

impl IntoResourceContents for Blob {
    fn into_contents(self, uri: &str, mime_type: Option<&str>) -> Vec<ResourceContents> {
        ResourceContents::blob(uri, self.0).into_contents(uri, mime_type)
    }
}

impl IntoResourceContents for ResourceContents {
    fn into_contents(mut self, _uri: &str, mime_type: Option<&str>) -> Vec<ResourceContents> {
        self.default_mime_type(mime_type);
        vec![self]
    }
}

impl IntoResourceContents for Vec<ResourceContents> {
    fn into_contents(mut self, _uri: &str, mime_type: Option<&str>) -> Vec<ResourceContents> {
        for contents in &mut self {
            contents.default_mime_type(mime_type);
        }
        self
    }
}

/// One resource with a fixed URI, as listed by `resources/list`.
#[doc(hidden)]
#[derive(Debug)]
pub struct ResourceDef {
    /// The URI.
    pub uri: &'static str,
    /// The name (default: the method name).
    pub name: &'static str,
    /// A display title.
    pub title: Option<&'static str>,
    /// What it holds (from the doc comment unless given).
    pub description: Option<String>,
    /// Its media type.
    pub mime_type: Option<&'static str>,
    /// Its icons.
    pub icons: &'static [super::IconDef],
    /// Scopes a caller needs to read it, besides the server's required ones.
    pub scopes: &'static [&'static str],
}

impl ResourceDef {
    /// The `resources/list` entry.
    pub(crate) fn to_json(&self) -> Value {
        entry(
            ("uri", self.uri),
            self.name,
            self.title,
            self.description.as_deref(),
            self.mime_type,
            self.icons,
        )
    }
}

/// One resource template, as listed by `resources/templates/list`.
#[doc(hidden)]
#[derive(Debug)]
pub struct ResourceTemplateDef {
    /// The RFC 6570 template.
    pub uri_template: &'static str,
    /// The name (default: the method name).
    pub name: &'static str,
    /// A display title.
    pub title: Option<&'static str>,
    /// What it holds (from the doc comment unless given).
    pub description: Option<String>,
    /// The media type of every resource it names.
    pub mime_type: Option<&'static str>,
    /// Its icons.
    pub icons: &'static [super::IconDef],
    /// Scopes a caller needs to read from it, besides the server's required ones.
    pub scopes: &'static [&'static str],
    /// The template, ready to match URIs.
    pub matcher: UriTemplate,
}

impl ResourceTemplateDef {
    /// The `resources/templates/list` entry.
    pub(crate) fn to_json(&self) -> Value {
        entry(
            ("uriTemplate", self.uri_template),
            self.name,
            self.title,
            self.description.as_deref(),
            self.mime_type,
            self.icons,
        )
    }
}

fn entry(
    (key, uri): (&str, &str),
    name: &str,
    title: Option<&str>,
    description: Option<&str>,
    mime_type: Option<&str>,
    icons: &[super::IconDef],
) -> Value {
    let mut obj = Map::new();
    obj.insert(key.into(), uri.into());
    obj.insert("name".into(), name.into());
    for (key, value) in [
        ("title", title),
        ("description", description),
        ("mimeType", mime_type),
    ] {
        if let Some(v) = value {
            obj.insert(key.into(), v.into());
        }
    }
    if let Some(icons) = super::icons_json(icons) {
        obj.insert("icons".into(), icons);
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_take_the_declared_mime_type_unless_set() {
        let c = "hi".into_contents("a://b", Some("text/plain"));
        assert_eq!(
            c,
            vec![ResourceContents::text("a://b", "hi").with_mime_type("text/plain")]
        );
        let c = Blob(vec![1, 2, 3]).into_contents("a://b", None);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!([{"uri": "a://b", "blob": "AQID"}])
        );
        let c = ResourceContents::text("a://c", "x")
            .with_mime_type("text/markdown")
            .into_contents("a://b", Some("text/plain"));
        assert_eq!(c[0].mime_type(), Some("text/markdown"));
    }
}
