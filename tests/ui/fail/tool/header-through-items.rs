use mcp_runtime::prelude::*;

struct Shop;

#[mcp_server]
impl Shop {
    /// Ships to regions.
    #[tool]
    fn ship(&self, #[arg(header = "Regions")] regions: Vec<String>) -> String {
        regions.join(",")
    }
}

fn main() {}
