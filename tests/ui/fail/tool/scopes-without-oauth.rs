use mcp_runtime::prelude::*;

struct Files;

#[mcp_server]
impl Files {
    /// Deletes a file.
    #[tool(destructive, scopes = ["files:write"])]
    fn delete(&self, path: String) -> String {
        path
    }
}

fn main() {}
