//! `#[completion(prompt = "…" | resource = "…", argument = "…")]`: the method that suggests
//! values for one prompt argument or resource template variable while the user types it.

pub(crate) mod expand;

use syn::LitStr;

use crate::ctxt::Ctxt;
use crate::options::{Key, Options, Place, Takes};
use crate::param::{self, Kind, Owner, Param, ParamKind};
use crate::types::{ReturnSpans, is_string, last_ident};

const KEYS: &[Key] = &[
    Key("prompt", Takes::Str),
    Key("resource", Takes::Str),
    Key("argument", Takes::Str),
];

/// What a completion completes, as written.
pub(crate) enum Target {
    /// `prompt = "…"`.
    Prompt(LitStr),
    /// `resource = "…"`: a URI template.
    Resource(LitStr),
}

/// One `#[completion]` method.
pub(crate) struct Completion {
    pub(crate) ident: syn::Ident,
    pub(crate) target: Target,
    pub(crate) argument: LitStr,
    pub(crate) is_async: bool,
    /// The parameters, each read as the value, the context, or injected.
    pub(crate) params: Vec<(Param, Role)>,
    pub(crate) returns: ReturnSpans,
}

/// What one parameter of a completion method receives.
pub(crate) enum Role {
    /// The value typed so far.
    Value,
    /// The other arguments (`CompletionContext`).
    Context,
    /// `RequestContext`, `Session` or `Auth`.
    Injected,
}

impl Completion {
    /// Reads a method marked `#[completion(..)]`.
    pub(crate) fn from_method(
        cx: &mut Ctxt,
        attr: &syn::Attribute,
        method: &mut syn::ImplItemFn,
    ) -> Option<Self> {
        let options = Options::of_attr(cx, attr, Place::attr("completion"), KEYS);
        let name = crate::names::method_name(&method.sig.ident);
        let owner = Owner {
            kind: Kind::Completion,
            name: &name,
        };
        let params = param::params(cx, owner, &mut method.sig);
        let target = match (options.str("prompt"), options.str("resource")) {
            (Some(p), None) => Target::Prompt(p.clone()),
            (None, Some(r)) => Target::Resource(r.clone()),
            (Some(_), Some(r)) => {
                cx.error_at(
                    r,
                    format!(
                        "completion `{name}` names both a prompt and a resource; one method completes one of them"
                    ),
                );
                return None;
            }
            (None, None) => {
                cx.error_at(
                    attr,
                    format!(
                        "completion `{name}` needs what it completes: `prompt = \"…\"` or `resource = \"…\"` (a URI template), and `argument = \"…\"`"
                    ),
                );
                return None;
            }
        };
        let Some(argument) = options.str("argument").cloned() else {
            cx.error_at(
                attr,
                format!("completion `{name}` needs the argument it completes: `argument = \"…\"`"),
            );
            return None;
        };
        let mut roles = Vec::new();
        let mut value_seen = false;
        let mut rejected = false;
        for p in params {
            let role = match &p.kind {
                ParamKind::Input { .. }
                    if last_ident(&p.ty).is_some_and(|s| s.ident == "CompletionContext") =>
                {
                    Role::Context
                }
                ParamKind::Input { .. } if is_string(&p.ty) && !value_seen => {
                    value_seen = true;
                    Role::Value
                }
                ParamKind::Provided { .. } => Role::Injected,
                _ => {
                    cx.error_at(
                        &p.ty,
                        format!(
                            "completion `{name}` takes the value typed so far as one `String`, and optionally `RequestContext` and `CompletionContext`: `fn {name}(&self, value: String, context: CompletionContext)`"
                        ),
                    );
                    rejected = true;
                    continue;
                }
            };
            roles.push((p, role));
        }
        if !value_seen && !rejected {
            cx.error_at(
                &method.sig.ident,
                format!(
                    "completion `{name}` needs the value typed so far: add `value: String` after `&self`"
                ),
            );
        }
        let returns = owner.returns(cx, &method.sig, "`Vec<String>` or `Completion`")?;
        Some(Self {
            ident: method.sig.ident.clone(),
            target,
            argument,
            is_async: method.sig.asyncness.is_some(),
            params: roles,
            returns,
        })
    }
}
