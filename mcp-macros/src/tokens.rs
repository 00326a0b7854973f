//! Small token shapes shared by the expansions of descriptors.

use proc_macro2::TokenStream;
use quote::quote;

use crate::rt::rt;

/// `Some(lit)` / `None` as tokens.
pub(crate) fn option_lit(lit: Option<&syn::LitStr>) -> TokenStream {
    if let Some(l) = lit {
        quote!(::core::option::Option::Some(#l))
    } else {
        quote!(::core::option::Option::None)
    }
}

/// `Some(String::from(text))` / `None` as tokens.
pub(crate) fn option_string(text: Option<&String>) -> TokenStream {
    let rt = rt();
    if let Some(d) = text {
        quote!(::core::option::Option::Some(#rt::std::string::String::from(#d)))
    } else {
        quote!(::core::option::Option::None)
    }
}
