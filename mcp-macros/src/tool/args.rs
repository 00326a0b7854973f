//! The options of `#[tool(...)]`, each kept with its tokens for error spans.

use syn::LitStr;
use syn::parse::Parser as _;

/// One boolean hint with where it was written.
#[derive(Clone, Copy)]
pub(crate) struct Hint {
    pub(crate) value: bool,
}

/// `#[tool(name = "…", title = "…", description = "…", icon = "…", read_only, destructive,
/// …)]`.
#[derive(Default)]
pub(crate) struct ToolArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    /// `icon = "…"` or `icon(..)`, repeatable.
    pub(crate) icons: Vec<crate::icon::Icon>,
    pub(crate) read_only: Option<Hint>,
    pub(crate) destructive: Option<Hint>,
    pub(crate) idempotent: Option<Hint>,
    pub(crate) open_world: Option<Hint>,
    /// `scopes = ["…"]`, checked against the server's `oauth` declaration.
    pub(crate) scopes: Vec<LitStr>,
    /// The `scopes` key, for errors about the option as a whole.
    pub(crate) scopes_key: Option<syn::Path>,
}

const OPTIONS: &str = "`name`, `title`, `description`, `icon`, `scopes`, `read_only`, `destructive`, `idempotent`, `open_world`";

impl ToolArgs {
    /// Parses the tokens inside `#[tool(...)]`.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        let parser = syn::meta::parser(|meta| {
            let key = crate::options::key(&meta.path);
            let duplicate = || meta.error(format!("`{key}` is given twice; keep one"));
            match key.as_str() {
                "name" | "title" | "description" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    let slot = match key.as_str() {
                        "name" => &mut args.name,
                        "title" => &mut args.title,
                        _ => &mut args.description,
                    };
                    if slot.is_some() {
                        return Err(duplicate());
                    }
                    *slot = Some(lit);
                }
                "read_only" | "destructive" | "idempotent" | "open_world" => {
                    let value = if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse::<syn::LitBool>()?.value
                    } else {
                        true
                    };
                    let slot = match key.as_str() {
                        "read_only" => &mut args.read_only,
                        "destructive" => &mut args.destructive,
                        "idempotent" => &mut args.idempotent,
                        _ => &mut args.open_world,
                    };
                    if slot.is_some() {
                        return Err(duplicate());
                    }
                    *slot = Some(Hint { value });
                }
                "icon" => args.icons.push(crate::icon::parse(&meta)?),
                "scopes" => {
                    if args.scopes_key.is_some() {
                        return Err(meta.error("`scopes` is given twice; keep one"));
                    }
                    args.scopes = crate::server::parse_scope_list(meta.value()?)?;
                    args.scopes_key = Some(meta.path.clone());
                }
                _ => {
                    let shown = crate::options::shown(&meta.path);
                    return Err(meta.error(format!(
                        "unknown `#[tool]` option {shown}; expected one of {OPTIONS}"
                    )));
                }
            }
            Ok(())
        });
        parser.parse2(tokens)?;
        Ok(args)
    }
}
