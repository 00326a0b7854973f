use mcp_runtime::prelude::*;

struct Echo;

#[mcp_server]
impl Echo {
    /// Echoes the value back.
    #[tool]
    fn echo<T: ToString>(&self, value: T) -> String {
        value.to_string()
    }
}

fn main() {}
