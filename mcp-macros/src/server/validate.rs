//! Checks across tools: names are unique.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::model::Server;
use crate::ctxt::Ctxt;
use crate::tool::param::ParamKind;

pub(crate) fn check(cx: &mut Ctxt, server: &Server) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, tool) in server.tools.iter().enumerate() {
        // One error, at the later name: it names the method that has the name first.
        if let Some(&first) = seen.get(tool.name.as_str()) {
            let earlier = &server.tools[first];
            cx.push(syn::Error::new(
                tool.name_span,
                format!(
                    "duplicate tool name `{}`: method `{}` already uses it; give one of them `#[tool(name = \"…\")]`",
                    tool.name, earlier.ident
                ),
            ));
        } else {
            seen.insert(&tool.name, i);
        }
    }
}

/// Checks of the `oauth` declaration: `Auth` and `scopes` need it; every scope a tool or
/// `required` names must be declared (typos never ship).
pub(crate) fn check_oauth(cx: &mut Ctxt, server: &Server) {
    let Some(oauth) = &server.args.oauth else {
        for tool in &server.tools {
            for p in &tool.params {
                if matches!(p.kind, ParamKind::Auth) {
                    cx.error_at(
                        &p.ty,
                        format!(
                            "tool `{}` asks for the caller with `Auth`, which needs `#[mcp_server(oauth(..))]` on the server; add it, or remove this parameter",
                            tool.name
                        ),
                    );
                }
            }
            if let Some(key) = &tool.args.scopes_key {
                cx.error_at(
                    key,
                    format!(
                        "tool `{}` has `scopes`, which need `#[mcp_server(oauth(scopes = [..]))]` on the server; declare them there, or remove `scopes`",
                        tool.name
                    ),
                );
            }
        }
        return;
    };
    let declared: Vec<String> = oauth.scopes.iter().map(syn::LitStr::value).collect();
    let listed = if declared.is_empty() {
        "the server declares none; add them to `oauth(scopes = [..])`".to_owned()
    } else {
        format!(
            "declared scopes are {}",
            declared
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut undeclared = |lit: &syn::LitStr, what: &str| {
        let value = lit.value();
        if declared.contains(&value) {
            return;
        }
        let mut message = format!("{what} `{value}` is not declared on the server; {listed}");
        if let Some(near) = nearest(&value, &declared) {
            // Writing to a `String` cannot fail.
            let _ = write!(message, "; a declared scope has a similar name: `{near}`");
        }
        cx.error_at(lit, message);
    };
    for lit in &oauth.required {
        undeclared(lit, "required scope");
    }
    for tool in &server.tools {
        for lit in &tool.args.scopes {
            undeclared(lit, "scope");
        }
    }
}

/// The declared name within edit distance 2 of `value`, if any.
fn nearest<'a>(value: &str, declared: &'a [String]) -> Option<&'a str> {
    declared
        .iter()
        .map(|d| (distance(value, d), d))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s.as_str())
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_found() {
        let declared = ["notes:read".to_owned(), "notes:write".to_owned()];
        assert_eq!(nearest("notes:wrte", &declared), Some("notes:write"));
        assert_eq!(nearest("notes:red", &declared), Some("notes:read"));
        assert_eq!(nearest("admin", &declared), None);
    }
}
