//! A server's own types named `Session`, `Auth` and `RequestContext` are JSON arguments like
//! any other: here on a server without `oauth`, declared `stateless`, where the runtime's
//! `Auth` and `Session` would not compile.

use mcp_runtime::{McpServer, mcp_server};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct Session {
    id: String,
}

#[derive(Deserialize, JsonSchema)]
struct Auth {
    user: String,
}

#[derive(Deserialize, JsonSchema)]
struct RequestContext {
    trace: u32,
}

struct Desk;

#[mcp_server(stateless)]
impl Desk {
    /// Opens a session for a user.
    #[tool]
    fn open(&self, session: Session, #[arg(description = "who opens it")] auth: Auth) -> String {
        format!("{} opened {}", auth.user, session.id)
    }

    /// Traces `n` steps.
    #[tool]
    fn trace(&self, ctx: RequestContext, n: i64) -> String {
        format!("trace {} for {n}", ctx.trace)
    }
}

fn main() {
    let tools = &<Desk as McpServer>::__descriptor().tools;
    let open = &tools[0].input_schema;
    assert_eq!(open["required"], json!(["session", "auth"]), "{open}");
    assert_eq!(open["properties"]["session"]["$ref"], "#/$defs/Session", "{open}");
    assert_eq!(open["properties"]["auth"]["description"], "who opens it", "{open}");
    assert_eq!(open["$defs"]["Auth"]["required"], json!(["user"]), "{open}");
    let trace = &tools[1].input_schema;
    assert_eq!(trace["required"], json!(["ctx", "n"]), "{trace}");
    assert_eq!(trace["$defs"]["RequestContext"]["required"], json!(["trace"]), "{trace}");
}
