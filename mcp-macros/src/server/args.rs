//! The options of `#[mcp_server(...)]`.

use syn::LitStr;
use syn::parse::Parser as _;

/// `#[mcp_server(name = "…", version = "…", title = "…", instructions = "…", stateless)]`.
#[derive(Default)]
pub(crate) struct ServerArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) version: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) instructions: Option<LitStr>,
    pub(crate) stateless: bool,
}

const OPTIONS: &str = "`name`, `version`, `title`, `instructions`, `stateless`";

impl ServerArgs {
    /// Parses the tokens inside `#[mcp_server(...)]`.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        let parser = syn::meta::parser(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
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
                "stateless" => {
                    if args.stateless {
                        return Err(meta.error("`stateless` is given twice; keep one"));
                    }
                    args.stateless = true;
                }
                _ => {
                    let shown = meta
                        .path
                        .get_ident()
                        .map_or_else(|| "this".to_owned(), |i| format!("`{i}`"));
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
