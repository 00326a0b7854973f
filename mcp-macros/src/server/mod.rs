//! `#[mcp_server]`: parse the options and the impl block with its tools, resources, prompts
//! and completions, validate, expand.

mod args;
mod expand;
mod fallback;
mod model;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

pub(crate) fn expand(args: TokenStream, input: &TokenStream) -> TokenStream {
    let Ok(mut item) = syn::parse2::<syn::ItemImpl>(input.clone()) else {
        let e = syn::Error::new_spanned(
            item_header(input),
            "`#[mcp_server]` goes on an `impl` block: `#[mcp_server] impl MyServer { … }`",
        )
        .to_compile_error();
        return quote!(#e #input);
    };
    let mut cx = Ctxt::default();
    let args = args::ServerArgs::parse(args).unwrap_or_else(|e| {
        cx.push(e);
        args::ServerArgs::default()
    });
    crate::icon::check(&mut cx, &args.icons, "server");
    let server = model::Server::from_impl(&mut cx, args, &mut item);
    validate::check(&mut cx, &server);
    validate::check_oauth(&mut cx, &server);
    let output = match cx.check() {
        Ok(()) => {
            let generated = expand::expand(&server);
            quote!(#item #generated)
        }
        Err(e) => {
            let errors = e.to_compile_error();
            let fallback = fallback::fallback(&server.self_ty, &server.args);
            quote!(#item #errors #fallback)
        }
    };
    if std::env::var_os("MCP_MACROS_DEBUG").is_some() {
        eprintln!("{output}");
    }
    output
}

/// The head of an item, for errors about the item as a whole: `struct Files` of
/// `#[doc = ".."] pub struct Files { .. }`, without attributes or body.
fn item_header(item: &TokenStream) -> TokenStream {
    use proc_macro2::{Delimiter, TokenTree};
    let mut tokens = item.clone().into_iter();
    let mut header = Vec::new();
    while let Some(token) = tokens.next() {
        match &token {
            TokenTree::Punct(p) if p.as_char() == '#' && header.is_empty() => {
                // An outer attribute: `#` and its `[..]`.
                tokens.next();
            }
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
            TokenTree::Punct(p) if p.as_char() == ';' => break,
            _ => header.push(token),
        }
    }
    if header.is_empty() {
        item.clone()
    } else {
        header.into_iter().collect()
    }
}
