//! `#[mcp_server]`: parse the options and the impl block, validate, expand.

mod args;
mod expand;
mod fallback;
mod model;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut item: syn::ItemImpl = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let e = syn::Error::new_spanned(
                &item,
                "`#[mcp_server]` goes on an `impl` block: `#[mcp_server] impl MyServer { … }`",
            )
            .to_compile_error();
            return quote!(#e #item);
        }
    };
    let mut cx = Ctxt::default();
    let args = args::ServerArgs::parse(args).unwrap_or_else(|e| {
        cx.push(e);
        args::ServerArgs::default()
    });
    let server = model::Server::from_impl(&mut cx, args, &mut item);
    validate::check(&mut cx, &server);
    let output = match cx.check() {
        Ok(()) => {
            let generated = expand::expand(&server);
            quote!(#item #generated)
        }
        Err(e) => {
            let errors = e.to_compile_error();
            let fallback = fallback::fallback(&server.self_ty);
            quote!(#item #errors #fallback)
        }
    };
    if std::env::var_os("MCP_MACROS_DEBUG").is_some() {
        eprintln!("{output}");
    }
    output
}
