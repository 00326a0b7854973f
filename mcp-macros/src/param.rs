//! The parameters of a tool, resource, prompt or completion method: read from the request,
//! or injected by type.

use quote::quote;
use syn::{FnArg, LitStr, Pat, Type};

use crate::ctxt::Ctxt;
use crate::options::{Key, Options, Place, Takes};
use crate::types::{ReturnSpans, first_type_arg, last_ident, return_spans, type_text};

/// The options of `#[arg(..)]` on a parameter.
const ARG_KEYS: &[Key] = &[Key("description", Takes::Str), Key("header", Takes::Str)];

/// What a method is, for messages about its parameters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tool,
    Resource,
    Prompt,
    Completion,
}

impl Kind {
    /// `tool`, `resource`, …, as the user says it.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Tool => "tool",
            Self::Resource => "resource",
            Self::Prompt => "prompt",
            Self::Completion => "completion",
        }
    }
}

/// The method whose parameters are read: its kind and MCP name (the method name for a
/// completion).
#[derive(Clone, Copy)]
pub(crate) struct Owner<'a> {
    pub(crate) kind: Kind,
    pub(crate) name: &'a str,
}

impl Owner<'_> {
    /// What the method returns, or an error at its name when it returns nothing: "{owner}
    /// returns nothing; return {expected}".
    pub(crate) fn returns(
        self,
        cx: &mut Ctxt,
        sig: &syn::Signature,
        expected: &str,
    ) -> Option<ReturnSpans> {
        let returns = return_spans(&sig.output);
        if returns.is_none() {
            cx.error_at(
                &sig.ident,
                format!("{self} returns nothing; return {expected}"),
            );
        }
        returns
    }
}

impl std::fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}`", self.kind.noun(), self.name)
    }
}

/// One parameter of a method.
pub(crate) struct Param {
    /// The binding, for errors about the parameter as a whole.
    pub(crate) pat: Box<Pat>,
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

pub(crate) enum ParamKind {
    /// One JSON argument named after the binding.
    Input {
        name: String,
        description: Option<LitStr>,
        optional: bool,
        /// `#[arg(header = "…")]`: the `Mcp-Param-*` header the argument is mirrored into,
        /// checked (an HTTP token, unique within the tool).
        header: Option<LitStr>,
    },
    /// `Args<T>`: the whole arguments object.
    Args { inner: Type },
    /// Spelled like a value the runtime provides (`RequestContext`, `Session`, `Auth`), so
    /// read by type: provided when it is one; for a tool, otherwise the argument `name`
    /// (`None` when the binding is no plain name, which only a provided value may have).
    Provided {
        name: Option<String>,
        description: Option<LitStr>,
    },
}

/// Reads the parameters of a method, removing the `#[arg(..)]` attributes it consumes.
pub(crate) fn params(cx: &mut Ctxt, owner: Owner<'_>, sig: &mut syn::Signature) -> Vec<Param> {
    let mut out = Vec::new();
    let tool = owner.name;
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(FnArg::Receiver(r)) => {
            cx.error_at(
                r,
                format!(
                    "{owner} must take `&self`: {}s run concurrently; keep mutable state behind a `Mutex` or an atomic",
                    owner.kind.noun()
                ),
            );
        }
        _ => cx.error_at(
            &sig.ident,
            format!("{owner} is a method: add `&self` as its first parameter"),
        ),
    }
    for input in &mut sig.inputs {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let mut description = None;
        let mut header = None;
        let mut keep = Vec::new();
        for attr in pat_type.attrs.drain(..) {
            if attr.path().is_ident("arg") {
                let options = Options::of_attr(cx, &attr, Place::attr("arg"), ARG_KEYS);
                description = options.str("description").cloned();
                header = options.str("header").cloned();
            } else {
                keep.push(attr);
            }
        }
        pat_type.attrs = keep;
        let ty = (*pat_type.ty).clone();
        if let Type::Reference(r) = &ty {
            let owned_ty = match &*r.elem {
                Type::Slice(s) => {
                    let elem = &s.elem;
                    type_text(&quote!(Vec<#elem>))
                }
                elem if last_ident(elem).is_some_and(|s| s.ident == "str") => "String".to_owned(),
                elem => type_text(&quote!(#elem)),
            };
            let why = match owner.kind {
                Kind::Tool => "reads its arguments from JSON",
                Kind::Resource => "reads its parameters from the URI",
                Kind::Prompt | Kind::Completion => "receives its arguments as owned strings",
            };
            cx.error_at(
                &pat_type.ty,
                format!("{owner} {why}, so they cannot be borrowed; take `{owned_ty}` instead"),
            );
            continue;
        }
        let segment = last_ident(&ty);
        let plain_name = match &*pat_type.pat {
            Pat::Ident(p) if p.subpat.is_none() => {
                Some(p.ident.to_string().trim_start_matches("r#").to_owned())
            }
            _ => None,
        };
        if let Some(header) = &header
            && owner.kind != Kind::Tool
        {
            cx.error_at(
                header,
                format!(
                    "{owner} cannot mirror a parameter into a header: `Mcp-Param-*` headers carry tool arguments"
                ),
            );
        }
        let kind = match segment.map(|s| s.ident.to_string()).as_deref() {
            // By spelling only; the type decides (`ToolParam`, `FromCaller`).
            Some(spelled @ ("RequestContext" | "Auth" | "Session")) => {
                if let Some(header) = &header {
                    cx.error_at(
                        header,
                        format!("`{spelled}` is provided by the runtime, not sent by the client, so it cannot be mirrored into a header"),
                    );
                }
                ParamKind::Provided {
                    name: plain_name,
                    description,
                }
            }
            Some("Args") => {
                if let Some(header) = &header {
                    cx.error_at(
                        header,
                        format!("tool `{tool}` takes its arguments as one struct, which is no header value; put `#[arg(header = ..)]` on a string, integer or boolean parameter of its own"),
                    );
                }
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
                let name = match (plain_name, &*pat_type.pat) {
                    (Some(name), _) => name,
                    (None, other) => {
                        let message = if owner.kind == Kind::Tool {
                            format!(
                                "tool `{tool}` names each argument in JSON after its binding, so it must be a plain name like `point: Point`; to destructure, take `Args<T>`"
                            )
                        } else {
                            format!(
                                "{owner} names each argument after its binding, so it must be a plain name like `id: String`"
                            )
                        };
                        cx.error_at(other, message);
                        continue;
                    }
                };
                let optional = segment.is_some_and(|s| s.ident == "Option");
                ParamKind::Input {
                    name,
                    description,
                    optional,
                    header,
                }
            }
        };
        out.push(Param {
            pat: pat_type.pat.clone(),
            ty,
            kind,
        });
    }
    if owner.kind == Kind::Tool {
        check_headers(cx, owner, &out);
    }
    // `Args<T>` is a tool's; for the other kinds the caller reports it in its own terms.
    let args: Vec<_> = out
        .iter()
        .filter(|p| owner.kind == Kind::Tool && matches!(p.kind, ParamKind::Args { .. }))
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
        let message = if owner.kind == Kind::Tool {
            format!(
                "tool `{tool}` cannot be generic: its schema is fixed at compile time; take a concrete type"
            )
        } else {
            format!("{owner} cannot be generic; take concrete types")
        };
        cx.error_at(&sig.generics, message);
    }
    out
}

/// The header names of a tool's mirrored arguments: each an HTTP token (RFC 9110), which
/// `Mcp-Param-` prefixes, and no two the same whatever their case.
fn check_headers(cx: &mut Ctxt, owner: Owner<'_>, params: &[Param]) {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for p in params {
        let ParamKind::Input {
            name,
            header: Some(header),
            ..
        } = &p.kind
        else {
            continue;
        };
        let value = header.value();
        if value.is_empty() {
            cx.error_at(
                header,
                format!("the header of `{name}` needs a name: `Mcp-Param-` is followed by it, for instance `header = \"Region\"`"),
            );
            continue;
        }
        if let Some(bad) = value.chars().find(|c| !is_token_char(*c)) {
            cx.error_at(
                header,
                format!(
                    "`{value}` is no HTTP header name: {bad:?} is not allowed (letters, digits and {TOKEN_PUNCTUATION} are)"
                ),
            );
            continue;
        }
        let lower = value.to_ascii_lowercase();
        if let Some((_, first)) = seen.iter().find(|(l, _)| *l == lower) {
            cx.error_at(
                header,
                format!(
                    "{owner} already mirrors `{first}` into `Mcp-Param-{value}`: header names ignore case, so each argument needs a header of its own"
                ),
            );
            continue;
        }
        seen.push((lower, name));
    }
}

/// What an HTTP token may contain besides letters and digits (RFC 9110, section 5.6.2).
const TOKEN_PUNCTUATION: &str = "!#$%&'*+-.^_`|~";

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || TOKEN_PUNCTUATION.contains(c)
}
