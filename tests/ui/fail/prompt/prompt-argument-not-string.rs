use mcp_runtime::prelude::*;

struct Writer;

#[mcp_server]
impl Writer {
    /// Summarizes a text in so many words.
    #[prompt]
    fn summarize(&self, text: String, words: u32) -> String {
        format!("Summarize in {words} words: {text}")
    }
}

fn main() {}
