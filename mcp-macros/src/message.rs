//! Pieces of error messages: lists of names, and the near miss of a misspelt one.

use std::fmt::Write as _;

/// A list of names for a message: "`a`, `b`", or `none` when empty.
pub(crate) fn listed<S: AsRef<str>>(names: &[S], none: &str) -> String {
    if names.is_empty() {
        return none.to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Appends "; {what} has a similar name: `x`" for a near miss.
pub(crate) fn near<S: AsRef<str>>(message: &mut String, value: &str, names: &[S], what: &str) {
    if let Some(n) = nearest(value, names) {
        // Writing to a `String` cannot fail.
        let _ = write!(message, "; {what} has a similar name: `{n}`");
    }
}

/// The name within edit distance 2 of `value`, if any.
pub(crate) fn nearest<'a, S: AsRef<str>>(value: &str, names: &'a [S]) -> Option<&'a str> {
    names
        .iter()
        .map(|d| (distance(value, d.as_ref()), d.as_ref()))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
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
