use mcp_runtime::prelude::*;

struct Echo;

#[mcp_server]
impl Echo {
    /// Echoes the text back.
    #[tool]
    fn echo(&self, #[arg(descripton = "The text")] text: String) -> String {
        text
    }
}

fn main() {}
