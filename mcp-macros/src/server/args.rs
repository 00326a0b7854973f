//! The options of `#[mcp_server(...)]`.

use syn::LitStr;
use syn::parse::Parser as _;

/// `#[mcp_server(name = "…", version = "…", title = "…", instructions = "…", icon = "…",
/// stateless, oauth(scopes = [..], required = [..]))]`.
#[derive(Default)]
pub(crate) struct ServerArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) version: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) instructions: Option<LitStr>,
    /// `icon = "…"` or `icon(..)`, repeatable.
    pub(crate) icons: Vec<crate::icon::Icon>,
    pub(crate) stateless: bool,
    pub(crate) oauth: Option<OAuthArgs>,
}

/// `oauth(scopes = ["…"], required = ["…"])`: the scopes the server knows, and those every
/// request needs.
#[derive(Default)]
pub(crate) struct OAuthArgs {
    pub(crate) scopes: Vec<LitStr>,
    pub(crate) required: Vec<LitStr>,
}

const OPTIONS: &str = "`name`, `version`, `title`, `instructions`, `icon`, `stateless`, `oauth`";

/// `["a", "b"]`.
pub(crate) fn parse_scope_list(input: syn::parse::ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
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

impl ServerArgs {
    /// Parses the tokens inside `#[mcp_server(...)]`.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        let parser = syn::meta::parser(|meta| {
            let key = crate::options::key(&meta.path);
            match key.as_str() {
                "name" | "version" | "title" | "instructions" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    let slot = match key.as_str() {
                        "name" => &mut args.name,
                        "version" => &mut args.version,
                        "title" => &mut args.title,
                        _ => &mut args.instructions,
                    };
                    if slot.is_some() {
                        return Err(meta.error(format!("`{key}` is given twice; keep one")));
                    }
                    if key == "name" && lit.value().trim().is_empty() {
                        return Err(syn::Error::new(
                            lit.span(),
                            "the server name cannot be empty",
                        ));
                    }
                    *slot = Some(lit);
                }
                "icon" => args.icons.push(crate::icon::parse(&meta)?),
                "oauth" => {
                    if args.oauth.is_some() {
                        return Err(meta.error("`oauth` is given twice; keep one"));
                    }
                    let mut oauth = OAuthArgs::default();
                    if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                        meta.parse_nested_meta(|inner| {
                            let key = crate::options::key(&inner.path);
                            let slot = match key.as_str() {
                                "scopes" => &mut oauth.scopes,
                                "required" => &mut oauth.required,
                                _ => {
                                    return Err(inner.error(
                                        "unknown `oauth` option; expected `scopes = [\"…\"]` or `required = [\"…\"]`",
                                    ));
                                }
                            };
                            *slot = parse_scope_list(inner.value()?)?;
                            Ok(())
                        })?;
                    }
                    args.oauth = Some(oauth);
                }
                "stateless" => {
                    if args.stateless {
                        return Err(meta.error("`stateless` is given twice; keep one"));
                    }
                    args.stateless = true;
                }
                _ => {
                    let shown = crate::options::shown(&meta.path);
                    return Err(meta.error(format!(
                        "unknown `#[mcp_server]` option {shown}; expected one of {OPTIONS}"
                    )));
                }
            }
            Ok(())
        });
        parser.parse2(tokens)?;
        Ok(args)
    }
}
