//! The generated parts of prompts: the `PromptDef`s of the descriptor and `__get_prompt`, a
//! `match` on the prompt name.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::Prompt;
use crate::handler::{Call, probe, result, try_read};
use crate::param::ParamKind;
use crate::rt::rt;
use crate::tokens::{option_lit, option_string};
use crate::types::is_string;

/// The descriptor's `prompts`.
pub(crate) fn defs(prompts: &[Prompt]) -> TokenStream {
    let rt = rt();
    let defs = prompts.iter().map(|p| {
        let name = &p.name;
        let title = option_lit(p.title.as_ref());
        let description = option_string(p.description.as_ref());
        let icons = crate::icon::expand(&p.icons);
        let scopes = &p.scopes;
        let arguments = p.params.iter().filter_map(|param| match &param.kind {
            ParamKind::Input {
                name, description, ..
            } => {
                let description = option_lit(description.as_ref());
                let required = is_string(&param.ty);
                Some(quote! {
                    #rt::PromptArgumentDef {
                        name: #name,
                        description: #description,
                        required: #required,
                    }
                })
            }
            _ => None,
        });
        quote! {
            #rt::PromptDef {
                name: #name,
                title: #title,
                description: #description,
                icons: #icons,
                arguments: &[#(#arguments),*],
                scopes: &[#(#scopes),*],
            }
        }
    });
    quote!(#rt::std::vec![#(#defs),*])
}

/// `fn __get_prompt`, or nothing when the server has no prompts.
pub(crate) fn get_method(prompts: &[Prompt]) -> TokenStream {
    if prompts.is_empty() {
        return TokenStream::new();
    }
    let rt = rt();
    let arms = prompts.iter().map(arm);
    quote! {
        fn __get_prompt<'a>(
            &'a self,
            name: &'a str,
            arguments: #rt::PromptArguments,
            ctx: #rt::RequestContext,
        ) -> #rt::PromptFuture<'a>
        where
            for<'__mcp> Self: ::core::marker::Sync,
        {
            #rt::boxed_prompt(async move {
                let mut __mcp_args = arguments;
                let __mcp_ctx = ctx;
                match name {
                    #(#arms)*
                    _ => ::core::result::Result::Err(#rt::unknown_prompt(name)),
                }
            })
        }
    }
}

/// `"name" => { read arguments; call; convert }`.
fn arm(prompt: &Prompt) -> TokenStream {
    let rt = rt();
    let name = &prompt.name;
    let mut call = Call::default();
    for (i, p) in prompt.params.iter().enumerate() {
        let var = format_ident!("__mcp_a{}", i);
        let ty = &p.ty;
        if call.inject(p, &var, try_read) {
            continue;
        }
        if let ParamKind::Input { name, .. } = &p.kind {
            let read = quote_spanned!(ty.span()=>
                <#ty as #rt::PromptArgument>::from_prompt_args(&mut __mcp_args, #name));
            call.bind(&var, ty, &try_read(&read));
        }
    }
    let ok_ty = &prompt.returns.ok;
    let into = |value: TokenStream| {
        let into = quote_spanned!(ok_ty.span()=>
            <#ok_ty as #rt::IntoGetPromptResult>::into_get_prompt_result);
        quote!(#into(#value))
    };
    let result = result(prompt.returns.error, into, |span| {
        let err = probe(span, &quote!(#rt::PromptError));
        quote!(::core::result::Result::Err(#rt::prompt_error(#name, #err)))
    });
    let body = call.finish(&prompt.ident, prompt.is_async, &result);
    quote!(#name => #body)
}
