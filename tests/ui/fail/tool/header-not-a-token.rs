use mcp_runtime::prelude::*;

struct Shop;

#[mcp_server]
impl Shop {
    /// Ships an order.
    #[tool]
    fn ship(
        &self,
        #[arg(header = "Ship Region")] region: String,
        #[arg(header = "Région")] zone: String,
        #[arg(header = "")] depot: String,
    ) -> String {
        format!("{region} {zone} {depot}")
    }
}

fn main() {}
