use std::cell::Cell;

use mcp_runtime::prelude::*;

struct Counter {
    count: Cell<u64>,
}

#[mcp_server]
impl Counter {
    /// Counts one more.
    #[tool]
    fn increment(&self) -> u64 {
        self.count.set(self.count.get() + 1);
        self.count.get()
    }
}

fn main() {}
