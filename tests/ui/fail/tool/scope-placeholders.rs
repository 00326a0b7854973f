use mcp_runtime::prelude::*;

struct Files;

#[mcp_server(oauth(
    scopes = [
        "files:{projct}", "files:{project}", "files:{owner}", "files:{",
        "index:{id}", "read:{user}", "letters:{to}"
    ],
    required = ["files:{project}"]
))]
impl Files {
    /// Reads a file; the placeholder is misspelt.
    #[tool(scopes = ["files:{projct}"])]
    fn read(&self, project: String) -> String {
        project
    }

    /// The owner may be absent.
    #[tool(scopes = ["files:{owner}", "files:{"])]
    fn by_owner(&self, owner: Option<String>) -> String {
        owner.unwrap_or_default()
    }

    /// A fixed URI has nothing to fill in.
    #[resource(uri = "files://index", scopes = ["index:{id}"])]
    fn index(&self) -> String {
        String::new()
    }

    /// A template whose variable is `id`, not `user`.
    #[resource(uri_template = "files://{id}", scopes = ["read:{user}"])]
    fn file(&self, id: String) -> String {
        id
    }

    /// An optional argument.
    #[prompt(scopes = ["letters:{to}"])]
    fn letter(&self, to: Option<String>) -> String {
        to.unwrap_or_default()
    }
}

fn main() {}
