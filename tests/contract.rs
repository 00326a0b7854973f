//! What the examples expose, pinned: a change to a tool's schema or description shows up
//! as a failing test with a diff, to be reviewed like code.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

/// The `tools/list` answer of `cargo run --example quickstart`, byte for byte: no per-tool
/// `$schema` (2020-12 is MCP's default dialect), no `format: "double"` or `"int64"`.
#[tokio::test]
async fn the_quickstart_tools_list_is_pinned_to_the_byte() {
    let port = support::free_port();
    let mut server = support::ChildGuard::spawn_logged(
        std::process::Command::new(support::example_binary("quickstart"))
            .env("MCP_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn"),
        "the quickstart example",
        support::log_dir("contract").join("quickstart.log"),
    );
    server.wait_for_port(port, Duration::from_mins(1));
    let url = format!("http://127.0.0.1:{port}/mcp");
    let resp = support::modern(&url, "tools/list", None, json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.bytes().await.unwrap();
    let text = std::str::from_utf8(&body).unwrap();
    assert!(!text.contains("$schema"), "{text}");
    assert!(!text.contains("\"double\""), "{text}");
    assert!(!text.contains("\"int64\""), "{text}");
    support::snapshot::assert_snapshot("quickstart.tools-list.json", &body);
}

/// The diff a changed snapshot prints names the changed lines and little else.
#[test]
fn a_snapshot_diff_shows_the_changed_lines_with_context() {
    let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
    let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
    let diff = support::snapshot::line_diff(old, new);
    assert_eq!(
        diff, "   …\n   c\n   d\n-  e\n+  E\n   f\n   g\n   h\n+  i\n",
        "{diff}"
    );
}

/// The README's "Testing a protected server" is `tests/readme_protected.rs`, which runs, from
/// its first `use` on.
#[test]
fn the_readme_shows_the_protected_server_test_that_runs() {
    let root = support::repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let test = std::fs::read_to_string(root.join("tests/readme_protected.rs")).unwrap();
    let code = &test[test.find("use mcp_runtime::prelude::*;").unwrap()..];
    let section = &readme[readme
        .find("### Testing a protected server")
        .expect("the README's section")..];
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a rust code block in the section");
    assert!(
        block.trim_end() == code.trim_end(),
        "README.md's test differs from tests/readme_protected.rs:\n{}",
        support::snapshot::line_diff(code, block)
    );
}
