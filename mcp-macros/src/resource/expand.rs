//! The generated parts of resources: the `ResourceDef`s and `ResourceTemplateDef`s of the
//! descriptor, and `__read_resource`, a `match` on the fixed URIs followed by the templates
//! in declaration order.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::{Address, Resource, uri};
use crate::handler::{Call, probe, result};
use crate::param::ParamKind;
use crate::rt::rt;
use crate::tokens::{option_lit, option_string};

/// `(resources, resource_templates)`: the descriptor's two lists.
pub(crate) fn defs(resources: &[Resource]) -> (TokenStream, TokenStream) {
    let rt = rt();
    let mut fixed = Vec::new();
    let mut templates = Vec::new();
    for r in resources {
        let name = &r.name;
        let title = option_lit(r.title.as_ref());
        let description = option_string(r.description.as_ref());
        let mime_type = option_lit(r.mime_type.as_ref());
        let icons = crate::icon::expand(&r.icons);
        let scopes = &r.scopes;
        match &r.address {
            Address::Fixed(uri) => fixed.push(quote! {
                #rt::ResourceDef {
                    uri: #uri,
                    name: #name,
                    title: #title,
                    description: #description,
                    mime_type: #mime_type,
                    icons: #icons,
                    scopes: &[#(#scopes),*],
                }
            }),
            Address::Template(template, parts) => {
                let parts = parts.iter().map(|p| match p {
                    uri::Part::Literal(l) => quote!(#rt::TemplatePart::Literal(#l)),
                    uri::Part::Variable(v) => quote!(#rt::TemplatePart::Variable(#v)),
                });
                templates.push(quote! {
                    #rt::ResourceTemplateDef {
                        uri_template: #template,
                        name: #name,
                        title: #title,
                        description: #description,
                        mime_type: #mime_type,
                        icons: #icons,
                        scopes: &[#(#scopes),*],
                        matcher: #rt::UriTemplate::new(&[#(#parts),*]),
                    }
                });
            }
        }
    }
    (
        quote!(#rt::std::vec![#(#fixed),*]),
        quote!(#rt::std::vec![#(#templates),*]),
    )
}

/// `fn __read_resource`, or nothing when the server has no resources.
pub(crate) fn read_method(resources: &[Resource]) -> TokenStream {
    if resources.is_empty() {
        return TokenStream::new();
    }
    let rt = rt();
    let mut fixed_arms = Vec::new();
    let mut template_reads = Vec::new();
    let mut template_index = 0usize;
    for r in resources {
        let body = read_body(r);
        match &r.address {
            Address::Fixed(uri) => fixed_arms.push(quote!(#uri => #body)),
            Address::Template(..) => {
                let i = template_index;
                template_index += 1;
                template_reads.push(quote! {
                    if let ::core::option::Option::Some(mut __mcp_vars) =
                        __mcp_desc.resource_templates[#i].matcher.captures(__mcp_uri)
                    #body
                });
            }
        }
    }
    let fixed = if fixed_arms.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            match __mcp_uri {
                #(#fixed_arms)*
                _ => {}
            }
        }
    };
    let templates = if template_reads.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            let __mcp_desc = Self::__mcp_descriptor();
            #(#template_reads)*
        }
    };
    quote! {
        fn __read_resource<'a>(
            &'a self,
            uri: &'a str,
            ctx: #rt::RequestContext,
        ) -> #rt::ResourceFuture<'a>
        where
            for<'__mcp> Self: ::core::marker::Sync,
        {
            #rt::boxed_resource(async move {
                let __mcp_uri = uri;
                let __mcp_ctx = ctx;
                #fixed
                #templates
                ::core::result::Result::Err(#rt::ResourceError::NotFound)
            })
        }
    }
}

/// `{ read parameters; call; return the contents }`.
fn read_body(r: &Resource) -> TokenStream {
    let rt = rt();
    let variables = r.variables();
    let mut call = Call::default();
    for (i, p) in r.params.iter().enumerate() {
        let var = format_ident!("__mcp_a{}", i);
        let injected = call.inject(p, &var, |read| {
            quote! {
                match #read {
                    ::core::result::Result::Ok(__mcp_v) => __mcp_v,
                    ::core::result::Result::Err(__mcp_e) => {
                        return ::core::result::Result::Err(
                            #rt::ResourceError::Internal(__mcp_e.message),
                        );
                    }
                }
            }
        });
        if injected {
            continue;
        }
        if let ParamKind::Input { name, .. } = &p.kind {
            let k = variables.iter().position(|v| v == name).unwrap_or_default();
            call.bind(&var, &p.ty, &quote!(::core::mem::take(&mut __mcp_vars[#k])));
        }
    }
    let mime_type = option_lit(r.mime_type.as_ref());
    let ok_ty = &r.returns.ok;
    let into = |value: TokenStream| {
        let into = quote_spanned!(ok_ty.span()=>
            <#ok_ty as #rt::IntoResourceContents>::into_contents);
        quote!(#into(#value, __mcp_uri, #mime_type))
    };
    let result = result(r.returns.error, into, |span| {
        let err = probe(span, &quote!(#rt::ResourceError));
        quote!(::core::result::Result::Err(#err))
    });
    call.finish(&r.ident, r.is_async, &quote!(return #result;))
}
