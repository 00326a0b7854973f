use mcp_runtime::prelude::*;

struct Shop;

#[mcp_server]
impl Shop {
    /// One item.
    #[resource(uri_template = "shop://items/{id}")]
    fn item(&self, id: u64) -> String {
        id.to_string()
    }
}

fn main() {}
