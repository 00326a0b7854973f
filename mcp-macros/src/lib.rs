//! Attribute macros of [`mcp-runtime`](https://docs.rs/mcp-runtime): `#[mcp_server]` on an
//! `impl` block and `#[tool]` on its methods.
//!
//! Depend on `mcp-runtime`, which re-exports these macros and everything the generated code
//! needs; this crate is not meant to be used on its own. The options of each attribute are
//! documented on `mcp_runtime::mcp_server` and `mcp_runtime::tool`.

mod ctxt;
mod rt;
mod server;
mod tool;

use proc_macro::TokenStream;

/// Declares the `impl` block of an MCP server; see the `mcp-runtime` docs.
#[proc_macro_attribute]
pub fn mcp_server(args: TokenStream, item: TokenStream) -> TokenStream {
    server::expand(args.into(), &item.into()).into()
}

/// Marks a method of an `#[mcp_server]` impl block as a tool; see the `mcp-runtime` docs.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand_alone(args.into(), &item.into()).into()
}
