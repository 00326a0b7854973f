use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct Order {
    region: String,
}

struct Shop;

#[mcp_server]
impl Shop {
    /// Ships an order.
    #[tool]
    fn ship(&self, #[arg(header = "Region")] order: Args<Order>) -> String {
        order.0.region
    }

    /// Tracks an order.
    #[tool]
    fn track(&self, #[arg(header = "Context")] ctx: RequestContext) -> String {
        ctx.request_id().to_string()
    }

    /// A resource cannot mirror either.
    #[resource(uri_template = "orders://{id}")]
    fn order(&self, #[arg(header = "Id")] id: String) -> String {
        id
    }
}

fn main() {}
