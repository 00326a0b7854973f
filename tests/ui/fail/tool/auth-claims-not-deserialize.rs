use mcp_runtime::prelude::*;

struct Claims {
    roles: Vec<String>,
}

struct Notes;

#[mcp_server(oauth(scopes = ["notes:read"]))]
impl Notes {
    /// Lists the caller's roles.
    #[tool]
    fn roles(&self, caller: Auth<Claims>) -> String {
        caller.claims().roles.join(",")
    }
}

fn main() {}
