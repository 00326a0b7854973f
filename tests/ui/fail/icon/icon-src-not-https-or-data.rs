use mcp_runtime::prelude::*;

struct Files;

#[mcp_server(icon = "http://example.com/logo.png")]
impl Files {
    /// Reads a file.
    #[tool(icon = "javascript:alert(1)")]
    fn read(&self, path: String) -> String {
        path
    }

    /// The readme.
    #[resource(uri = "files://readme", icon = "static/readme.png")]
    fn readme(&self) -> String {
        String::new()
    }

    /// One file.
    #[resource(uri_template = "files://{name}", icon = "file:///usr/share/icons/file.png")]
    fn file(&self, name: String) -> String {
        name
    }

    /// Summarizes a file.
    #[prompt(icon = "https://user:secret@example.com/summary.png")]
    fn summarize(&self) -> String {
        "Summarize.".into()
    }

    /// Lists files.
    #[tool(icon = "https://example.com/list icon.png")]
    fn list(&self) -> String {
        String::new()
    }
}

fn main() {}
