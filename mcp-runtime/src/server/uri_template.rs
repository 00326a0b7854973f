//! The RFC 6570 level 1 matcher of resource templates: which URIs a
//! `#[resource(uri_template = "…")]` answers, and the values of its variables.

/// A piece of a URI template as `#[resource(uri_template = "…")]` splits it at compile time.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text that must appear as is.
    Literal(&'static str),
    /// `{name}`: one or more characters other than `/`, percent-decoded.
    Variable(&'static str),
}

/// An RFC 6570 level 1 template (`{var}` simple expansion only) that matches URIs.
///
/// A variable matches `[^/]+` (greedily, like a regular expression), and its value is
/// percent-decoded. Matching is linear in the URI's length for any template.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct UriTemplate {
    /// The template split at each `/`: a variable never spans one, so the URI must have the
    /// same number of `/` and each segment matches on its own.
    segments: Vec<Vec<Piece>>,
    variables: usize,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(String),
    /// The variable's index in template order.
    Variable(usize),
}

impl UriTemplate {
    /// The template made of `parts`.
    pub fn new(parts: &[TemplatePart]) -> Self {
        let mut segments = vec![Vec::new()];
        let mut variables = 0;
        for part in parts {
            match part {
                TemplatePart::Literal(text) => {
                    for (i, piece) in text.split('/').enumerate() {
                        if i > 0 {
                            segments.push(Vec::new());
                        }
                        if !piece.is_empty()
                            && let Some(segment) = segments.last_mut()
                        {
                            segment.push(Piece::Literal(piece.to_owned()));
                        }
                    }
                }
                TemplatePart::Variable(_) => {
                    if let Some(segment) = segments.last_mut() {
                        segment.push(Piece::Variable(variables));
                    }
                    variables += 1;
                }
            }
        }
        Self {
            segments,
            variables,
        }
    }

    /// The variables' values (percent-decoded, in template order) if `uri` matches.
    pub fn captures(&self, uri: &str) -> Option<Vec<String>> {
        let mut values = vec![String::new(); self.variables];
        let mut parts = uri.split('/');
        for segment in &self.segments {
            let text = parts.next()?;
            match_segment(segment, text.as_bytes(), &mut values)?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(values)
    }

    /// Whether `uri` matches.
    pub fn matches(&self, uri: &str) -> bool {
        self.captures(uri).is_some()
    }
}

/// Matches one `/`-free segment; `ok[i][p]` says whether pieces `i..` match `text[p..]`.
fn match_segment(pieces: &[Piece], text: &[u8], values: &mut [String]) -> Option<()> {
    let n = text.len();
    let k = pieces.len();
    let mut ok = vec![vec![false; n + 1]; k + 1];
    ok[k][n] = true;
    for i in (0..k).rev() {
        let (done, rest) = ok.split_at_mut(i + 1);
        let (row, next) = (&mut done[i], &rest[0]);
        match &pieces[i] {
            Piece::Literal(lit) => {
                let lit = lit.as_bytes();
                for p in 0..=n {
                    row[p] = text[p..].starts_with(lit) && next[p + lit.len()];
                }
            }
            Piece::Variable(_) => {
                // Some q > p with next[q]: a suffix "any" from the right.
                let mut any_after = false;
                for p in (0..=n).rev() {
                    row[p] = any_after;
                    any_after |= next[p];
                }
            }
        }
    }
    if !ok[0][0] {
        return None;
    }
    let mut p = 0;
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Literal(lit) => p += lit.len(),
            Piece::Variable(index) => {
                // Greedy: the longest value that still lets the rest match.
                let q = (p + 1..=n).rev().find(|&q| ok[i + 1][q])?;
                values[*index] = percent_decode(&text[p..q])?;
                p = q;
            }
        }
    }
    Some(())
}

/// `%XX` escapes decoded; a `%` not followed by two hex digits stays as is. `None` when the
/// result is not UTF-8.
fn percent_decode(raw: &[u8]) -> Option<String> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%'
            && let (Some(h), Some(l)) = (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::TemplatePart::{Literal, Variable};
    use super::*;

    fn template(parts: &[TemplatePart]) -> UriTemplate {
        UriTemplate::new(parts)
    }

    #[test]
    fn variables_match_one_segment_and_are_decoded() {
        let t = template(&[
            Literal("test://template/"),
            Variable("id"),
            Literal("/data"),
        ]);
        assert_eq!(
            t.captures("test://template/123/data"),
            Some(vec!["123".into()])
        );
        assert_eq!(
            t.captures("test://template/a%20b%2Fc/data"),
            Some(vec!["a b/c".into()])
        );
        assert_eq!(t.captures("test://template//data"), None);
        assert_eq!(t.captures("test://template/1/2/data"), None);
        assert_eq!(t.captures("test://template/1/data/"), None);
        assert_eq!(t.captures("test://other/1/data"), None);
        assert_eq!(t.captures("test://template/%FF/data"), None);
        assert_eq!(
            t.captures("test://template/100%/data"),
            Some(vec!["100%".into()])
        );
    }

    #[test]
    fn several_variables_in_one_segment_match_greedily() {
        let t = template(&[
            Literal("file:///"),
            Variable("name"),
            Literal("."),
            Variable("ext"),
        ]);
        assert_eq!(
            t.captures("file:///archive.tar.gz"),
            Some(vec!["archive.tar".into(), "gz".into()])
        );
        assert_eq!(t.captures("file:///archive"), None);
        assert_eq!(t.captures("file:///.gz"), None);
        let t = template(&[Literal("x://"), Variable("a"), Literal(".json")]);
        assert_eq!(t.captures("x://a.json.json"), Some(vec!["a.json".into()]));
    }

    #[test]
    fn matching_is_linear_on_hostile_input() {
        let t = template(&[
            Literal("x://"),
            Variable("a"),
            Literal("x"),
            Variable("b"),
            Literal("x"),
            Variable("c"),
            Literal("y"),
        ]);
        let uri = format!("x://{}", "x".repeat(200_000));
        let start = std::time::Instant::now();
        assert_eq!(t.captures(&uri), None);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
