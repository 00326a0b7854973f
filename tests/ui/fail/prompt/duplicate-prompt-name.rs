use mcp_runtime::prelude::*;

struct Writer;

#[mcp_server]
impl Writer {
    /// Summarizes a text.
    #[prompt(name = "summarize")]
    fn summarize_short(&self, text: String) -> String {
        text
    }

    /// Summarizes a text at length.
    #[prompt(name = "summarize")]
    fn summarize_long(&self, text: String) -> String {
        text
    }

    /// Both a prompt and a tool.
    #[prompt]
    #[tool]
    fn both(&self) -> String {
        String::new()
    }
}

fn main() {}
