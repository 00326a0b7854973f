use mcp_runtime::prelude::*;

struct Files;

#[mcp_server(icon(src = "https://example.com/logo.png", sizes = ["48", "48X48", "48x48 96x96"]))]
impl Files {
    /// Zero pixels.
    #[tool(icon(src = "https://example.com/read.png", sizes = ["0x0", "16x16", "16x16"]))]
    fn read(&self) -> String {
        String::new()
    }

    /// No sizes.
    #[tool(icon(src = "https://example.com/write.png", sizes = []))]
    fn write(&self) -> String {
        String::new()
    }

    /// Not a list.
    #[prompt(icon(src = "https://example.com/summary.png", sizes = "48x48"))]
    fn summarize(&self) -> String {
        "Summarize.".into()
    }
}

fn main() {}
