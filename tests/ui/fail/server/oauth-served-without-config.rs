use mcp_runtime::prelude::*;

struct Notes;

#[mcp_server(oauth(scopes = ["notes:read"]))]
impl Notes {
    /// Lists notes.
    #[tool]
    fn list(&self) -> String {
        String::new()
    }
}

fn serve() -> axum::Router {
    Notes.router(HttpConfig::new())
}

fn main() {
    let _ = serve;
}
