use mcp_runtime::prelude::*;

/// Echoes the text back.
#[tool]
fn echo(text: String) -> String {
    text
}

struct Echo;

impl Echo {
    /// Echoes the text back.
    #[tool]
    fn echo(&self, text: String) -> String {
        text
    }
}

fn main() {}
