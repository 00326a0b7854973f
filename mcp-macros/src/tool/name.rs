//! MCP tool names: 1 to 128 characters of `A-Z a-z 0-9 _ - .`, case-sensitive
//! (2025-11-25 `server/tools`, tool names).

/// The longest tool name.
pub(crate) const MAX_LEN: usize = 128;

/// Checks a tool name, saying what is wrong with it.
pub(crate) fn check(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a tool name cannot be empty".into());
    }
    let len = name.chars().count();
    if len > MAX_LEN {
        return Err(format!(
            "this tool name is {len} characters long; the limit is {MAX_LEN}"
        ));
    }
    if let Some(c) = name.chars().find(|&c| !is_allowed(c)) {
        let suggestion: String = name
            .chars()
            .map(|c| if is_allowed(c) { c } else { '_' })
            .collect();
        return Err(format!(
            "tool name `{name}` contains {c:?}; tool names use only ASCII letters, digits, `_`, `-` and `.`, as in `{suggestion}`"
        ));
    }
    Ok(())
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_mcp_charset() {
        for ok in [
            "add",
            "get_user",
            "DATA_EXPORT_v2",
            "admin.tools.list",
            "a-b",
            &"x".repeat(128),
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_the_rest() {
        assert!(check("").unwrap_err().contains("empty"));
        assert!(check("two words").unwrap_err().contains("' '"));
        assert!(check("a/b").unwrap_err().contains("'/'"));
        assert!(check("café").unwrap_err().contains("'é'"));
        assert!(
            check(&"x".repeat(129))
                .unwrap_err()
                .contains("129 characters")
        );
    }
}
