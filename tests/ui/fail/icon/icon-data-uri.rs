use mcp_runtime::prelude::*;

struct Files;

#[mcp_server]
impl Files {
    /// Not an image.
    #[tool(icon = "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")]
    fn html(&self) -> String {
        String::new()
    }

    /// Raw SVG markup.
    #[tool(icon = "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>")]
    fn raw_svg(&self) -> String {
        String::new()
    }

    /// Broken base64.
    #[tool(icon = "data:image/png;base64,iVBORw0KGgo AAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")]
    fn broken(&self) -> String {
        String::new()
    }

    /// No media type.
    #[tool(icon = "data:;base64,iVBORw0KGgo=")]
    fn untyped(&self) -> String {
        String::new()
    }
}

fn main() {}
