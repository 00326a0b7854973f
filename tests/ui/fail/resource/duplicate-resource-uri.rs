use mcp_runtime::prelude::*;

struct Docs;

#[mcp_server]
impl Docs {
    /// The readme.
    #[resource(uri = "docs://readme")]
    fn readme(&self) -> String {
        String::new()
    }

    /// The readme again.
    #[resource(uri = "docs://readme", mime_type = "text/markdown")]
    fn readme_markdown(&self) -> String {
        String::new()
    }
}

fn main() {}
