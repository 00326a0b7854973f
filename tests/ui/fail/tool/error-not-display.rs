use mcp_runtime::prelude::*;

#[derive(Debug)]
struct NotFound;

struct Library;

#[mcp_server]
impl Library {
    /// Finds a title.
    #[tool]
    fn find(&self, title: String) -> Result<String, NotFound> {
        if title.is_empty() {
            Err(NotFound)
        } else {
            Ok(title)
        }
    }
}

fn main() {}
