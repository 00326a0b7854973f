//! Paths, keywords and type helpers shared by the expansions.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned as _;

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
pub(crate) fn result_parts(ty: &syn::Type) -> Option<(&syn::Type, Span)> {
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

/// A list of names for a message: "`a`, `b`", or `none` when empty.
pub(crate) fn listed<S: AsRef<str>>(names: &[S], none: &str) -> String {
    if names.is_empty() {
        return none.to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name within edit distance 2 of `value`, if any.
pub(crate) fn nearest<'a, S: AsRef<str>>(value: &str, names: &'a [S]) -> Option<&'a str> {
    names
        .iter()
        .map(|d| (distance(value, d.as_ref()), d.as_ref()))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_found() {
        let declared = ["notes:read".to_owned(), "notes:write".to_owned()];
        assert_eq!(nearest("notes:wrte", &declared), Some("notes:write"));
        assert_eq!(nearest("notes:red", &declared), Some("notes:read"));
        assert_eq!(nearest("admin", &declared), None);
    }
}
