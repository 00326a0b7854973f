//! Attribute macros of [`mcp-runtime`](https://docs.rs/mcp-runtime): `#[mcp_server]` on an
//! `impl` block and `#[tool]`, `#[resource]`, `#[prompt]` and `#[completion]` on its methods.
//!
//! Depend on `mcp-runtime`, which re-exports these macros and everything the generated code
//! needs; this crate is not meant to be used on its own. Each attribute's page below lists
//! its options; a misspelt or misplaced one is a compile error that names the near miss.

mod alone;
mod completion;
mod ctxt;
mod handler;
mod icon;
mod message;
mod names;
mod options;
mod param;
mod prompt;
mod resource;
mod rt;
mod server;
mod tokens;
mod tool;
mod types;

use proc_macro::TokenStream;

/// Declares the `impl` block of an MCP server: generates its JSON-RPC dispatch, the JSON
/// Schemas of its tools and the listings of everything its methods declare.
///
/// Options, all optional:
///
/// - `name = "…"`, `version = "…"`: `serverInfo` (default: the crate's name and version);
/// - `title = "…"`: a display name; `instructions = "…"`: sent in `initialize` and
///   `server/discover`;
/// - `icon = "https://…"` or `icon(src = "…", mime_type = "…", sizes = ["48x48"], theme =
///   "light" | "dark")`, repeatable;
/// - `stateless`: refuse 2025-11-25 sessions (every request stands alone);
/// - `oauth(scopes = ["…"], required = ["…"])`: the server is an OAuth 2.1 resource server;
///   `scopes` lists every scope its tools may need (advertised in the protected resource
///   metadata), `required` those every request needs. It then takes an `OAuthConfig`, not
///   an `HttpConfig`, and a tool `scopes` not in `scopes` is a compile error.
///
/// ```
/// use mcp_runtime::prelude::*;
///
/// struct Notes;
///
/// #[mcp_server(
///     name = "notes",
///     instructions = "Notes of the signed-in user.",
///     oauth(scopes = ["notes:read", "notes:write"], required = ["notes:read"])
/// )]
/// impl Notes {
///     /// Adds a note.
///     #[tool(scopes = ["notes:write"])]
///     fn add_note(&self, caller: Auth, title: String) -> String {
///         format!("{} added {title}", caller.subject())
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn mcp_server(args: TokenStream, item: TokenStream) -> TokenStream {
    server::expand(args.into(), &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as a tool.
///
/// The doc comment is the description models read (required: a tool without one, or with a
/// blank `description`, does not compile). Parameters are the tool's arguments, each
/// `Deserialize + JsonSchema` (`Option<T>` for an optional one, `#[arg(description = "…")]`
/// to describe it, `#[arg(header = "Region")]` to mirror a string, integer or boolean one
/// into the `Mcp-Param-Region` header of 2026-07-28 requests, which the server checks
/// against the body), or one `Args<T>` struct; `RequestContext`, `Session` and, on servers
/// with `oauth`, `Auth<C>` are injected by type. The return type is the result: `String`,
/// `Content`, `Vec<Content>`, `CallToolResult`, any `Serialize + JsonSchema` type (as
/// `structuredContent` with an `outputSchema`), or `Result` of one of them whose error
/// becomes a result with `isError` (see `ToolError`).
///
/// Options, all optional:
///
/// - `name = "…"` (default: the method's name), `title = "…"`, `description = "…"`
///   (instead of the doc comment), `icon = …` as on `#[mcp_server]`;
/// - `read_only`, `destructive`, `idempotent`, `open_world`, each alone or `= false`: the
///   annotations clients show;
/// - `scopes = ["…"]`: what the caller's token must grant, beyond the server's `required`
///   (checked before the tool runs; a 403 names them);
/// - `blocking`: the plain `fn` blocks its thread (file or database I/O), so it runs where
///   other requests can move to another worker.
///
/// ```
/// use mcp_runtime::prelude::*;
/// use schemars::JsonSchema;
/// use serde::Serialize;
///
/// #[derive(Serialize, JsonSchema)]
/// struct Sum {
///     sum: i64,
/// }
///
/// struct Calc;
///
/// #[mcp_server]
/// impl Calc {
///     /// Adds two integers.
///     #[tool(read_only, idempotent, open_world = false)]
///     fn add(&self, #[arg(description = "The first")] a: i64, b: i64) -> Result<Sum, ToolError> {
///         a.checked_add(b)
///             .map(|sum| Sum { sum })
///             .ok_or_else(|| ToolError::new("the sum overflows"))
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn tool(_args: TokenStream, item: TokenStream) -> TokenStream {
    alone::expand("tool", &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as a resource, or as a resource template
/// whose variables are the method's parameters.
///
/// Options: `uri = "…"` or `uri_template = "…{var}…"` (one of them; each `{var}` must name a
/// parameter), `name = "…"` (default: the method's name), `title`, `description` (default:
/// the doc comment), `mime_type`, `icon`. The method returns the contents: `String`, `Blob`
/// (binary, sent as base64), `ResourceContents`, or a `Result` of one of them with a
/// `ResourceError`.
///
/// ```
/// use mcp_runtime::prelude::*;
///
/// struct Docs;
///
/// #[mcp_server]
/// impl Docs {
///     /// The page of one topic.
///     #[resource(uri_template = "docs://topics/{topic}", mime_type = "text/markdown")]
///     fn topic(&self, topic: String) -> String {
///         format!("# {topic}")
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn resource(_args: TokenStream, item: TokenStream) -> TokenStream {
    alone::expand("resource", &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as a prompt whose arguments are the
/// method's `String` (or `Option<String>`) parameters.
///
/// Options: `name = "…"` (default: the method's name), `title`, `description` (default: the
/// doc comment), `icon`. The method returns the messages: `String` (one user message),
/// `PromptMessage`, `Vec<PromptMessage>`, `GetPromptResult`, or a `Result` of one of them
/// with a `PromptError`.
///
/// ```
/// use mcp_runtime::prelude::*;
///
/// struct Review;
///
/// #[mcp_server]
/// impl Review {
///     /// Asks for a review of a piece of code.
///     #[prompt]
///     fn review(&self, #[arg(description = "The code to review")] code: String) -> String {
///         format!("Review this code:\n{code}")
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn prompt(_args: TokenStream, item: TokenStream) -> TokenStream {
    alone::expand("prompt", &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as the completion of a prompt argument or
/// resource template variable.
///
/// Options: `prompt = "…"` or `resource = "…"` (a template's URI template), and `argument =
/// "…"`; each must name something the server declares. The method takes the partial value
/// (and optionally a `CompletionContext`) and returns the candidates, for instance
/// `Vec<String>`.
///
/// ```
/// use mcp_runtime::prelude::*;
///
/// struct Review;
///
/// #[mcp_server]
/// impl Review {
///     /// Asks for a review in a language.
///     #[prompt]
///     fn review(&self, language: String) -> String {
///         format!("Review this {language} code.")
///     }
///
///     #[completion(prompt = "review", argument = "language")]
///     fn languages(&self, value: String) -> Vec<String> {
///         ["rust", "python", "typescript"]
///             .into_iter()
///             .filter(|l| l.starts_with(&value))
///             .map(String::from)
///             .collect()
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn completion(_args: TokenStream, item: TokenStream) -> TokenStream {
    alone::expand("completion", &item.into()).into()
}
