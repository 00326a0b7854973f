use mcp_runtime::prelude::*;

struct Files;

#[mcp_server(name = "files", title = "Files", name = "fs")]
impl Files {
    /// Reads a file.
    #[tool]
    fn read(&self, path: String) -> String {
        path
    }
}

fn main() {}
