use mcp_runtime::prelude::*;

struct Files;

#[mcp_server]
impl Files {
    #[tool(read_only)]
    fn read_file(&self, path: String) -> String {
        path
    }

    /// Deletes a file.
    #[tool(description = "  ")]
    fn delete_file(&self, path: String) -> String {
        path
    }
}

fn main() {}
