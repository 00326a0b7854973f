use mcp_runtime::prelude::*;

struct Files;

#[mcp_server(oauth(scopes = ["files:{tags}"]))]
impl Files {
    /// Lists files by tags: a list has no one text to put in a scope.
    #[tool(scopes = ["files:{tags}"])]
    fn by_tags(&self, tags: Vec<String>) -> String {
        tags.join(",")
    }
}

fn main() {}
