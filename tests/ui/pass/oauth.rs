use mcp_runtime::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    roles: Vec<String>,
}

struct Notes;

#[mcp_server(stateless, oauth(scopes = ["notes:read", "notes:write"], required = ["notes:read"]))]
impl Notes {
    /// Lists the caller's roles.
    #[tool]
    fn roles(&self, caller: Auth<Claims>) -> String {
        caller.claims().roles.join(",")
    }

    /// Writes.
    #[tool(scopes = ["notes:write"])]
    async fn write(&self, caller: Auth, ctx: RequestContext, text: String) -> String {
        format!("{} {} {text}", caller.subject(), ctx.protocol_version())
    }
}

struct Bare;

#[mcp_server(oauth)]
impl Bare {
    /// Nothing.
    #[tool]
    fn nothing(&self) {}
}

fn serve(notes: OAuthConfig, bare: OAuthConfig) -> (axum::Router, axum::Router) {
    (Notes.router(notes), Bare.router(bare))
}

fn main() {
    let _ = serve;
}
