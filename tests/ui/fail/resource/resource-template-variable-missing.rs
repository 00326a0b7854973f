use mcp_runtime::prelude::*;

struct Shop;

#[mcp_server]
impl Shop {
    /// One order of one customer.
    #[resource(uri_template = "shop://customers/{customer}/orders/{order}")]
    fn order(&self, order: String) -> String {
        order
    }

    /// One item.
    #[resource(uri_template = "shop://items/{id}")]
    fn item(&self, id: String, colour: String) -> String {
        format!("{id} {colour}")
    }
}

fn main() {}
