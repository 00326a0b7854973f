//! The generated `impl McpServer`: the descriptor (built once) and the dispatch `match`es of
//! tools, resources, prompts and completions.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::model::{Output, Server, Tool};
use crate::handler::{Call, result, try_read};
use crate::param::ParamKind;
use crate::rt::rt;
use crate::tokens::option_lit;

pub(crate) fn expand(server: &Server) -> TokenStream {
    let rt = rt();
    let self_ty = &server.self_ty;
    let args = &server.args;
    let name = args
        .name
        .as_ref()
        .map_or_else(|| quote!(::core::env!("CARGO_PKG_NAME")), |n| quote!(#n));
    let version = args
        .version
        .as_ref()
        .map_or_else(|| quote!(::core::env!("CARGO_PKG_VERSION")), |v| quote!(#v));
    let title = option_lit(args.title.as_ref());
    let instructions = option_lit(args.instructions.as_ref());
    let icons = crate::icon::expand(&args.icons);
    let stateless = args.stateless;
    let protected = args.oauth.is_some();
    let defs = server.tools.iter().map(tool_def);
    let (resources, resource_templates) = crate::resource::expand::defs(&server.resources);
    let prompts = crate::prompt::expand::defs(&server.prompts);
    let completions = crate::completion::expand::defs(&server.completions);
    let read_resource = crate::resource::expand::read_method(&server.resources);
    let get_prompt = crate::prompt::expand::get_method(&server.prompts);
    let complete = crate::completion::expand::complete_method(&server.completions);
    let marker = markers(self_ty, args);
    let arms = server
        .tools
        .iter()
        .enumerate()
        .map(|(i, t)| dispatch_arm(i, t));

    let call_tool = call_tool(&quote! {
        #rt::boxed(async move {
            let __mcp_args = arguments;
            let __mcp_ctx = ctx;
            match name {
                #(#arms)*
                _ => ::core::result::Result::Err(#rt::unknown_tool(name)),
            }
        })
    });

    // The descriptor is an inherent function so that the dispatch reads it without requiring
    // `Self: McpServer`: a server that is not `Send + Sync` is then one error, at `impl #self_ty`.
    quote! {
        #[automatically_derived]
        #[allow(clippy::all, clippy::pedantic)]
        impl #self_ty {
            #[doc(hidden)]
            fn __mcp_descriptor() -> &'static #rt::ServerDescriptor {
                static __MCP_DESCRIPTOR: #rt::std::sync::OnceLock<#rt::ServerDescriptor> =
                    #rt::std::sync::OnceLock::new();
                __MCP_DESCRIPTOR.get_or_init(|| #rt::ServerDescriptor {
                    name: #name,
                    version: #version,
                    title: #title,
                    instructions: #instructions,
                    icons: #icons,
                    stateless: #stateless,
                    protected: #protected,
                    tools: #rt::std::vec![#(#defs),*],
                    resources: #resources,
                    resource_templates: #resource_templates,
                    prompts: #prompts,
                    completions: #completions,
                })
            }
        }

        #[automatically_derived]
        #[allow(clippy::all, clippy::pedantic, unused_mut, unused_variables)]
        impl #rt::McpServer for #self_ty {
            fn __descriptor() -> &'static #rt::ServerDescriptor {
                Self::__mcp_descriptor()
            }

            #call_tool

            #read_resource
            #get_prompt
            #complete
        }

        #marker
    }
}

/// `fn __call_tool` of `impl McpServer` with `body`, which has `name`, `arguments` and `ctx`.
pub(crate) fn call_tool(body: &TokenStream) -> TokenStream {
    let rt = rt();
    quote! {
        fn __call_tool<'a>(
            &'a self,
            name: &'a str,
            arguments: &'a #rt::serde_json::Map<#rt::std::string::String, #rt::serde_json::Value>,
            ctx: #rt::RequestContext,
        ) -> #rt::ToolFuture<'a>
        where
            // As in the trait; `for<'__mcp>` keeps it from being a (rejected) trivially
            // false bound when the server is not `Sync`, which `impl McpServer` reports.
            for<'__mcp> Self: ::core::marker::Sync,
        {
            #body
        }
    }
}

/// `impl Protected` (with the declared scopes) and `impl DeclaresOAuth` for an `oauth` server,
/// else `impl Unprotected`: which configuration can serve the server, and whether its handlers
/// may take `Auth`, follow from these. `impl KeepsSessions` unless `stateless`: whether they may
/// take `Session`.
pub(crate) fn markers(self_ty: &syn::Type, args: &super::args::ServerArgs) -> TokenStream {
    let rt = rt();
    // The bound repeats the supertrait so that its failure is not reported a second time
    // here; `for<'__mcp>` keeps it from being a (rejected) trivially false bound.
    let auth = if let Some(oauth) = &args.oauth {
        let (scopes, required) = (&oauth.scopes, &oauth.required);
        quote! {
            #[automatically_derived]
            impl #rt::Protected for #self_ty where for<'__mcp> #self_ty: #rt::McpServer {
                const REQUIRED_SCOPES: &'static [&'static str] = &[#(#required),*];
                const SCOPES: &'static [&'static str] = &[#(#scopes),*];
            }
            #[automatically_derived]
            impl #rt::DeclaresOAuth for #self_ty {}
        }
    } else {
        quote! {
            #[automatically_derived]
            impl #rt::Unprotected for #self_ty where for<'__mcp> #self_ty: #rt::McpServer {}
        }
    };
    let sessions = if args.stateless {
        TokenStream::new()
    } else {
        quote! {
            #[automatically_derived]
            impl #rt::KeepsSessions for #self_ty {}
        }
    };
    quote!(#auth #sessions)
}

fn option_bool(hint: Option<crate::tool::args::Hint>) -> TokenStream {
    if let Some(h) = hint {
        let v = h.value;
        quote!(::core::option::Option::Some(#v))
    } else {
        quote!(::core::option::Option::None)
    }
}

/// The `ToolDef` of one tool: names, schemas, hints.
fn tool_def(tool: &Tool) -> TokenStream {
    let rt = rt();
    let scopes = &tool.args.scopes;
    let name = &tool.name;
    let title = option_lit(tool.args.title.as_ref());
    let description = if let Some(d) = &tool.description {
        quote!(::core::option::Option::Some(#rt::std::string::String::from(#d)))
    } else {
        quote!(::core::option::Option::None)
    };
    let icons = crate::icon::expand(&tool.args.icons);
    let input_schema = input_schema(tool);
    let task = match tool.args.task.as_ref().map(|(t, _)| *t) {
        None => quote!(#rt::TaskSupport::Forbidden),
        Some(crate::tool::args::TaskSupport::Optional) => quote!(#rt::TaskSupport::Optional),
        Some(crate::tool::args::TaskSupport::Required) => quote!(#rt::TaskSupport::Required),
    };
    let headers = tool.params.iter().filter_map(|p| match &p.kind {
        ParamKind::Input {
            name,
            header: Some(header),
            ..
        } => {
            let key = format!("mcp-param-{}", header.value().to_ascii_lowercase());
            Some(quote!(#rt::MirroredArg { arg: #name, header: #header, key: #key }))
        }
        _ => None,
    });
    let output = match &tool.returns.output {
        Output::Structured(ty) => {
            let call = quote_spanned!(ty.span()=> <#ty as #rt::ToolOutput>::output_schema());
            quote! {
                let (__schema, __wraps) = #call;
                (::core::option::Option::Some(__schema), __wraps)
            }
        }
        Output::Content => quote!((::core::option::Option::None, false)),
    };
    let a = &tool.args;
    let (read_only, destructive, idempotent, open_world) = (
        option_bool(a.read_only),
        option_bool(a.destructive),
        option_bool(a.idempotent),
        option_bool(a.open_world),
    );
    // A scope that names an argument spells out its value: the type must have one text.
    let named: Vec<String> = tool
        .args
        .scopes
        .iter()
        .flat_map(|lit| placeholders(&lit.value()))
        .collect();
    let scope_checks = tool.params.iter().filter_map(|p| match &p.kind {
        ParamKind::Input { name, .. } if named.contains(name) => {
            let ty = &p.ty;
            Some(quote_spanned!(ty.span()=> #rt::scope_arg::<#ty>();))
        }
        _ => None,
    });
    quote! {{
        #(#scope_checks)*
        let (output_schema, wraps_output) = { #output };
        #rt::ToolDef {
            name: #name,
            title: #title,
            description: #description,
            icons: #icons,
            input_schema: #input_schema,
            output_schema,
            wraps_output,
            annotations: #rt::ToolAnnotations {
                read_only: #read_only,
                destructive: #destructive,
                idempotent: #idempotent,
                open_world: #open_world,
            },
            scopes: &[#(#scopes),*],
            headers: &[#(#headers),*],
            task: #task,
        }
    }}
}

/// The names of the `{placeholders}` in `scope`.
fn placeholders(scope: &str) -> Vec<String> {
    scope
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

fn input_schema(tool: &Tool) -> TokenStream {
    let rt = rt();
    if let Some(inner) = tool.params.iter().find_map(|p| match &p.kind {
        ParamKind::Args { inner } => Some(inner),
        _ => None,
    }) {
        let name = &tool.name;
        // Called here rather than inside `args_schema`, so that an `#inner` which is no
        // `ToolInput` is the same error as in `from_args` and is reported once.
        let schema = quote_spanned!(inner.span()=> <#inner as #rt::ToolInput>::root_schema());
        return quote!(#rt::args_schema::<#inner>(#name, #schema));
    }
    let specs = tool.params.iter().filter_map(|p| {
        let ty = &p.ty;
        match &p.kind {
            ParamKind::Input { name, description, optional, header } => {
                let description = option_lit(description.as_ref());
                let required = !optional;
                // A mirrored argument's schema is its header value's: one type, safe integers.
                let schema = if header.is_some() {
                    quote_spanned!(ty.span()=> <#ty as #rt::HeaderArg>::header_schema)
                } else {
                    quote_spanned!(ty.span()=> <#ty as #rt::ToolInput>::schema)
                };
                let header = option_lit(header.as_ref());
                Some(quote! {
                    ::core::option::Option::Some(#rt::ParamSpec {
                        name: #name, description: #description, required: #required, schema: #schema,
                        header: #header,
                    })
                })
            }
            // A provided value is no property; the type says whether it is one.
            ParamKind::Provided { name: Some(name), description } => {
                let description = option_lit(description.as_ref());
                Some(quote_spanned!(ty.span()=>
                    <#ty as #rt::ToolParam>::spec(#name, #description, true)))
            }
            ParamKind::Provided { name: None, .. } | ParamKind::Args { .. } => None,
        }
    });
    quote!(#rt::input_schema(&[#(#specs),*]))
}

/// `"name" => { read arguments; call; convert }`.
fn dispatch_arm(index: usize, tool: &Tool) -> TokenStream {
    let rt = rt();
    let name = &tool.name;
    let method = &tool.ident;
    let mut call = Call::default();
    for (i, p) in tool.params.iter().enumerate() {
        let var = format_ident!("__mcp_a{}", i);
        let ty = &p.ty;
        match &p.kind {
            ParamKind::Input { name, .. } => {
                let read = quote_spanned!(ty.span()=> <#ty as #rt::ToolInput>::from_arg(__mcp_args, #name));
                call.bind(&var, ty, &try_read(&read));
            }
            ParamKind::Args { inner } => {
                let read = quote_spanned!(inner.span()=>
                    <#inner as #rt::ToolInput>::from_args(__mcp_args));
                call.bind(&var, ty, &quote!(#rt::Args(#read?)));
            }
            ParamKind::Provided {
                name: Some(name), ..
            } => {
                let read = quote_spanned!(ty.span()=>
                    <#ty as #rt::FromArguments<Self>>::from_arguments(__mcp_args, #name, &__mcp_ctx));
                call.bind(&var, ty, &try_read(&read));
            }
            // Only a provided value may have a binding that is no plain name.
            ParamKind::Provided { name: None, .. } => {
                call.inject(p, &var, try_read);
            }
        }
    }
    let convert = |value: TokenStream| match &tool.returns.output {
        Output::Content => quote_spanned!(tool.returns.output_span=>
            #rt::IntoCallToolResult::into_call_tool_result(#value)),
        Output::Structured(ty) => {
            let into = quote_spanned!(ty.span()=> <#ty as #rt::ToolOutput>::into_result);
            quote!(#into(#value, Self::__mcp_descriptor().tools[#index].wraps_output))
        }
    };
    // A tool's error is a result too: `isError`, with the error's text.
    let result = result(tool.returns.error_span, convert, |span| {
        let err = quote_spanned!(span=> #rt::ToolErrorMessage::error_result(&__mcp_err));
        quote!(::core::result::Result::Ok(#err))
    });
    let body = call.finish(method, tool.calling(), &result);
    quote!(#name => #body)
}
