use mcp_runtime::prelude::*;

struct Notes;

#[mcp_server(oauth(scopes = ["notes:read"]))]
impl Notes {
    /// Reads.
    #[tool(scopes = ["notes:read"])]
    fn read(&self) -> String {
        String::new()
    }
}

async fn run() -> Result<(), mcp_runtime::ServeError> {
    Notes.serve_http("127.0.0.1:3000", HttpConfig::new()).await
}

fn main() {
    let _ = run();
}
