use mcp_runtime::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

/// Where an order ships; an enum's schema is reached through `$ref` and `oneOf`.
#[derive(Deserialize, JsonSchema)]
enum Region {
    Eu,
    Us,
}

struct Shop;

#[mcp_server]
impl Shop {
    /// Ships to a region.
    #[tool]
    fn ship(&self, #[arg(header = "Region")] region: Region) -> String {
        match region {
            Region::Eu => "eu".into(),
            Region::Us => "us".into(),
        }
    }
}

fn main() {}
