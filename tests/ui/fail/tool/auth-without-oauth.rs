use mcp_runtime::prelude::*;

struct Auth;

struct Profile;

#[mcp_server]
impl Profile {
    /// Who is calling.
    #[tool]
    fn whoami(&self, auth: Auth) -> String {
        let _ = auth;
        String::new()
    }
}

fn main() {}
