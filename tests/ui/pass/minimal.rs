use mcp_runtime::prelude::*;

struct Clock;

#[mcp_server]
impl Clock {
    /// Says hello.
    #[tool]
    fn hello(&self) -> String {
        "hello".to_owned()
    }
}

fn main() {}
