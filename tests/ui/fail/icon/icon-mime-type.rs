use mcp_runtime::prelude::*;

struct Files;

#[mcp_server]
impl Files {
    /// A misspelt type.
    #[tool(icon(src = "https://example.com/photo", mime_type = "image/jpg"))]
    fn photo(&self) -> String {
        String::new()
    }

    /// Not an image type.
    #[tool(icon(src = "https://example.com/page", mime_type = "text/html"))]
    fn page(&self) -> String {
        String::new()
    }

    /// The type disagrees with the `data:` URI.
    #[prompt(icon(
        src = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmcnLz4=",
        mime_type = "image/png"
    ))]
    fn summarize(&self) -> String {
        "Summarize.".into()
    }

    /// The type disagrees with the file name.
    #[resource(
        uri = "files://logo",
        icon(src = "https://example.com/logo.svg", mime_type = "image/png")
    )]
    fn logo(&self) -> String {
        String::new()
    }
}

fn main() {}
