use mcp_runtime::prelude::*;

struct Search {
    query: String,
}

struct Library;

#[mcp_server]
impl Library {
    /// Searches the catalogue.
    #[tool]
    fn search(&self, Args(search): Args<Search>) -> String {
        search.query
    }
}

fn main() {}
