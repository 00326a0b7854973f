//! `#[tool]`, `#[resource]`, `#[prompt]` and `#[completion]` used alone: each is read and
//! removed by the `#[mcp_server]` on the enclosing impl block, so reaching its own expansion
//! means there is none.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The item, unchanged, and an error at the attribute saying where it belongs.
pub(crate) fn expand(attr: &str, item: &TokenStream) -> TokenStream {
    let sig = syn::parse2::<syn::ItemFn>(item.clone()).ok().map(|f| f.sig);
    let message = match &sig {
        Some(sig) if !matches!(sig.inputs.first(), Some(syn::FnArg::Receiver(_))) => format!(
            "`#[{attr}]` only works on methods of an `#[mcp_server]` impl block; move `{}` into one and take `&self`",
            sig.ident
        ),
        _ => format!(
            "`#[{attr}]` only works inside an `#[mcp_server]` impl block; add `#[mcp_server]` to the `impl`"
        ),
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
