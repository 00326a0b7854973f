//! `#[tool]`: the options of one tool and its parameters. Alone, it is an error: the
//! `#[mcp_server]` on the enclosing impl block reads and removes it.

pub(crate) mod args;
pub(crate) mod name;
pub(crate) mod param;

use proc_macro2::TokenStream;
use quote::quote;

/// `#[tool]` outside an `#[mcp_server]` impl block: the item, unchanged, and an error.
pub(crate) fn expand_alone(_args: TokenStream, item: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        "`#[tool]` only works inside an `#[mcp_server]` impl block; add `#[mcp_server]` to the `impl`",
    )
    .to_compile_error();
    quote!(#error #item)
}
