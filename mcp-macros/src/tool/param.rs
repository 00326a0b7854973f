//! A tool's parameters: read from the JSON arguments, or injected by type.

use quote::quote;
use syn::{FnArg, LitStr, Pat, Type};

use crate::ctxt::Ctxt;
use crate::rt::{first_type_arg, last_ident};

/// One parameter of a tool method.
pub(crate) struct Param {
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

pub(crate) enum ParamKind {
    /// One JSON argument named after the binding.
    Input {
        name: String,
        description: Option<LitStr>,
        optional: bool,
    },
    /// `Args<T>`: the whole arguments object.
    Args { inner: Type },
    /// `RequestContext`, injected.
    Context,
    /// `Auth` or `Auth<C>`, the verified caller; needs `oauth` on the server.
    Auth,
}

/// Reads the parameters of a tool, removing the `#[arg(..)]` attributes it consumes.
pub(crate) fn params(cx: &mut Ctxt, tool: &str, sig: &mut syn::Signature) -> Vec<Param> {
    let mut out = Vec::new();
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(FnArg::Receiver(r)) => {
            cx.error_at(
                r,
                format!(
                    "tool `{tool}` must take `&self`: tools run concurrently; keep mutable state behind a `Mutex` or an atomic"
                ),
            );
        }
        _ => cx.error_at(
            &sig.ident,
            format!("tool `{tool}` is a method: add `&self` as its first parameter"),
        ),
    }
    for input in &mut sig.inputs {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let mut description = None;
        let mut keep = Vec::new();
        for attr in pat_type.attrs.drain(..) {
            if attr.path().is_ident("arg") {
                let parsed = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("description") {
                        description = Some(meta.value()?.parse::<LitStr>()?);
                        Ok(())
                    } else {
                        let shown = meta
                            .path
                            .get_ident()
                            .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"));
                        Err(meta.error(format!(
                            "unknown `#[arg]` option {shown}; expected `description = \"…\"`"
                        )))
                    }
                });
                if let Err(e) = parsed {
                    cx.push(e);
                }
            } else {
                keep.push(attr);
            }
        }
        pat_type.attrs = keep;
        let ty = (*pat_type.ty).clone();
        if let Type::Reference(r) = &ty {
            let owned = match &*r.elem {
                Type::Slice(s) => {
                    let elem = &s.elem;
                    type_text(&quote!(Vec<#elem>))
                }
                elem if last_ident(elem).is_some_and(|s| s.ident == "str") => "String".to_owned(),
                elem => type_text(&quote!(#elem)),
            };
            cx.error_at(
                &pat_type.ty,
                format!(
                    "tool `{tool}` reads its arguments from JSON, so they cannot be borrowed; take `{owned}` instead"
                ),
            );
            continue;
        }
        let segment = last_ident(&ty);
        let kind = match segment.map(|s| s.ident.to_string()).as_deref() {
            Some("RequestContext") => ParamKind::Context,
            Some("Auth") => ParamKind::Auth,
            Some("Args") => {
                let Some(inner) = segment.and_then(first_type_arg) else {
                    cx.error_at(
                        &pat_type.ty,
                        "write the arguments type: `Args<MyArguments>`",
                    );
                    continue;
                };
                ParamKind::Args {
                    inner: inner.clone(),
                }
            }
            _ => {
                let name = match &*pat_type.pat {
                    Pat::Ident(p) if p.subpat.is_none() => {
                        p.ident.to_string().trim_start_matches("r#").to_owned()
                    }
                    other => {
                        cx.error_at(
                            other,
                            format!(
                                "tool `{tool}` names each argument in JSON after its binding, so it must be a plain name like `point: Point`; to destructure, take `Args<T>`"
                            ),
                        );
                        continue;
                    }
                };
                let optional = segment.is_some_and(|s| s.ident == "Option");
                ParamKind::Input {
                    name,
                    description,
                    optional,
                }
            }
        };
        out.push(Param { ty, kind });
    }
    let args: Vec<_> = out
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Args { .. }))
        .collect();
    let inputs = out
        .iter()
        .filter(|p| matches!(p.kind, ParamKind::Input { .. }))
        .count();
    if args.len() > 1 {
        cx.error_at(
            &args[1].ty,
            format!("tool `{tool}` takes `Args<T>` twice; one struct holds all arguments"),
        );
    } else if args.len() == 1 && inputs > 0 {
        cx.error_at(
            &args[0].ty,
            format!("tool `{tool}` mixes `Args<T>` with other arguments; put them all in the `Args` struct"),
        );
    }
    if !sig.generics.params.is_empty() {
        cx.error_at(
            &sig.generics,
            format!(
                "tool `{tool}` cannot be generic: its schema is fixed at compile time; take a concrete type"
            ),
        );
    }
    out
}

/// A type as the user would write it: `Vec<u8>`, not `Vec < u8 >`.
fn type_text(tokens: &proc_macro2::TokenStream) -> String {
    let mut text = tokens.to_string();
    for (from, to) in [(" < ", "<"), (" >", ">"), (" :: ", "::"), (" ,", ",")] {
        text = text.replace(from, to);
    }
    text
}
