use mcp_runtime::prelude::*;

struct Files;

#[mcp_server(icon)]
impl Files {
    /// An unknown option.
    #[tool(icon(src = "https://example.com/read.png", size = ["48x48"]))]
    fn read(&self) -> String {
        String::new()
    }

    /// No `src`.
    #[tool(icon(theme = "dark"))]
    fn write(&self) -> String {
        String::new()
    }

    /// `src` twice.
    #[prompt(icon(src = "https://example.com/a.png", src = "https://example.com/b.png"))]
    fn summarize(&self) -> String {
        "Summarize.".into()
    }

    /// The same icon twice.
    #[resource(
        uri = "files://readme",
        icon = "https://example.com/readme.png",
        icon(src = "https://example.com/readme.png", theme = "dark")
    )]
    fn readme(&self) -> String {
        String::new()
    }
}

fn main() {}
