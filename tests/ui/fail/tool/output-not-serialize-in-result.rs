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
    async fn origin(&self) -> Result<Vec<Point>, ToolError> {
        Ok(vec![Point { x: 0, y: 0 }])
    }
}

fn main() {}
