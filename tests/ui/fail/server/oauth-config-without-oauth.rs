use mcp_runtime::prelude::*;

struct Notes;

#[mcp_server]
impl Notes {
    /// Lists notes.
    #[tool]
    fn list(&self) -> String {
        String::new()
    }
}

fn serve(config: OAuthConfig) -> axum::Router {
    Notes.router(config)
}

fn main() {
    let _ = serve;
}
