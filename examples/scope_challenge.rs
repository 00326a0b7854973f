//! The server side of the conformance suite's scope-challenge contract (SEP-2350): the
//! fixtures `test_simple_text`, `test://static-text`, `test://template/{id}/data` and
//! `test_simple_prompt`, each needing `mcp:conformance:<kind>:<verb>` and its own scope, on a
//! server that requires `mcp:conformance:baseline`.
//!
//! `cargo run --example scope_challenge` listens on `127.0.0.1:3002/mcp` (or `MCP_BIND`) and
//! accepts two opaque tokens through introspection at a test issuer it starts on loopback:
//! `mcp-conformance-scope-low`, with only `mcp:conformance:baseline`, and
//! `mcp-conformance-scope-full`, with every scope of the fixtures. With the low one each
//! operation is refused with 403 and one challenge naming every scope it needs; with the
//! full one it is served.

use mcp_runtime::prelude::*;
use mcp_runtime::testing::{INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET, TestIssuer};

/// Every scope the fixtures need, as the full token holds them.
const FULL: &[&str] = &[
    "mcp:conformance:baseline",
    "mcp:conformance:tools:call",
    "mcp:conformance:tools:test_simple_text",
    "mcp:conformance:resources:read",
    "mcp:conformance:resources:static",
    "mcp:conformance:resources:template:123",
    "mcp:conformance:prompts:get",
    "mcp:conformance:prompts:test_simple_prompt",
];

struct ScopeChallenge;

#[mcp_server(
    name = "mcp-runtime-scope-challenge",
    oauth(
        scopes = [
            "mcp:conformance:baseline",
            "mcp:conformance:tools:call",
            "mcp:conformance:tools:test_simple_text",
            "mcp:conformance:resources:read",
            "mcp:conformance:resources:static",
            "mcp:conformance:resources:template:{id}",
            "mcp:conformance:prompts:get",
            "mcp:conformance:prompts:test_simple_prompt"
        ],
        required = ["mcp:conformance:baseline"]
    )
)]
impl ScopeChallenge {
    /// Returns a simple text response.
    #[tool(scopes = ["mcp:conformance:tools:call", "mcp:conformance:tools:test_simple_text"])]
    fn test_simple_text(&self) -> String {
        "This is a simple text response for testing.".into()
    }

    /// A static text resource.
    #[resource(
        uri = "test://static-text",
        name = "static-text",
        mime_type = "text/plain",
        scopes = ["mcp:conformance:resources:read", "mcp:conformance:resources:static"]
    )]
    fn static_text(&self) -> String {
        "This is the content of the static text resource.".into()
    }

    /// Data for one id.
    #[resource(
        uri_template = "test://template/{id}/data",
        name = "template-data",
        mime_type = "application/json",
        scopes = ["mcp:conformance:resources:read", "mcp:conformance:resources:template:{id}"]
    )]
    fn template_data(&self, id: String) -> String {
        serde_json::json!({"id": id, "templateTest": true}).to_string()
    }

    /// A prompt without arguments.
    #[prompt(scopes = ["mcp:conformance:prompts:get", "mcp:conformance:prompts:test_simple_prompt"])]
    fn test_simple_prompt(&self) -> String {
        "This is a simple prompt for testing.".into()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,mcp_runtime::request=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let bind = std::env::var("MCP_BIND").unwrap_or_else(|_| "127.0.0.1:3002".into());
    let resource = format!("http://{bind}/mcp");
    let issuer = TestIssuer::start().await?;
    issuer
        .token()
        .audience(&resource)
        .scopes(["mcp:conformance:baseline"])
        .opaque_as("mcp-conformance-scope-low");
    issuer
        .token()
        .audience(&resource)
        .scopes(FULL.iter().copied())
        .opaque_as("mcp-conformance-scope-full");
    let config = OAuthConfig::builder()
        .resource(&resource)
        .authorization_server(issuer.url())
        .introspection(
            issuer.introspection_endpoint(),
            INTROSPECTION_CLIENT_ID,
            Some(INTROSPECTION_CLIENT_SECRET.into()),
        )
        .build()
        .await?;
    eprintln!("scope-challenge fixture on {resource}");
    ScopeChallenge.serve_http(bind, config).await?;
    Ok(())
}
