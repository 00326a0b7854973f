//! Resource URIs (RFC 3986) and URI templates (RFC 6570 level 1), checked at compile time.
//!
//! A URI is absolute: a scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`), `:`, and the
//! rest, written with URI characters only (anything else percent-encoded). A template adds
//! `{name}` simple expansions, where `name` is the method parameter that receives the value;
//! the operators of levels 2 to 4 (`+ # . / ; ? &`), the reserved ones (`= , ! @ |`), value
//! lists and modifiers are refused, since the runtime matches level 1 only.

use std::fmt::Write as _;

/// A piece of a checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Literal(String),
    Variable(String),
}

/// Checks a fixed resource URI.
pub(crate) fn check_uri(uri: &str) -> Result<(), String> {
    if uri.contains('{') || uri.contains('}') {
        return Err(format!(
            "`{uri}` has a `{{variable}}`: a resource that reads values from its URI is a template; write `uri_template = \"{uri}\"`"
        ));
    }
    check_scheme(uri, "resource URI")?;
    check_literal(uri, uri)
}

/// Checks a URI template and splits it into literals and variables.
pub(crate) fn parse_template(template: &str) -> Result<Vec<Part>, String> {
    let head = template.split('{').next().unwrap_or_default();
    if head.contains(':') {
        check_scheme(template, "resource template")?;
    } else {
        return Err(format!(
            "resource template `{template}` must start with its scheme, before any variable, as in `myapp://items/{{id}}`"
        ));
    }
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let Some(open) = rest.find(['{', '}']) else {
            check_literal(rest, template)?;
            parts.push(Part::Literal(rest.to_owned()));
            break;
        };
        if rest[open..].starts_with('}') {
            return Err(format!(
                "resource template `{template}` has a `}}` without its `{{`"
            ));
        }
        if open > 0 {
            check_literal(&rest[..open], template)?;
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        let Some(close) = rest[open..].find('}') else {
            return Err(format!(
                "resource template `{template}` has a `{{` without its `}}`"
            ));
        };
        let expr = &rest[open + 1..open + close];
        let name = check_expression(expr, template)?;
        if parts.iter().any(|p| *p == Part::Variable(name.clone())) {
            return Err(format!(
                "variable `{name}` appears twice in resource template `{template}`; each variable names one parameter"
            ));
        }
        parts.push(Part::Variable(name));
        rest = &rest[open + close + 1..];
    }
    if !parts.iter().any(|p| matches!(p, Part::Variable(_))) {
        return Err(format!(
            "resource template `{template}` has no `{{variable}}`; for a fixed URI write `uri = \"{template}\"`"
        ));
    }
    Ok(parts)
}

/// The variable of one `{…}` expression, if it is a level 1 one.
fn check_expression(expr: &str, template: &str) -> Result<String, String> {
    let Some(first) = expr.chars().next() else {
        return Err(format!(
            "resource template `{template}` has an empty `{{}}`; name the variable, as in `{{id}}`"
        ));
    };
    let rest = &expr[first.len_utf8()..];
    if let Some(level) = match first {
        '+' | '#' => Some(2),
        '.' | '/' | ';' | '?' | '&' => Some(3),
        _ => None,
    } {
        return Err(format!(
            "`{{{expr}}}` in resource template `{template}` is RFC 6570 level {level} (the `{first}` operator); only simple `{{{rest}}}` expansions are supported"
        ));
    }
    if matches!(first, '=' | ',' | '!' | '@' | '|') {
        return Err(format!(
            "`{{{expr}}}` in resource template `{template}` starts with `{first}`, an operator RFC 6570 reserves; write a simple `{{name}}`"
        ));
    }
    if expr.contains(',') {
        return Err(format!(
            "`{{{expr}}}` in resource template `{template}` lists several variables; write one per braces, as in `{{a}}/{{b}}`"
        ));
    }
    if let Some(name) = expr
        .strip_suffix('*')
        .or_else(|| expr.split_once(':').map(|(n, _)| n))
    {
        return Err(format!(
            "`{{{expr}}}` in resource template `{template}` has an RFC 6570 level 4 modifier; write `{{{name}}}`"
        ));
    }
    let is_ident = (first.is_ascii_alphabetic() || first == '_')
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_ident {
        return Err(format!(
            "template variable `{expr}` in `{template}` must be a Rust identifier (letters, digits, `_`), since the parameter of that name receives it"
        ));
    }
    Ok(expr.to_owned())
}

/// The scheme of an absolute URI (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` before its
/// first `:`); `None` when `uri` does not start with one.
pub(crate) fn scheme(uri: &str) -> Option<&str> {
    let scheme = uri.split(':').next().unwrap_or_default();
    let valid = uri.contains(':')
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

fn check_scheme(uri: &str, what: &str) -> Result<(), String> {
    let Some(scheme) = scheme(uri) else {
        return Err(format!(
            "`{uri}` is not an absolute URI: a {what} starts with a scheme such as `file:` or `myapp:`, as in `myapp://docs/readme`"
        ));
    };
    if uri.len() == scheme.len() + 1 {
        return Err(format!(
            "`{uri}` has a scheme and nothing else; add the rest, as in `{scheme}://path`"
        ));
    }
    Ok(())
}

/// Checks the characters of text outside any `{…}`.
fn check_literal(text: &str, whole: &str) -> Result<(), String> {
    check_chars(text, &format!("`{whole}`"), "")
}

/// Characters a URI may hold, and `%` only as percent-encoding; the messages start with
/// `subject` and suggest `alternative` after the encoding.
pub(crate) fn check_chars(text: &str, subject: &str, alternative: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let allowed = c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c);
        if !allowed {
            let mut buf = [0u8; 4];
            let mut encoded = String::new();
            for b in c.encode_utf8(&mut buf).bytes() {
                // Writing to a `String` cannot fail.
                let _ = write!(encoded, "%{b:02X}");
            }
            return Err(format!(
                "{subject} contains {c:?}, which a URI cannot hold; percent-encode it as `{encoded}`{alternative}"
            ));
        }
        if c == '%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(format!(
                "{subject} has a `%` that starts no percent-encoding; write a literal `%` as `%25`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_uris() {
        for ok in [
            "test://static-text",
            "file:///home/user/notes.md",
            "https://example.com/a?b=c#d",
            "urn:isbn:0451450523",
            "git+ssh://host/repo%20name",
        ] {
            assert_eq!(check_uri(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_relative_or_malformed_uris() {
        assert!(check_uri("static-text").unwrap_err().contains("absolute"));
        assert!(check_uri("/etc/passwd").unwrap_err().contains("absolute"));
        assert!(check_uri("1abc://x").unwrap_err().contains("absolute"));
        assert!(check_uri("test:").unwrap_err().contains("nothing else"));
        assert!(check_uri("test://a b").unwrap_err().contains("`%20`"));
        assert!(check_uri("test://café").unwrap_err().contains("`%C3%A9`"));
        assert!(check_uri("test://100%").unwrap_err().contains("`%25`"));
        assert!(
            check_uri("test://{id}")
                .unwrap_err()
                .contains("uri_template")
        );
    }

    #[test]
    fn splits_level_one_templates() {
        assert_eq!(
            parse_template("test://template/{id}/data"),
            Ok(vec![
                Part::Literal("test://template/".into()),
                Part::Variable("id".into()),
                Part::Literal("/data".into()),
            ])
        );
        assert_eq!(
            parse_template("file:///{dir}/{name}.{ext}").map(|p| p.len()),
            Ok(6)
        );
    }

    #[test]
    fn refuses_other_levels_and_mistakes() {
        let err = |t: &str| parse_template(t).unwrap_err();
        assert!(err("test://{+path}").contains("level 2"));
        assert!(err("test://x{#frag}").contains("level 2"));
        assert!(err("test://x{/segments}").contains("level 3"));
        assert!(err("test://x{?q}").contains("level 3"));
        assert!(err("test://x{a,b}").contains("several variables"));
        assert!(err("test://x{list*}").contains("level 4"));
        assert!(err("test://x{name:3}").contains("`{name}`"));
        assert!(err("test://x{=a}").contains("reserves"));
        assert!(err("test://x{}").contains("empty"));
        assert!(err("test://x{a-b}").contains("Rust identifier"));
        assert!(err("test://x{id").contains("without its `}`"));
        assert!(err("test://x}").contains("without its `{`"));
        assert!(err("test://x/{id}/{id}").contains("twice"));
        assert!(err("test://fixed").contains("no `{variable}`"));
        assert!(err("{scheme}://x").contains("scheme"));
        assert!(err("items/{id}").contains("scheme"));
        assert!(err("test://a b/{id}").contains("`%20`"));
    }
}
