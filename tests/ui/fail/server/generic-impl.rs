use mcp_runtime::prelude::*;

struct Files<T> {
    root: T,
}

#[mcp_server]
impl<T: Send + Sync + 'static> Files<T> {
    /// Reads a file.
    #[tool]
    fn read(&self, path: String) -> String {
        path
    }
}

fn main() {}
