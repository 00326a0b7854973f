//! R: the same servers written with rmcp (crates.io `rmcp`, pinned in Cargo.toml).

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{Json, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
pub struct AddArgs {
    a: i64,
    b: i64,
}

#[derive(Serialize, JsonSchema)]
pub struct Sum {
    sum: i64,
}

#[derive(Clone)]
pub struct RCalc {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl RCalc {
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Adds two integers.", annotations(read_only_hint = true))]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> Json<Sum> {
        Json(Sum { sum: a + b })
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for RCalc {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

include!(concat!(env!("OUT_DIR"), "/many_rmcp.rs"));

/// rmcp builds one handler per session (stateful) or per request (stateless) from a factory;
/// the factory clones a prebuilt handler, the cheapest way rmcp offers.
fn service<H: ServerHandler + Clone + Send + Sync + 'static>(
    handler: H,
    sessions: bool,
) -> StreamableHttpService<H, LocalSessionManager> {
    // JSON answers where rmcp can give them (stateless and 2026-07-28 requests); 2025-11-25
    // sessions always answer with SSE in rmcp. Everything else is rmcp's default.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(sessions)
        .with_json_response(true);
    StreamableHttpService::new(move || Ok(handler.clone()), Default::default(), config)
}

pub fn router(kind: &str) -> axum::Router {
    match kind {
        // Sessions for 2025-11-25; 2026-07-28 requests are stateless in rmcp whatever the mode.
        "rmcp" => axum::Router::new().nest_service("/mcp", service(RCalc::new(), true)),
        "rmcp-stateless" => axum::Router::new().nest_service("/mcp", service(RCalc::new(), false)),
        "rmcp-list" => axum::Router::new().nest_service("/mcp", service(RMany::new(), false)),
        _ => unreachable!("{kind}"),
    }
}
