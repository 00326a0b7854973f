use mcp_runtime::prelude::*;

struct Files;

#[mcp_server]
impl Files {
    /// Reads a file.
    #[tool(read_only, idempotent, read_only = false)]
    fn read(&self, path: String) -> String {
        path
    }
}

fn main() {}
