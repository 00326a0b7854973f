//! Attribute macros of [`mcp-runtime`](https://docs.rs/mcp-runtime): `#[mcp_server]` on an
//! `impl` block and `#[tool]`, `#[resource]`, `#[prompt]` and `#[completion]` on its methods.
//!
//! Depend on `mcp-runtime`, which re-exports these macros and everything the generated code
//! needs; this crate is not meant to be used on its own. The options of each attribute are
//! documented in the `mcp-runtime` crate docs.

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

/// Declares the `impl` block of an MCP server; see the `mcp-runtime` docs.
#[proc_macro_attribute]
pub fn mcp_server(args: TokenStream, item: TokenStream) -> TokenStream {
    server::expand(args.into(), &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as a tool; see the `mcp-runtime` docs.
#[proc_macro_attribute]
pub fn tool(_args: TokenStream, item: TokenStream) -> TokenStream {
    alone::expand("tool", &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as a resource or resource template; see
/// the `mcp-runtime` docs.
#[proc_macro_attribute]
pub fn resource(_args: TokenStream, item: TokenStream) -> TokenStream {
    alone::expand("resource", &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as a prompt; see the `mcp-runtime` docs.
#[proc_macro_attribute]
pub fn prompt(_args: TokenStream, item: TokenStream) -> TokenStream {
    alone::expand("prompt", &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as the completion of a prompt argument or
/// resource template variable; see the `mcp-runtime` docs.
#[proc_macro_attribute]
pub fn completion(_args: TokenStream, item: TokenStream) -> TokenStream {
    alone::expand("completion", &item.into()).into()
}
