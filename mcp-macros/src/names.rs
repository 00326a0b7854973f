//! What a method's declaration says of the item it declares: its MCP name and its
//! description.

use syn::{Attribute, LitStr};

/// The method's name as an MCP name: without `r#`.
pub(crate) fn method_name(ident: &syn::Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_owned()
}

/// The `description = "…"` given, else the doc comment.
pub(crate) fn description(given: Option<&LitStr>, attrs: &[Attribute]) -> Option<String> {
    given.map(LitStr::value).or_else(|| doc_text(attrs))
}

/// The doc comment: each line without its leading space, trimmed as a whole.
fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}
