use mcp_runtime::prelude::*;

/// The readme.
#[resource(uri = "docs://readme")]
fn readme() -> String {
    String::new()
}

struct Docs;

impl Docs {
    /// The readme.
    #[resource(uri = "docs://readme")]
    fn readme(&self) -> String {
        String::new()
    }
}

fn main() {}
