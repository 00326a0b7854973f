use mcp_runtime::prelude::*;

struct Opaque;

struct Store;

#[mcp_server]
impl Store {
    /// One item.
    #[resource(uri_template = "store://items/{id}")]
    fn item(&self, id: String) -> Result<String, Opaque> {
        if id.is_empty() { Err(Opaque) } else { Ok(id) }
    }
}

fn main() {}
