//! After an error: a stub `impl McpServer`, so one mistake gives one error rather than one
//! at every use of the server.

use proc_macro2::TokenStream;
use quote::quote;

use crate::rt::rt;

pub(crate) fn fallback(self_ty: &syn::Type, args: &super::args::ServerArgs) -> TokenStream {
    let rt = rt();
    let marker = super::expand::markers(self_ty, args);
    quote! {
        #[automatically_derived]
        #[allow(clippy::all, clippy::pedantic, unused)]
        impl #rt::McpServer for #self_ty {
            fn __descriptor() -> &'static #rt::ServerDescriptor {
                ::core::unreachable!("`#[mcp_server]` failed to expand")
            }
            fn __call_tool<'a>(
                &'a self,
                _name: &'a str,
                _arguments: &'a #rt::serde_json::Map<#rt::std::string::String, #rt::serde_json::Value>,
                _ctx: #rt::RequestContext,
            ) -> #rt::ToolFuture<'a>
            where
                for<'__mcp> Self: ::core::marker::Sync,
            {
                ::core::unreachable!("`#[mcp_server]` failed to expand")
            }
        }
        #marker
    }
}
