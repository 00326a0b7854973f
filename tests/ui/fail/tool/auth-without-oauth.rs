use mcp_runtime::prelude::*;

struct Profile;

#[mcp_server]
impl Profile {
    /// Who is calling.
    #[tool]
    fn whoami(&self, caller: Auth) -> String {
        caller.subject().to_owned()
    }
}

fn main() {}
