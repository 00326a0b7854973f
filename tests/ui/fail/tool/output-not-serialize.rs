use mcp_runtime::prelude::*;

struct Point {
    x: i32,
    y: i32,
}

struct Geometry;

#[mcp_server]
impl Geometry {
    /// The origin.
    #[tool]
    fn origin(&self) -> Point {
        Point { x: 0, y: 0 }
    }
}

fn main() {}
