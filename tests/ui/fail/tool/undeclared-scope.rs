use mcp_runtime::prelude::*;

struct Notes;

#[mcp_server(oauth(scopes = ["notes:read", "notes:write"]))]
impl Notes {
    /// Adds a note.
    #[tool(scopes = ["notes:wrte"])]
    fn add_note(&self, title: String) -> String {
        title
    }

    /// Deletes everything.
    #[tool(scopes = ["admin"])]
    fn purge(&self) -> String {
        String::new()
    }
}

fn main() {}
