use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct Search {
    query: String,
}

struct Library;

#[mcp_server]
impl Library {
    /// Searches the catalogue.
    #[tool]
    fn search(&self, Args(search): Args<Search>, limit: u32) -> String {
        format!("{} {limit}", search.query)
    }
}

fn main() {}
