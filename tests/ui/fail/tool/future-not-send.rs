use std::rc::Rc;

use mcp_runtime::prelude::*;

struct Clock;

async fn tick() {}

#[mcp_server]
impl Clock {
    /// Waits a tick.
    #[tool]
    async fn wait(&self) -> String {
        let label = Rc::new(String::from("done"));
        tick().await;
        label.to_string()
    }
}

fn main() {}
