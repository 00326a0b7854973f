//! The options of `#[tool(...)]`, each kept with its tokens for error spans.

use syn::LitStr;

use crate::options::{Key, Options, Place, Takes};

/// One boolean hint with where it was written.
#[derive(Clone, Copy)]
pub(crate) struct Hint {
    pub(crate) value: bool,
}

/// `#[tool(name = "…", title = "…", description = "…", icon = "…", read_only, destructive,
/// blocking, …)]`.
#[derive(Default)]
pub(crate) struct ToolArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    /// `icon = "…"` or `icon(..)`, repeatable.
    pub(crate) icons: Vec<crate::icon::Icon>,
    pub(crate) read_only: Option<Hint>,
    pub(crate) destructive: Option<Hint>,
    pub(crate) idempotent: Option<Hint>,
    pub(crate) open_world: Option<Hint>,
    /// `scopes = ["…"]`, checked against the server's `oauth` declaration.
    pub(crate) scopes: Vec<LitStr>,
    /// The `scopes` key, for errors about the option as a whole.
    pub(crate) scopes_key: Option<syn::Path>,
    /// `blocking`: the sync method runs where it may block (the key, for errors).
    pub(crate) blocking: Option<syn::Path>,
    /// `task = "optional" | "required"`: the call may (or must) become a task of the
    /// `io.modelcontextprotocol/tasks` extension; checked, with its literal for errors.
    pub(crate) task: Option<(TaskSupport, LitStr)>,
}

/// How a tool runs as a task.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskSupport {
    Optional,
    Required,
}

const KEYS: &[Key] = &[
    Key("name", Takes::Str),
    Key("title", Takes::Str),
    Key("description", Takes::Str),
    Key("icon", Takes::Icon),
    Key("scopes", Takes::Scopes),
    Key("read_only", Takes::Bool),
    Key("destructive", Takes::Bool),
    Key("idempotent", Takes::Bool),
    Key("open_world", Takes::Bool),
    Key("blocking", Takes::Flag),
    Key("task", Takes::Str),
];

impl ToolArgs {
    /// Reads the options of `#[tool]` or `#[tool(...)]`.
    pub(crate) fn of_attr(cx: &mut crate::ctxt::Ctxt, attr: &syn::Attribute) -> Self {
        let mut options = Options::of_attr(cx, attr, Place::attr("tool"), KEYS);
        let hint = |key| options.bool(key).map(|value| Hint { value });
        let (scopes_key, scopes) = match options.list("scopes") {
            Some((key, scopes)) => (Some(key.clone()), scopes.to_vec()),
            None => (None, Vec::new()),
        };
        let blocking = options.get("blocking").map(|(key, _)| key.clone());
        let task = options.str("task").and_then(|lit| match lit.value().as_str() {
            "optional" => Some((TaskSupport::Optional, lit.clone())),
            "required" => Some((TaskSupport::Required, lit.clone())),
            other => {
                cx.error_at(
                    lit,
                    format!(
                        "`task = \"{other}\"` is no task support: write `task = \"optional\"` (the call becomes a task when the client takes tasks and the tool waits) or `task = \"required\"` (it always runs as a task)"
                    ),
                );
                None
            }
        });
        Self {
            blocking,
            task,
            name: options.str("name").cloned(),
            title: options.str("title").cloned(),
            description: options.str("description").cloned(),
            read_only: hint("read_only"),
            destructive: hint("destructive"),
            idempotent: hint("idempotent"),
            open_world: hint("open_world"),
            scopes,
            scopes_key,
            icons: std::mem::take(&mut options.icons),
        }
    }
}
