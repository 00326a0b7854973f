use mcp_runtime::prelude::*;

struct Counter {
    count: u64,
}

#[mcp_server]
impl Counter {
    /// Counts one more.
    #[tool]
    fn increment(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}

fn main() {}
