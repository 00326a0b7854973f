//! A server's contract: everything it exposes to clients, as stable, sorted JSON, printed
//! without serving it and checked in so that a change shows up in review.
//!
//! The contract holds the server's identity, every tool (its `tools/list` entry: schemas,
//! annotations, icons; and `task` when it runs as a task), resource, resource template, prompt and completion, and, for a
//! server declared with `oauth`, the scopes each operation needs and the protected resource
//! metadata its configuration would serve. Lists are sorted by name or URI and object keys
//! alphabetically, so the text changes only when what clients see changes.
//!
//! ```
//! use mcp_runtime::prelude::*;
//!
//! struct Calc;
//!
//! #[mcp_server]
//! impl Calc {
//!     /// Adds two numbers.
//!     #[tool]
//!     async fn add(&self, a: i64, b: i64) -> i64 {
//!         a + b
//!     }
//! }
//!
//! let contract = Calc::contract(&HttpConfig::new());
//! assert_eq!(contract.as_json()["tools"][0]["name"], "add");
//! // In a test: `contract.assert_unchanged("contract.json")`, with the file checked in.
//! ```
//!
//! A server declared with `oauth` takes its [`OAuthConfig`], or the
//! [`OAuthConfigBuilder`] before `build()`, which reaches no authorization server: a CI job
//! can print the contract without network access. From the builder, the resource is
//! written as `build()` would serve it, and the issuers as given (`build()` then serves each
//! as its metadata spells it, which differs only where a provider writes its issuer
//! differently, such as Auth0's trailing `/`).

use std::fmt::{self, Write as _};
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::server::tasks::TaskSupport;
use crate::server::{McpServer, Protected, Unprotected};
use crate::transport::http::oauth::{OAuthConfigBuilder, protected_resource_metadata};
use crate::{HttpConfig, OAuthConfig};

/// The environment variable that makes [`Contract::assert_unchanged`] write the file
/// instead of comparing with it.
pub const UPDATE_VAR: &str = "MCP_UPDATE_SNAPSHOTS";

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::HttpConfig {}
    impl Sealed for crate::OAuthConfig {}
    impl Sealed for crate::oauth::OAuthConfigBuilder {}
}

/// A configuration a server's contract can be taken from: [`HttpConfig`] for a server
/// declared without `oauth`; [`OAuthConfig`] or [`OAuthConfigBuilder`] for one declared with
/// it.
pub trait ContractConfig<S>: sealed::Sealed {
    /// The scopes and protected resource metadata of an OAuth configuration.
    #[doc(hidden)]
    fn oauth(&self) -> Option<OAuthPart>;
}

/// What an OAuth configuration adds to a contract.
#[doc(hidden)]
#[derive(Debug)]
pub struct OAuthPart {
    required: &'static [&'static str],
    scopes: &'static [&'static str],
    metadata: Value,
}

impl<S: Unprotected> ContractConfig<S> for HttpConfig {
    fn oauth(&self) -> Option<OAuthPart> {
        None
    }
}

impl<S: Protected> ContractConfig<S> for OAuthConfig {
    fn oauth(&self) -> Option<OAuthPart> {
        let inner = &self.inner;
        Some(OAuthPart {
            required: S::REQUIRED_SCOPES,
            scopes: S::SCOPES,
            metadata: protected_resource_metadata(
                &inner.resource,
                &inner.issuers,
                inner.resource_name.as_deref(),
                inner.documentation.as_deref(),
                S::SCOPES,
            ),
        })
    }
}

impl<S: Protected> ContractConfig<S> for OAuthConfigBuilder {
    fn oauth(&self) -> Option<OAuthPart> {
        let (resource, issuers, name, documentation) = self.metadata_parts();
        Some(OAuthPart {
            required: S::REQUIRED_SCOPES,
            scopes: S::SCOPES,
            metadata: protected_resource_metadata(
                &resource,
                issuers,
                name,
                documentation,
                S::SCOPES,
            ),
        })
    }
}

/// A server's contract, from [`Serve::contract`](crate::Serve::contract).
///
/// [`Display`](fmt::Display) writes it as pretty-printed JSON ending in a newline, the form
/// [`assert_unchanged`](Self::assert_unchanged) compares and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    json: Value,
}

impl Contract {
    pub(crate) fn of<S: McpServer, C: ContractConfig<S>>(config: &C) -> Self {
        let desc = S::__descriptor();
        let oauth = config.oauth();
        let needs = |own: &[&str]| -> Option<Value> {
            let oauth = oauth.as_ref()?;
            let mut all: Vec<&str> = oauth.required.iter().chain(own).copied().collect();
            all.sort_unstable();
            all.dedup();
            Some(json!(all))
        };
        let with_scopes = |mut entry: Value, own: &[&str]| {
            if let (Some(scopes), Some(obj)) = (needs(own), entry.as_object_mut()) {
                obj.insert("scopes".into(), scopes);
            }
            entry
        };

        let mut server = Map::new();
        server.insert("name".into(), desc.name.into());
        server.insert("version".into(), desc.version.into());
        if let Some(title) = desc.title {
            server.insert("title".into(), title.into());
        }
        if let Some(instructions) = desc.instructions {
            server.insert("instructions".into(), instructions.into());
        }
        if let Some(icons) = crate::server::icons_json(desc.icons) {
            server.insert("icons".into(), icons);
        }
        server.insert("stateless".into(), desc.stateless.into());

        let mut root = Map::new();
        root.insert("server".into(), Value::Object(server));
        let tools = desc.tools.iter().map(|t| {
            let mut entry = with_scopes(t.to_json(), t.scopes);
            let task = match t.task {
                TaskSupport::Forbidden => None,
                TaskSupport::Optional => Some("optional"),
                TaskSupport::Required => Some("required"),
            };
            if let (Some(task), Some(obj)) = (task, entry.as_object_mut()) {
                obj.insert("task".into(), task.into());
            }
            entry
        });
        root.insert("tools".into(), sorted_by(tools, "name"));
        let resources = desc
            .resources
            .iter()
            .map(|r| with_scopes(r.to_json(), r.scopes));
        root.insert("resources".into(), sorted_by(resources, "uri"));
        let templates = desc
            .resource_templates
            .iter()
            .map(|r| with_scopes(r.to_json(), r.scopes));
        root.insert(
            "resourceTemplates".into(),
            sorted_by(templates, "uriTemplate"),
        );
        let prompts = desc
            .prompts
            .iter()
            .map(|p| with_scopes(p.to_json(), p.scopes));
        root.insert("prompts".into(), sorted_by(prompts, "name"));
        let mut completions: Vec<Value> = desc
            .completions
            .iter()
            .map(|c| {
                let reference = match c.target {
                    crate::server::CompletionTarget::Prompt(name) => {
                        json!({ "type": "ref/prompt", "name": name })
                    }
                    crate::server::CompletionTarget::Resource(uri) => {
                        json!({ "type": "ref/resource", "uri": uri })
                    }
                };
                json!({ "ref": reference, "argument": c.argument })
            })
            .collect();
        completions.sort_by_cached_key(Value::to_string);
        root.insert("completions".into(), Value::Array(completions));
        if let Some(oauth) = &oauth {
            let mut scopes: Vec<&str> = oauth.scopes.to_vec();
            scopes.sort_unstable();
            root.insert(
                "oauth".into(),
                json!({
                    "requiredScopes": needs(&[]),
                    "scopes": scopes,
                    "protectedResourceMetadata": &oauth.metadata,
                }),
            );
        }
        Self {
            json: canonical(Value::Object(root)),
        }
    }

    /// The contract as JSON, its object keys sorted.
    pub fn as_json(&self) -> &Value {
        &self.json
    }

    /// Compares the contract with the file at `path` (relative paths start where the test
    /// runs: the package's directory under `cargo test`) and panics with a line diff when
    /// they differ or the file is missing.
    ///
    /// With `MCP_UPDATE_SNAPSHOTS=1` in the environment it writes the file instead, for the
    /// change to be reviewed and committed.
    ///
    /// # Panics
    ///
    /// When the file differs from the contract or cannot be read, or, when updating, cannot
    /// be written.
    pub fn assert_unchanged(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let actual = self.to_string();
        if std::env::var_os(UPDATE_VAR).is_some_and(|v| v == "1") {
            if let Err(e) = std::fs::write(path, &actual) {
                panic!("cannot write the contract to {}: {e}", path.display());
            }
            return;
        }
        let expected = match std::fs::read_to_string(path) {
            Ok(expected) => expected,
            Err(e) => panic!(
                "the contract {} cannot be read ({e}); write it with {UPDATE_VAR}=1 and \
                 commit it. It would be:\n{actual}",
                path.display()
            ),
        };
        assert!(
            expected.replace("\r\n", "\n") == actual,
            "the server's contract differs from {}; if the change is intended, run again with \
             {UPDATE_VAR}=1 and commit the file.\n{}",
            path.display(),
            diff(&expected, &actual)
        );
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(&self.json).map_err(|_| fmt::Error)?;
        writeln!(f, "{text}")
    }
}

/// The entries as an array sorted by the string at `key`.
fn sorted_by(entries: impl Iterator<Item = Value>, key: &str) -> Value {
    let mut entries: Vec<Value> = entries.collect();
    entries.sort_by(|a, b| a[key].as_str().cmp(&b[key].as_str()));
    Value::Array(entries)
}

/// `value` with the keys of every object in alphabetical order (arrays keep theirs).
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// The lines that differ between `old` and `new`, `-` for the old ones and `+` for the new,
/// with two lines of context around each change: the diff that
/// [`Contract::assert_unchanged`] prints.
pub fn diff(old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(op, _)| *op != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push_str("   …\n");
                skipped = false;
            }
            let _ = writeln!(out, "{op}  {line}");
        } else {
            skipped = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nc\nD\ne\nf\ng\n";
        assert_eq!(diff(old, new), "   …\n   b\n   c\n-  d\n+  D\n   e\n   f\n");
    }

    #[test]
    fn diff_of_equal_texts_is_empty() {
        assert_eq!(diff("x\ny\n", "x\ny\n"), "");
    }
}
