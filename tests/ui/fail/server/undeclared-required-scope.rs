use mcp_runtime::prelude::*;

struct Notes;

#[mcp_server(oauth(scopes = ["notes:read"], required = ["notes:reed"]))]
impl Notes {
    /// Lists notes.
    #[tool]
    fn list(&self) -> String {
        String::new()
    }
}

fn main() {}
