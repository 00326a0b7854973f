use mcp_runtime::prelude::*;

#[mcp_server]
struct Files {
    root: String,
}

fn main() {}
