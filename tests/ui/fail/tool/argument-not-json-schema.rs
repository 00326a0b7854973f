use mcp_runtime::prelude::*;

struct Point {
    x: i32,
    y: i32,
}

struct Geometry;

#[mcp_server]
impl Geometry {
    /// Says where a point is.
    #[tool]
    fn locate(&self, point: Point) -> String {
        format!("{}, {}", point.x, point.y)
    }
}

fn main() {}
