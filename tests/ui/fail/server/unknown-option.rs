use mcp_runtime::prelude::*;

struct Files;

#[mcp_server(oauht)]
impl Files {
    /// Reads a file.
    #[tool]
    fn read(&self, path: String) -> String {
        path
    }
}

fn main() {}
