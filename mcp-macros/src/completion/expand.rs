//! The generated parts of completions: the `CompletionDef`s of the descriptor and
//! `__complete`, a `match` on the index the runtime resolved from the reference.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::{Completion, Role, Target};
use crate::handler::{Call, result, try_read};
use crate::rt::rt;

/// The descriptor's `completions`.
pub(crate) fn defs(completions: &[Completion]) -> TokenStream {
    let rt = rt();
    let defs = completions.iter().map(|c| {
        let target = match &c.target {
            Target::Prompt(p) => quote!(#rt::CompletionTarget::Prompt(#p)),
            Target::Resource(r) => quote!(#rt::CompletionTarget::Resource(#r)),
        };
        let argument = &c.argument;
        quote!(#rt::CompletionDef { target: #target, argument: #argument })
    });
    quote!(#rt::std::vec![#(#defs),*])
}

/// `fn __complete`, or nothing when the server has no completions.
pub(crate) fn complete_method(completions: &[Completion]) -> TokenStream {
    if completions.is_empty() {
        return TokenStream::new();
    }
    let rt = rt();
    let arms = completions.iter().enumerate().map(|(i, c)| arm(i, c));
    quote! {
        fn __complete<'a>(
            &'a self,
            index: usize,
            value: #rt::std::string::String,
            context: #rt::CompletionContext,
            ctx: #rt::RequestContext,
        ) -> #rt::CompletionFuture<'a>
        where
            for<'__mcp> Self: ::core::marker::Sync,
        {
            #rt::boxed_completion(async move {
                let __mcp_value = value;
                let __mcp_context = context;
                let __mcp_ctx = ctx;
                match index {
                    #(#arms)*
                    _ => ::core::result::Result::Ok(::core::default::Default::default()),
                }
            })
        }
    }
}

/// `index => { read; call; convert }`.
fn arm(index: usize, c: &Completion) -> TokenStream {
    let rt = rt();
    let mut call = Call::default();
    for (i, (p, role)) in c.params.iter().enumerate() {
        let var = format_ident!("__mcp_a{}", i);
        match role {
            Role::Value => call.args.push(quote!(__mcp_value)),
            Role::Context => call.args.push(quote!(__mcp_context)),
            Role::Injected => {
                call.inject(p, &var, try_read);
            }
        }
    }
    let method = c.ident.to_string();
    let ok_ty = &c.returns.ok;
    let into = |value: TokenStream| {
        let into = quote_spanned!(ok_ty.span()=> <#ok_ty as #rt::IntoCompletion>::into_completion);
        quote!(#into(#value))
    };
    let result = result(c.returns.error, into, |span| {
        let err = quote_spanned!(span=> #rt::completion_error(#method, &__mcp_err));
        quote!(::core::result::Result::Err(#err))
    });
    let body = call.finish(&c.ident, c.is_async, &result);
    quote!(#index => #body)
}
