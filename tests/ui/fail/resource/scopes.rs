use mcp_runtime::prelude::*;

struct Open;

#[mcp_server]
impl Open {
    /// The vault.
    #[resource(uri = "open://vault", scopes = ["vault:read"])]
    fn vault(&self) -> String {
        String::new()
    }
}

struct Guarded;

#[mcp_server(oauth(scopes = ["docs:read", "docs:write"]))]
impl Guarded {
    /// One document.
    #[resource(uri_template = "docs://{id}", scopes = ["docs:raed"])]
    fn doc(&self, id: String) -> String {
        id
    }

    /// Drafts a letter.
    #[prompt(scopes = ["letters:draft"])]
    fn letter(&self, to: String) -> String {
        to
    }
}

fn main() {}
