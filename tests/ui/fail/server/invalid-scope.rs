use mcp_runtime::prelude::*;

struct Notes;

#[mcp_server(oauth(scopes = ["notes read"]))]
impl Notes {
    /// Lists notes.
    #[tool]
    fn list(&self) -> String {
        String::new()
    }
}

fn main() {}
