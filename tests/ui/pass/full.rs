use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
struct Query {
    /// Words to look for.
    words: String,
    /// At most this many hits.
    limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Order {
    Ascending,
    Descending,
}

#[derive(Serialize, JsonSchema)]
struct Hit {
    title: String,
    score: f64,
}

struct Library {
    titles: Vec<String>,
}

#[mcp_server(
    name = "library",
    version = "1.2.3",
    title = "Library",
    instructions = "Search the catalogue before asking for a title.",
    icon = "https://example.com/library.svg",
    icon(
        src = "data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E",
        mime_type = "image/svg+xml",
        sizes = ["any"],
        theme = "dark"
    ),
    stateless
)]
impl Library {
    /// Not a tool: an ordinary method beside the tools.
    fn count(&self) -> usize {
        self.titles.len()
    }

    /// Searches the catalogue.
    #[tool(
        name = "library.search",
        title = "Search",
        description = "Finds titles containing the words",
        read_only,
        idempotent,
        destructive = false,
        open_world = false,
        icon(src = "https://example.com/search.png", mime_type = "image/png", sizes = ["16x16", "32x32"], theme = "light")
    )]
    async fn search(&self, ctx: RequestContext, Args(query): Args<Query>) -> Vec<Hit> {
        ctx.progress(0.0, None, None).await;
        self.titles
            .iter()
            .filter(|t| t.contains(&query.words))
            .take(query.limit.map_or(usize::MAX, |l| l as usize))
            .map(|t| Hit {
                title: t.clone(),
                score: 1.0,
            })
            .collect()
    }

    /// The best hit.
    #[tool(read_only)]
    fn best(
        &self,
        #[arg(description = "Words to look for")] words: String,
        order: Option<Order>,
    ) -> Result<Hit, ToolError> {
        let _ = order;
        self.titles
            .iter()
            .find(|t| t.contains(&words))
            .map(|t| Hit {
                title: t.clone(),
                score: 1.0,
            })
            .ok_or_else(|| ToolError::new("no title matches"))
    }

    /// Reads a title from disk.
    #[tool(open_world)]
    async fn load(&self, path: String) -> Result<String, std::io::Error> {
        std::fs::read_to_string(path)
    }

    /// How many titles there are.
    #[tool]
    fn size(&self) -> usize {
        self.count()
    }

    /// One content block.
    #[tool]
    fn banner(&self) -> Content {
        Content::text("Library")
    }

    /// Several content blocks.
    #[tool]
    fn banners(&self, r#type: String) -> Vec<Content> {
        vec![Content::text("Library"), Content::text(r#type)]
    }

    /// A whole result.
    #[tool]
    fn raw(&self) -> CallToolResult {
        CallToolResult::text("raw")
    }

    /// Nothing to say.
    #[tool(destructive)]
    async fn clear(&self, ctx: RequestContext) {
        let _ = ctx.is_cancelled();
    }
}

/// The server type-checks as a Streamable HTTP endpoint.
fn serve() {
    let _router = Library { titles: Vec::new() }.router(HttpConfig::new());
}

fn main() {
    let _ = serve;
}
