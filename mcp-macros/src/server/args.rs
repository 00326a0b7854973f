//! The options of `#[mcp_server(...)]`.

use syn::LitStr;

use crate::options::{Key, Options, Place, Takes};

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

const KEYS: &[Key] = &[
    Key("name", Takes::Str),
    Key("version", Takes::Str),
    Key("title", Takes::Str),
    Key("instructions", Takes::Str),
    Key("icon", Takes::Icon),
    Key("stateless", Takes::Flag),
    Key("oauth", Takes::Nested(OAUTH_KEYS)),
];

const OAUTH_KEYS: &[Key] = &[Key("scopes", Takes::Scopes), Key("required", Takes::Scopes)];

impl ServerArgs {
    /// Parses the tokens inside `#[mcp_server(...)]`.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Self> {
        let mut options = Options::parse(tokens, Place::attr("mcp_server"), KEYS)?;
        let name = options.str("name").cloned();
        if let Some(lit) = name.as_ref().filter(|n| n.value().trim().is_empty()) {
            return Err(syn::Error::new(
                lit.span(),
                "the server name cannot be empty",
            ));
        }
        let oauth = options.nested("oauth").map(|o| {
            let list = |key| o.list(key).map(|(_, l)| l.to_vec()).unwrap_or_default();
            OAuthArgs {
                scopes: list("scopes"),
                required: list("required"),
            }
        });
        Ok(Self {
            name,
            version: options.str("version").cloned(),
            title: options.str("title").cloned(),
            instructions: options.str("instructions").cloned(),
            stateless: options.flag("stateless"),
            oauth,
            icons: std::mem::take(&mut options.icons),
        })
    }
}
