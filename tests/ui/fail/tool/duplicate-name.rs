use mcp_runtime::prelude::*;

struct Files;

#[mcp_server]
impl Files {
    /// Reads a file.
    #[tool(name = "read")]
    fn read_file(&self, path: String) -> String {
        path
    }

    /// Reads a directory.
    #[tool(name = "read")]
    fn read_dir(&self, path: String) -> String {
        path
    }
}

fn main() {}
