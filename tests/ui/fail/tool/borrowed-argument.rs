use mcp_runtime::prelude::*;

struct Echo;

#[mcp_server]
impl Echo {
    /// Echoes the text back.
    #[tool]
    fn echo(&self, text: &str) -> String {
        text.to_owned()
    }
}

fn main() {}
