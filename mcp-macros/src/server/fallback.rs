//! After an error: a stub `impl McpServer`, so one mistake gives one error rather than one
//! at every use of the server.

use proc_macro2::TokenStream;
use quote::quote;

use crate::rt::rt;

pub(crate) fn fallback(self_ty: &syn::Type, args: &super::args::ServerArgs) -> TokenStream {
    let rt = rt();
    let marker = super::expand::markers(self_ty, args);
    let call_tool = super::expand::call_tool(&quote! {
        ::core::unreachable!("`#[mcp_server]` failed to expand")
    });
    quote! {
        #[automatically_derived]
        #[allow(clippy::all, clippy::pedantic, unused)]
        impl #rt::McpServer for #self_ty {
            fn __descriptor() -> &'static #rt::ServerDescriptor {
                ::core::unreachable!("`#[mcp_server]` failed to expand")
            }
            #call_tool
        }
        #marker
    }
}
