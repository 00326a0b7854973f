//! The path every generated item starts at.

use proc_macro2::TokenStream;
use quote::quote;

/// The runtime support module every generated path starts at.
pub(crate) fn rt() -> TokenStream {
    quote!(::mcp_runtime::__private)
}
