//! `#[tool]`: the options of one tool and its parameters. Alone, it is an error: the
//! `#[mcp_server]` on the enclosing impl block reads and removes it.

pub(crate) mod args;
pub(crate) mod name;
pub(crate) mod param;

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// `#[tool]` outside an `#[mcp_server]` impl block: the item, unchanged, and an error.
pub(crate) fn expand_alone(_args: TokenStream, item: &TokenStream) -> TokenStream {
    let sig = syn::parse2::<syn::ItemFn>(item.clone()).ok().map(|f| f.sig);
    let message = match &sig {
        Some(sig) if !matches!(sig.inputs.first(), Some(syn::FnArg::Receiver(_))) => format!(
            "`#[tool]` only works on methods of an `#[mcp_server]` impl block; move `{}` into one and take `&self`",
            sig.ident
        ),
        _ => "`#[tool]` only works inside an `#[mcp_server]` impl block; add `#[mcp_server]` to the `impl`"
            .to_owned(),
    };
    // At the attribute, but resolved like the user's tokens: no "this error originates in
    // the attribute macro" note on a mistake the user can see.
    let span = match item.clone().into_iter().next() {
        Some(first) => Span::call_site().resolved_at(first.span()),
        None => Span::call_site(),
    };
    let error = syn::Error::new(span, message).to_compile_error();
    quote!(#error #item)
}
