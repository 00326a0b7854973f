use mcp_runtime::prelude::*;

trait Reader {
    fn read(&self, path: String) -> String;
}

struct Files;

#[mcp_server]
impl Reader for Files {
    /// Reads a file.
    #[tool]
    fn read(&self, path: String) -> String {
        path
    }
}

fn main() {}
