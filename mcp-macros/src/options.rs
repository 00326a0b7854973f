//! The one parser of attribute options, `key = "…"`, `flag`, `key = ["…"]`, `key(..)`, for
//! `#[mcp_server]`, `#[tool]`, `#[resource]`, `#[prompt]`, `#[completion]`, `#[arg]` and the
//! nested `oauth(..)` and `icon(..)`: each key known and given at most once (except the
//! repeatable `icon`), every value kept with its tokens.

use syn::LitStr;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser as _;

/// What one key takes.
#[derive(Clone, Copy)]
pub(crate) enum Takes {
    /// `key = "…"`.
    Str,
    /// `key` or `key = true | false`.
    Bool,
    /// `key` alone.
    Flag,
    /// `key = ["…", …]`.
    List,
    /// `key = ["…", …]` of OAuth scopes, each checked.
    Scopes,
    /// `key = "…"` or `key(..)`, repeatable: an icon.
    Icon,
    /// `key` or `key(..)` with these options.
    Nested(&'static [Key]),
}

/// A key and what it takes.
#[derive(Clone, Copy)]
pub(crate) struct Key(pub(crate) &'static str, pub(crate) Takes);

/// The value given for a key.
pub(crate) enum Value {
    Str(LitStr),
    Bool(bool),
    Flag,
    List(Vec<LitStr>),
    Nested(Options),
}

/// Where the options are written, for messages: `tool` for `#[tool(..)]` ("unknown
/// `#[tool]` option"), or a nested list such as `icon` for `icon(..)` ("unknown `icon`
/// option"), and what follows "is given twice" (` in this icon`).
#[derive(Clone, Copy)]
pub(crate) struct Place {
    pub(crate) name: &'static str,
    pub(crate) within: &'static str,
    /// Whether the list is nested in an attribute: a repeated option is then marked at its
    /// key alone, else with its value.
    pub(crate) nested: bool,
}

impl Place {
    /// The options of the attribute `#[name(..)]`.
    pub(crate) const fn attr(name: &'static str) -> Self {
        Self {
            name,
            within: "",
            nested: false,
        }
    }

    /// The options of the nested list `name(..)`.
    pub(crate) const fn nested(name: &'static str, within: &'static str) -> Self {
        Self {
            name,
            within,
            nested: true,
        }
    }

    /// The place as messages write it: `` `#[tool]` `` or `` `icon` ``.
    fn shown(self) -> String {
        if self.nested {
            format!("`{}`", self.name)
        } else {
            format!("`#[{}]`", self.name)
        }
    }
}

/// The options given, in the order written.
#[derive(Default)]
pub(crate) struct Options {
    given: Vec<(&'static str, syn::Path, Value)>,
    /// The `icon` options, in order, when `icon` is one of the keys.
    pub(crate) icons: Vec<crate::icon::Icon>,
}

impl Options {
    /// Parses `tokens`, the inside of an attribute's parentheses.
    pub(crate) fn parse(
        tokens: proc_macro2::TokenStream,
        place: Place,
        keys: &[Key],
    ) -> syn::Result<Self> {
        let mut options = Self::default();
        syn::meta::parser(|meta| options.option(&meta, place, keys)).parse2(tokens)?;
        Ok(options)
    }

    /// Parses the parentheses after `meta`'s key: `key(..)`.
    pub(crate) fn parse_nested(
        meta: &ParseNestedMeta<'_>,
        place: Place,
        keys: &[Key],
    ) -> syn::Result<Self> {
        let mut options = Self::default();
        meta.parse_nested_meta(|inner| options.option(&inner, place, keys))?;
        Ok(options)
    }

    /// Reads the options of the attribute `attr` at `place`: `#[name]` has none,
    /// `#[name(..)]` some.
    pub(crate) fn of_attr(
        cx: &mut crate::ctxt::Ctxt,
        attr: &syn::Attribute,
        place: Place,
        keys: &[Key],
    ) -> Self {
        match &attr.meta {
            syn::Meta::Path(_) => Self::default(),
            syn::Meta::List(list) => {
                Self::parse(list.tokens.clone(), place, keys).unwrap_or_else(|e| {
                    cx.push(e);
                    Self::default()
                })
            }
            syn::Meta::NameValue(nv) => {
                let name = place.name;
                cx.error_at(nv, format!("write `#[{name}]` or `#[{name}(option, …)]`"));
                Self::default()
            }
        }
    }

    fn option(
        &mut self,
        meta: &ParseNestedMeta<'_>,
        place: Place,
        keys: &[Key],
    ) -> syn::Result<()> {
        let name = key(&meta.path);
        let Some(&Key(key, takes)) = keys.iter().find(|k| k.0 == name) else {
            let names: Vec<&str> = keys.iter().map(|k| k.0).collect();
            let near = crate::message::nearest(&name, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(meta.error(format!(
                "unknown {} option {}{near}; expected {}",
                place.shown(),
                shown(&meta.path),
                expected(keys)
            )));
        };
        if let Takes::Icon = takes {
            self.icons.push(crate::icon::parse(meta)?);
            return Ok(());
        }
        let repeated = self.given.iter().any(|(k, ..)| *k == key);
        let twice = format!("`{key}` is given twice{}; keep one", place.within);
        if repeated && place.nested {
            return Err(meta.error(twice));
        }
        let value = match takes {
            Takes::Str => {
                if !meta.input.peek(syn::Token![=]) {
                    return Err(meta.error(format!("write `{key} = \"…\"`")));
                }
                Value::Str(meta.value()?.parse()?)
            }
            Takes::Bool if meta.input.peek(syn::Token![=]) => {
                Value::Bool(meta.value()?.parse::<syn::LitBool>()?.value)
            }
            Takes::Bool => Value::Bool(true),
            Takes::Flag => Value::Flag,
            Takes::List | Takes::Scopes => {
                let input = meta.value()?;
                if input.peek(LitStr) {
                    let lit: LitStr = input.parse()?;
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "`{key}` is a list: write `{key} = [\"{}\"]`",
                            lit.value().escape_default()
                        ),
                    ));
                }
                if let Takes::Scopes = takes {
                    Value::List(parse_scope_list(input)?)
                } else {
                    let content;
                    syn::bracketed!(content in input);
                    let list =
                        syn::punctuated::Punctuated::<LitStr, syn::Token![,]>::parse_terminated(
                            &content,
                        )?;
                    Value::List(list.into_iter().collect())
                }
            }
            Takes::Nested(inner) if meta.input.peek(syn::token::Paren) => {
                Value::Nested(Self::parse_nested(meta, Place::nested(key, ""), inner)?)
            }
            Takes::Nested(_) => Value::Nested(Self::default()),
            Takes::Icon => unreachable!("handled above"),
        };
        if repeated {
            // After the value, so that the error marks the whole option.
            return Err(meta.error(twice));
        }
        self.given.push((key, meta.path.clone(), value));
        Ok(())
    }

    /// The value of `key` and the key as written, if given.
    pub(crate) fn get(&self, key: &str) -> Option<(&syn::Path, &Value)> {
        self.given
            .iter()
            .find(|(k, ..)| *k == key)
            .map(|(_, path, value)| (path, value))
    }

    /// The string of `key`, if given.
    pub(crate) fn str(&self, key: &str) -> Option<&LitStr> {
        match self.get(key) {
            Some((_, Value::Str(lit))) => Some(lit),
            _ => None,
        }
    }

    /// The boolean of `key`, if given.
    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key) {
            Some((_, Value::Bool(value))) => Some(*value),
            _ => None,
        }
    }

    /// Whether the flag `key` is given.
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some((_, Value::Flag)))
    }

    /// The list of `key` and the key as written, if given.
    pub(crate) fn list(&self, key: &str) -> Option<(&syn::Path, &[LitStr])> {
        match self.get(key) {
            Some((path, Value::List(list))) => Some((path, list)),
            _ => None,
        }
    }

    /// The nested options of `key`, if given.
    pub(crate) fn nested(&self, key: &str) -> Option<&Options> {
        match self.get(key) {
            Some((_, Value::Nested(options))) => Some(options),
            _ => None,
        }
    }

    /// `name = "…"` (an error when blank), else the method's name, with where it is written;
    /// `what` names the feature in the error.
    pub(crate) fn name(
        &self,
        cx: &mut crate::ctxt::Ctxt,
        method: &syn::Ident,
        what: &str,
    ) -> (String, proc_macro2::Span) {
        let Some(lit) = self.str("name") else {
            return (crate::names::method_name(method), method.span());
        };
        if lit.value().trim().is_empty() {
            cx.error_at(lit, format!("a {what} name cannot be empty"));
        }
        (lit.value(), lit.span())
    }
}

/// The name of an option: its identifier, or `""` for a longer path.
fn key(path: &syn::Path) -> String {
    path.get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// An option as an "unknown option" message names it: `` `key` ``, or `this` for a longer
/// path.
fn shown(path: &syn::Path) -> String {
    path.get_ident()
        .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"))
}

/// The valid keys for an "unknown option" message: how to write each of one or two, else the
/// names of all.
fn expected(keys: &[Key]) -> String {
    if keys.len() > 2 {
        let names: Vec<&str> = keys.iter().map(|k| k.0).collect();
        return format!("one of {}", crate::message::listed(&names, ""));
    }
    keys.iter()
        .map(|Key(key, takes)| match takes {
            Takes::Str => format!("`{key} = \"…\"`"),
            Takes::List | Takes::Scopes => format!("`{key} = [\"…\"]`"),
            _ => format!("`{key}`"),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `["a", "b"]` of OAuth scopes: printable ASCII without spaces, quotes or backslashes, each
/// once.
fn parse_scope_list(input: syn::parse::ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
    let content;
    syn::bracketed!(content in input);
    let list = syn::punctuated::Punctuated::<LitStr, syn::Token![,]>::parse_terminated(&content)?;
    let mut scopes: Vec<LitStr> = Vec::new();
    for lit in list {
        let value = lit.value();
        if value.is_empty()
            || value
                .chars()
                .any(|c| c == ' ' || c == '"' || c == '\\' || !c.is_ascii_graphic())
        {
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "`{value}` is not a valid OAuth scope: scopes are printable ASCII without spaces, quotes or backslashes"
                ),
            ));
        }
        if scopes.iter().any(|s| s.value() == value) {
            return Err(syn::Error::new(
                lit.span(),
                format!("scope `{value}` is listed twice"),
            ));
        }
        scopes.push(lit);
    }
    Ok(scopes)
}
