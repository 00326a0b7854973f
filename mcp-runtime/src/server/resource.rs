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

/// A piece of a URI template as `#[resource(uri_template = "…")]` splits it at compile time.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text that must appear as is.
    Literal(&'static str),
    /// `{name}`: one or more characters other than `/`, percent-decoded.
    Variable(&'static str),
}

/// An RFC 6570 level 1 template (`{var}` simple expansion only) that matches URIs.
///
/// A variable matches `[^/]+` (greedily, like a regular expression), and its value is
/// percent-decoded. Matching is linear in the URI's length for any template.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct UriTemplate {
    /// The template split at each `/`: a variable never spans one, so the URI must have the
    /// same number of `/` and each segment matches on its own.
    segments: Vec<Vec<Piece>>,
    variables: usize,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(String),
    /// The variable's index in template order.
    Variable(usize),
}

impl UriTemplate {
    /// The template made of `parts`.
    pub fn new(parts: &[TemplatePart]) -> Self {
        let mut segments = vec![Vec::new()];
        let mut variables = 0;
        for part in parts {
            match part {
                TemplatePart::Literal(text) => {
                    for (i, piece) in text.split('/').enumerate() {
                        if i > 0 {
                            segments.push(Vec::new());
                        }
                        if !piece.is_empty()
                            && let Some(segment) = segments.last_mut()
                        {
                            segment.push(Piece::Literal(piece.to_owned()));
                        }
                    }
                }
                TemplatePart::Variable(_) => {
                    if let Some(segment) = segments.last_mut() {
                        segment.push(Piece::Variable(variables));
                    }
                    variables += 1;
                }
            }
        }
        Self {
            segments,
            variables,
        }
    }

    /// The variables' values (percent-decoded, in template order) if `uri` matches.
    pub fn captures(&self, uri: &str) -> Option<Vec<String>> {
        let mut values = vec![String::new(); self.variables];
        let mut parts = uri.split('/');
        for segment in &self.segments {
            let text = parts.next()?;
            match_segment(segment, text.as_bytes(), &mut values)?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(values)
    }

    /// Whether `uri` matches.
    pub fn matches(&self, uri: &str) -> bool {
        self.captures(uri).is_some()
    }
}

/// Matches one `/`-free segment; `ok[i][p]` says whether pieces `i..` match `text[p..]`.
fn match_segment(pieces: &[Piece], text: &[u8], values: &mut [String]) -> Option<()> {
    let n = text.len();
    let k = pieces.len();
    let mut ok = vec![vec![false; n + 1]; k + 1];
    ok[k][n] = true;
    for i in (0..k).rev() {
        let (done, rest) = ok.split_at_mut(i + 1);
        let (row, next) = (&mut done[i], &rest[0]);
        match &pieces[i] {
            Piece::Literal(lit) => {
                let lit = lit.as_bytes();
                for p in 0..=n {
                    row[p] = text[p..].starts_with(lit) && next[p + lit.len()];
                }
            }
            Piece::Variable(_) => {
                // Some q > p with next[q]: a suffix "any" from the right.
                let mut any_after = false;
                for p in (0..=n).rev() {
                    row[p] = any_after;
                    any_after |= next[p];
                }
            }
        }
    }
    if !ok[0][0] {
        return None;
    }
    let mut p = 0;
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Literal(lit) => p += lit.len(),
            Piece::Variable(index) => {
                // Greedy: the longest value that still lets the rest match.
                let q = (p + 1..=n).rev().find(|&q| ok[i + 1][q])?;
                values[*index] = percent_decode(&text[p..q])?;
                p = q;
            }
        }
    }
    Some(())
}

/// `%XX` escapes decoded; a `%` not followed by two hex digits stays as is. `None` when the
/// result is not UTF-8.
fn percent_decode(raw: &[u8]) -> Option<String> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && let (Some(h), Some(l)) = (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::TemplatePart::{Literal, Variable};
    use super::*;

    fn template(parts: &[TemplatePart]) -> UriTemplate {
        UriTemplate::new(parts)
    }

    #[test]
    fn variables_match_one_segment_and_are_decoded() {
        let t = template(&[
            Literal("test://template/"),
            Variable("id"),
            Literal("/data"),
        ]);
        assert_eq!(
            t.captures("test://template/123/data"),
            Some(vec!["123".into()])
        );
        assert_eq!(
            t.captures("test://template/a%20b%2Fc/data"),
            Some(vec!["a b/c".into()])
        );
        assert_eq!(t.captures("test://template//data"), None);
        assert_eq!(t.captures("test://template/1/2/data"), None);
        assert_eq!(t.captures("test://template/1/data/"), None);
        assert_eq!(t.captures("test://other/1/data"), None);
        assert_eq!(t.captures("test://template/%FF/data"), None);
        assert_eq!(
            t.captures("test://template/100%/data"),
            Some(vec!["100%".into()])
        );
    }

    #[test]
    fn several_variables_in_one_segment_match_greedily() {
        let t = template(&[
            Literal("file:///"),
            Variable("name"),
            Literal("."),
            Variable("ext"),
        ]);
        assert_eq!(
            t.captures("file:///archive.tar.gz"),
            Some(vec!["archive.tar".into(), "gz".into()])
        );
        assert_eq!(t.captures("file:///archive"), None);
        assert_eq!(t.captures("file:///.gz"), None);
        let t = template(&[Literal("x://"), Variable("a"), Literal(".json")]);
        assert_eq!(t.captures("x://a.json.json"), Some(vec!["a.json".into()]));
    }

    #[test]
    fn matching_is_linear_on_hostile_input() {
        let t = template(&[
            Literal("x://"),
            Variable("a"),
            Literal("x"),
            Variable("b"),
            Literal("x"),
            Variable("c"),
            Literal("y"),
        ]);
        let uri = format!("x://{}", "x".repeat(200_000));
        let start = std::time::Instant::now();
        assert_eq!(t.captures(&uri), None);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

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
