use mcp_runtime::prelude::*;

struct Geometry;

#[mcp_server]
impl Geometry {
    /// Adds the coordinates.
    #[tool]
    fn sum(&self, (x, y): (i32, i32)) -> i32 {
        x + y
    }
}

fn main() {}
