use mcp_runtime::prelude::*;

struct Files;

#[mcp_server(icon(src = "https://example.com/logo.png", theme = "Dark"))]
impl Files {
    /// Reads a file.
    #[tool(icon(src = "https://example.com/read.png", theme = "high-contrast"))]
    fn read(&self) -> String {
        String::new()
    }
}

fn main() {}
