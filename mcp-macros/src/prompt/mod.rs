//! `#[prompt]`: one prompt, whose arguments are its `String` and `Option<String>`
//! parameters.

pub(crate) mod expand;

use syn::LitStr;

use crate::ctxt::Ctxt;
use crate::options::{Key, Options, Place, Takes};
use crate::param::{self, Kind, Owner, Param, ParamKind};
use crate::types::{ReturnSpans, is_option_string, is_string};

const KEYS: &[Key] = &[
    Key("name", Takes::Str),
    Key("title", Takes::Str),
    Key("description", Takes::Str),
    Key("icon", Takes::Icon),
    Key("scopes", Takes::Scopes),
];

/// One `#[prompt]` method.
pub(crate) struct Prompt {
    pub(crate) ident: syn::Ident,
    /// `name` (default: the method name).
    pub(crate) name: String,
    /// The `name = "…"` literal or the method name, for errors about the name.
    pub(crate) name_span: proc_macro2::Span,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<String>,
    pub(crate) icons: Vec<crate::icon::Icon>,
    /// `scopes = ["…"]`, checked against the server's `oauth` declaration, with the key.
    pub(crate) scopes: Vec<LitStr>,
    pub(crate) scopes_key: Option<syn::Path>,
    pub(crate) is_async: bool,
    pub(crate) params: Vec<Param>,
    pub(crate) returns: ReturnSpans,
}

impl Prompt {
    /// The argument names, in parameter order.
    pub(crate) fn arguments(&self) -> Vec<&str> {
        self.params
            .iter()
            .filter_map(|p| match &p.kind {
                ParamKind::Input { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Reads a method marked `#[prompt(..)]`.
    pub(crate) fn from_method(
        cx: &mut Ctxt,
        attr: &syn::Attribute,
        method: &mut syn::ImplItemFn,
    ) -> Option<Self> {
        let mut options = Options::of_attr(cx, attr, Place::attr("prompt"), KEYS);
        crate::icon::check(cx, &options.icons, "prompt");
        let (name, name_span) = options.name(cx, &method.sig.ident, "prompt");
        let owner = Owner {
            kind: Kind::Prompt,
            name: &name,
        };
        let params = param::params(cx, owner, &mut method.sig);
        for p in &params {
            match &p.kind {
                ParamKind::Input { name: arg, .. } => {
                    if !is_string(&p.ty) && !is_option_string(&p.ty) {
                        cx.error_at(
                            &p.ty,
                            format!(
                                "prompt arguments are strings; take `{arg}: String` (required) or `{arg}: Option<String>` (optional) and parse it in the method"
                            ),
                        );
                    }
                }
                ParamKind::Args { .. } => cx.error_at(
                    &p.ty,
                    "prompt arguments are strings, each its own parameter; take `String` or `Option<String>` parameters instead of `Args<T>`",
                ),
                ParamKind::Provided { .. } => {}
            }
        }
        let returns = owner.returns(
            cx,
            &method.sig,
            "`String`, `PromptMessage`, `Vec<PromptMessage>` or `GetPromptResult`",
        )?;
        let (scopes_key, scopes) = match options.list("scopes") {
            Some((key, scopes)) => (Some(key.clone()), scopes.to_vec()),
            None => (None, Vec::new()),
        };
        Some(Self {
            scopes,
            scopes_key,
            ident: method.sig.ident.clone(),
            description: crate::names::description(options.str("description"), &method.attrs),
            title: options.str("title").cloned(),
            icons: std::mem::take(&mut options.icons),
            name,
            name_span,
            is_async: method.sig.asyncness.is_some(),
            params,
            returns,
        })
    }
}
