use mcp_runtime::prelude::*;

struct Shop;

#[mcp_server]
impl Shop {
    /// Ships an order.
    #[tool]
    fn ship(
        &self,
        #[arg(header = "Region")] from: String,
        #[arg(header = "region")] to: String,
    ) -> String {
        format!("{from} {to}")
    }
}

fn main() {}
