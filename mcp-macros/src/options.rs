//! `key = "…"` options shared by `#[resource]`, `#[prompt]` and `#[completion]`: every value
//! a string literal kept with its tokens, each key at most once, except the repeatable `icon`
//! where the attribute accepts it.

use syn::LitStr;
use syn::parse::Parser as _;

/// The name of an option: its identifier, or `""` for a longer path.
pub(crate) fn key(path: &syn::Path) -> String {
    path.get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// An option as an "unknown option" message names it: `` `key` ``, or `this` for a longer
/// path.
pub(crate) fn shown(path: &syn::Path) -> String {
    path.get_ident()
        .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"))
}

/// The options given, in the order written.
#[derive(Default)]
pub(crate) struct StrOptions {
    given: Vec<(&'static str, LitStr)>,
    /// The `icon` options, in order, when `icon` is one of the keys.
    pub(crate) icons: Vec<crate::icon::Icon>,
}

impl StrOptions {
    /// Parses `key = "…", …` for `#[attr(..)]`, accepting only `keys` (`icon` among them
    /// takes the icon syntax and repeats).
    pub(crate) fn parse(
        tokens: proc_macro2::TokenStream,
        attr: &str,
        keys: &[&'static str],
    ) -> syn::Result<Self> {
        let mut options = Self::default();
        let parser = syn::meta::parser(|meta| {
            let key = key(&meta.path);
            let Some(&key) = keys.iter().find(|k| **k == key) else {
                let shown = shown(&meta.path);
                let expected = keys
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(meta.error(format!(
                    "unknown `#[{attr}]` option {shown}; expected one of {expected}"
                )));
            };
            if key == "icon" {
                options.icons.push(crate::icon::parse(&meta)?);
                return Ok(());
            }
            if options.get(key).is_some() {
                return Err(meta.error(format!("`{key}` is given twice; keep one")));
            }
            if !meta.input.peek(syn::Token![=]) {
                return Err(meta.error(format!("write `{key} = \"…\"`")));
            }
            let lit: LitStr = meta.value()?.parse()?;
            options.given.push((key, lit));
            Ok(())
        });
        parser.parse2(tokens)?;
        Ok(options)
    }

    /// The value of `key`, if given.
    pub(crate) fn get(&self, key: &str) -> Option<&LitStr> {
        self.given.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// `name = "…"` (an error when blank), else the method's name, with where it is written;
    /// `what` names the feature in the error.
    pub(crate) fn name(
        &self,
        cx: &mut crate::ctxt::Ctxt,
        method: &syn::Ident,
        what: &str,
    ) -> (String, proc_macro2::Span) {
        let Some(lit) = self.get("name") else {
            return (crate::server::method_name(method), method.span());
        };
        if lit.value().trim().is_empty() {
            cx.error_at(lit, format!("a {what} name cannot be empty"));
        }
        (lit.value(), lit.span())
    }

    /// Reads the options of `attr`: `#[attr]` has none, `#[attr(..)]` some.
    pub(crate) fn of_attr(
        cx: &mut crate::ctxt::Ctxt,
        attr: &syn::Attribute,
        name: &str,
        keys: &[&'static str],
    ) -> Self {
        match &attr.meta {
            syn::Meta::Path(_) => Self::default(),
            syn::Meta::List(list) => {
                Self::parse(list.tokens.clone(), name, keys).unwrap_or_else(|e| {
                    cx.push(e);
                    Self::default()
                })
            }
            syn::Meta::NameValue(nv) => {
                cx.error_at(nv, format!("write `#[{name}(option = \"…\", …)]`"));
                Self::default()
            }
        }
    }
}
