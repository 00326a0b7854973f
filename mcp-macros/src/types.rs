//! The shapes of types as written: the macro sees spelling only, so these read a type's
//! syntax (`Option<String>`, `Result<T, E>`) and never decide what a type is.

use proc_macro2::Span;
use syn::spanned::Spanned as _;

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

/// Whether `ty` is written `String` (or a path ending in it), without arguments.
pub(crate) fn is_string(ty: &syn::Type) -> bool {
    last_ident(ty).is_some_and(|s| s.ident == "String" && s.arguments.is_none())
}

/// Whether `ty` is written `Option<String>`.
pub(crate) fn is_option_string(ty: &syn::Type) -> bool {
    last_ident(ty).is_some_and(|s| s.ident == "Option" && first_type_arg(s).is_some_and(is_string))
}

/// The parts of a return type, for conversions spanned where they are written.
pub(crate) struct ReturnSpans {
    /// The value's type (`T` of `Result<T, E>`).
    pub(crate) ok: syn::Type,
    /// For `Result<T, E>`: where `E` is written (the whole type when it is an alias).
    pub(crate) error: Option<Span>,
}

/// The spans of a return type; `None` for `()`, written or not.
pub(crate) fn return_spans(output: &syn::ReturnType) -> Option<ReturnSpans> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    if matches!(&**ty, syn::Type::Tuple(t) if t.elems.is_empty()) {
        return None;
    }
    if let Some((ok, error)) = result_parts(ty) {
        return Some(ReturnSpans {
            ok: ok.clone(),
            error: Some(error),
        });
    }
    Some(ReturnSpans {
        ok: (**ty).clone(),
        error: None,
    })
}

/// For `Result<T, E>`: `T`, and where `E` is written (the whole type when it is an alias).
fn result_parts(ty: &syn::Type) -> Option<(&syn::Type, Span)> {
    let segment = last_ident(ty).filter(|s| s.ident == "Result")?;
    let ok = first_type_arg(segment)?;
    let error = match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.span()),
                _ => None,
            })
            .nth(1),
        _ => None,
    }
    .unwrap_or_else(|| ty.span());
    Some((ok, error))
}

/// A type as the user would write it: `Vec<u8>`, not `Vec < u8 >`.
pub(crate) fn type_text(tokens: &proc_macro2::TokenStream) -> String {
    let mut text = tokens.to_string();
    for (from, to) in [(" < ", "<"), (" >", ">"), (" :: ", "::"), (" ,", ",")] {
        text = text.replace(from, to);
    }
    text
}
