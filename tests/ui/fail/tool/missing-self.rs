use mcp_runtime::prelude::*;

struct Echo;

#[mcp_server]
impl Echo {
    /// Echoes the text back.
    #[tool]
    fn echo(text: String) -> String {
        text
    }
}

fn main() {}
