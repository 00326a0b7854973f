use mcp_runtime::prelude::*;

struct Jobs;

#[mcp_server]
impl Jobs {
    /// Exports the data.
    #[tool(task = "sometimes")]
    async fn export(&self) -> String {
        "exported".into()
    }

    /// Counts, without ever waiting.
    #[tool(task = "optional")]
    fn count(&self) -> u32 {
        42
    }
}

fn main() {}
