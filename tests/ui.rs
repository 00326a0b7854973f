//! Compile-fail and compile-pass cases of `#[mcp_server]` and `#[tool]`: each mistake gives
//! one error, at the token to fix, saying what to write instead.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p mcp-tests --test ui`.
//! The messages are pinned to one compiler, so the test runs only on it.

#[rustversion::attr(not(stable(1.95)), ignore)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/**/*.rs");
    t.pass("ui/pass/*.rs");
}
