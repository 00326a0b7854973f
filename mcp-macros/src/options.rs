//! `key = "…"` options shared by `#[resource]`, `#[prompt]` and `#[completion]`: every value
//! a string literal kept with its tokens, each key at most once, except the repeatable `icon`
//! where the attribute accepts it.

use syn::LitStr;
use syn::parse::Parser as _;

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
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            let Some(&key) = keys.iter().find(|k| **k == key) else {
                let shown = meta
                    .path
                    .get_ident()
                    .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"));
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
