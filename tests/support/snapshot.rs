//! Checked-in snapshots of what a server sends, compared byte for byte, with a line diff of
//! the pretty-printed JSON when they differ. `MCP_UPDATE_SNAPSHOTS=1` writes them anew.

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
        mcp_runtime::contract::diff(&old, &new)
    );
}

/// Pretty-printed when it is JSON, else as text.
fn pretty(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes).map_or_else(
        |_| String::from_utf8_lossy(bytes).into_owned(),
        |v| serde_json::to_string_pretty(&v).unwrap(),
    )
}
