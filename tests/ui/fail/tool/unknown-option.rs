use mcp_runtime::prelude::*;

struct Files;

#[mcp_server]
impl Files {
    /// Reads a file.
    #[tool(readonly)]
    fn read_file(&self, path: String) -> String {
        path
    }
}

fn main() {}
