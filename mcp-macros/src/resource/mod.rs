//! `#[resource(uri = "…")]` and `#[resource(uri_template = "…")]`: one resource or resource
//! template, its URI checked and its template variables matched to the method's parameters.

pub(crate) mod expand;
pub(crate) mod uri;

use syn::LitStr;

use crate::ctxt::Ctxt;
use crate::message::listed;
use crate::options::{Key, Options, Place, Takes};
use crate::param::{self, Kind, Owner, Param, ParamKind};
use crate::types::{ReturnSpans, is_string};

const KEYS: &[Key] = &[
    Key("uri", Takes::Str),
    Key("uri_template", Takes::Str),
    Key("name", Takes::Str),
    Key("title", Takes::Str),
    Key("description", Takes::Str),
    Key("mime_type", Takes::Str),
    Key("icon", Takes::Icon),
    Key("scopes", Takes::Scopes),
];

/// One `#[resource]` method.
pub(crate) struct Resource {
    pub(crate) ident: syn::Ident,
    /// `name` (default: the method name).
    pub(crate) name: String,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<String>,
    pub(crate) mime_type: Option<LitStr>,
    pub(crate) icons: Vec<crate::icon::Icon>,
    /// `scopes = ["…"]`, checked against the server's `oauth` declaration, with the key.
    pub(crate) scopes: Vec<LitStr>,
    pub(crate) scopes_key: Option<syn::Path>,
    /// The `uri` or `uri_template` literal.
    pub(crate) lit: LitStr,
    pub(crate) address: Address,
    pub(crate) is_async: bool,
    pub(crate) params: Vec<Param>,
    pub(crate) returns: ReturnSpans,
}

/// Where a resource is.
pub(crate) enum Address {
    /// `uri = "…"`.
    Fixed(String),
    /// `uri_template = "…"`, split into literals and variables.
    Template(String, Vec<uri::Part>),
}

impl Resource {
    /// The URI or template as written.
    pub(crate) fn uri(&self) -> &str {
        match &self.address {
            Address::Fixed(u) | Address::Template(u, _) => u,
        }
    }

    /// The template's variables, in order (none for a fixed URI).
    pub(crate) fn variables(&self) -> Vec<&str> {
        match &self.address {
            Address::Fixed(_) => Vec::new(),
            Address::Template(_, parts) => parts
                .iter()
                .filter_map(|p| match p {
                    uri::Part::Variable(v) => Some(v.as_str()),
                    uri::Part::Literal(_) => None,
                })
                .collect(),
        }
    }

    /// Reads a method marked `#[resource(..)]`; `None` after an error that leaves nothing to
    /// check further.
    pub(crate) fn from_method(
        cx: &mut Ctxt,
        attr: &syn::Attribute,
        method: &mut syn::ImplItemFn,
    ) -> Option<Self> {
        let mut options = Options::of_attr(cx, attr, Place::attr("resource"), KEYS);
        let what = if options.str("uri_template").is_some() {
            "resource template"
        } else {
            "resource"
        };
        crate::icon::check(cx, &options.icons, what);
        let (name, _) = options.name(cx, &method.sig.ident, "resource");
        let owner = Owner {
            kind: Kind::Resource,
            name: &name,
        };
        let params = param::params(cx, owner, &mut method.sig);
        let (lit, address) = match (options.str("uri"), options.str("uri_template")) {
            (Some(lit), None) => {
                let value = lit.value();
                if let Err(why) = uri::check_uri(&value) {
                    cx.error_at(lit, why);
                }
                (lit.clone(), Address::Fixed(value))
            }
            (None, Some(lit)) => {
                let value = lit.value();
                let parts = uri::parse_template(&value).unwrap_or_else(|why| {
                    cx.error_at(lit, why);
                    Vec::new()
                });
                (lit.clone(), Address::Template(value, parts))
            }
            (Some(_), Some(second)) => {
                cx.error_at(
                    second,
                    format!("resource `{name}` has both `uri` and `uri_template`; keep one"),
                );
                return None;
            }
            (None, None) => {
                cx.error_at(
                    attr,
                    format!(
                        "resource `{name}` needs an address: `uri = \"myapp://…\"`, or `uri_template = \"myapp://…/{{id}}\"` to read values from it"
                    ),
                );
                return None;
            }
        };
        let returns = owner.returns(
            cx,
            &method.sig,
            "its contents: `String`, `Blob`, `ResourceContents` or `Vec<ResourceContents>`",
        )?;
        let (scopes_key, scopes) = match options.list("scopes") {
            Some((key, scopes)) => (Some(key.clone()), scopes.to_vec()),
            None => (None, Vec::new()),
        };
        let resource = Self {
            scopes,
            scopes_key,
            ident: method.sig.ident.clone(),
            description: crate::names::description(options.str("description"), &method.attrs),
            title: options.str("title").cloned(),
            mime_type: options.str("mime_type").cloned(),
            icons: std::mem::take(&mut options.icons),
            name,
            lit,
            address,
            is_async: method.sig.asyncness.is_some(),
            params,
            returns,
        };
        resource.check_params(cx, &method.sig.ident);
        Some(resource)
    }

    /// Every template variable is a `String` parameter of the same name, and every other
    /// parameter is injected.
    fn check_params(&self, cx: &mut Ctxt, method: &syn::Ident) {
        let variables = self.variables();
        let template_is_valid = match &self.address {
            Address::Fixed(_) => true,
            Address::Template(_, parts) => !parts.is_empty(),
        };
        for p in &self.params {
            match &p.kind {
                ParamKind::Input {
                    name, description, ..
                } => {
                    if let Some(description) = description {
                        cx.error_at(
                            description,
                            format!(
                                "resource `{}` is read by URI, so its parameters take no `#[arg(description)]`; describe the resource instead",
                                self.name
                            ),
                        );
                    }
                    if let Address::Fixed(uri) = &self.address {
                        cx.error_at(
                            &p.pat,
                            format!(
                                "resource `{}` has a fixed URI, so it takes no `{name}`; to read `{name}` from the URI, write `uri_template = \"{uri}/{{{name}}}\"`",
                                self.name
                            ),
                        );
                    } else if template_is_valid && !variables.contains(&name.as_str()) {
                        cx.error_at(
                            &p.pat,
                            format!(
                                "parameter `{name}` of resource `{}` is not a variable of its template `{}`; its variables are {}; add `{{{name}}}` to the template, or remove the parameter",
                                self.name,
                                self.uri(),
                                listed(&variables, "none")
                            ),
                        );
                    } else if !is_string(&p.ty) {
                        cx.error_at(
                            &p.ty,
                            format!(
                                "template variable `{name}` is read from the URI as text; take `{name}: String` and parse it in the method"
                            ),
                        );
                    }
                }
                ParamKind::Args { .. } => cx.error_at(
                    &p.ty,
                    format!(
                        "resource `{}` reads its parameters from its URI template; `Args<T>` is for tools",
                        self.name
                    ),
                ),
                ParamKind::Provided { .. } => {}
            }
        }
        for variable in variables {
            let taken = self.params.iter().any(
                |p| matches!(&p.kind, ParamKind::Input { name, .. } if name.as_str() == variable),
            );
            if !taken {
                cx.error_at(
                    &self.lit,
                    format!(
                        "template variable `{variable}` of resource `{}` has no parameter; add `{variable}: String` to `fn {method}`",
                        self.name
                    ),
                );
            }
        }
    }
}
