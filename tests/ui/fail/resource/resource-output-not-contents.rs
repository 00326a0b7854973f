use mcp_runtime::prelude::*;

struct Counter;

#[mcp_server]
impl Counter {
    /// The count.
    #[resource(uri = "counter://count")]
    fn count(&self) -> u64 {
        42
    }
}

fn main() {}
