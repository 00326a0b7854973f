use mcp_runtime::prelude::*;

struct Docs;

#[mcp_server]
impl Docs {
    /// The readme, without a scheme.
    #[resource(uri = "docs/readme")]
    fn readme(&self) -> String {
        String::new()
    }

    /// A space in a URI.
    #[resource(uri = "docs://release notes")]
    fn notes(&self) -> String {
        String::new()
    }

    /// A level 2 expansion.
    #[resource(uri_template = "docs://files/{+path}")]
    fn file(&self, path: String) -> String {
        path
    }

    /// A variable in a fixed URI.
    #[resource(uri = "docs://pages/{page}")]
    fn page(&self) -> String {
        String::new()
    }
}

fn main() {}
