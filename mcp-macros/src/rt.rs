//! Paths and keywords shared by the expansions.

use proc_macro2::TokenStream;
use quote::quote;

/// The runtime support module every generated path starts at.
pub(crate) fn rt() -> TokenStream {
    quote!(::mcp_runtime::__private)
}

/// Keywords of the attribute grammars.
pub(crate) mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(version);
    syn::custom_keyword!(title);
    syn::custom_keyword!(instructions);
    syn::custom_keyword!(stateless);
    syn::custom_keyword!(description);
}

/// The last segment's identifier of a path type, e.g. `Option` for `std::option::Option<T>`.
pub(crate) fn last_ident(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        syn::Type::Group(g) => last_ident(&g.elem),
        syn::Type::Paren(p) => last_ident(&p.elem),
        _ => None,
    }
}

/// The first generic type argument of a path segment: `T` in `Option<T>`.
pub(crate) fn first_type_arg(segment: &syn::PathSegment) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}
