//! Checked-in snapshots of what a server sends, compared byte for byte, with a line diff of
//! the pretty-printed JSON when they differ. `MCP_UPDATE_SNAPSHOTS=1` writes them anew.

use std::fmt::Write as _;
use std::path::PathBuf;

/// Asserts that `actual` is the snapshot `name` (under `tests/snapshots/`), byte for byte.
pub(crate) fn assert_snapshot(name: &str, actual: &[u8]) {
    let path: PathBuf = super::repo_root().join("tests/snapshots").join(name);
    if std::env::var_os("MCP_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "snapshot {} cannot be read ({e}); write it with MCP_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let (old, new) = (pretty(&expected), pretty(actual));
    panic!(
        "{} changed ({} bytes, was {}); if that is intended, run the test again with \
         MCP_UPDATE_SNAPSHOTS=1 and commit the file.\n{}",
        path.display(),
        actual.len(),
        expected.len(),
        line_diff(&old, &new)
    );
}

/// Pretty-printed when it is JSON, else as text.
fn pretty(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes).map_or_else(
        |_| String::from_utf8_lossy(bytes).into_owned(),
        |v| serde_json::to_string_pretty(&v).unwrap(),
    )
}

/// The lines that differ, `-` for the snapshot's and `+` for the new ones, with two lines of
/// context around each change (a longest-common-subsequence diff).
pub(crate) fn line_diff(old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(op, _)| *op != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push_str("   …\n");
                skipped = false;
            }
            let _ = writeln!(out, "{op}  {line}");
        } else {
            skipped = true;
        }
    }
    out
}
