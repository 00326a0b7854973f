use mcp_runtime::prelude::*;

struct Shop;

#[mcp_server]
impl Shop {
    /// Sets a price.
    #[tool]
    fn price(&self, #[arg(header = "Price")] price: f64) -> String {
        price.to_string()
    }
}

fn main() {}
