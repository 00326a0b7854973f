//! The README's "Testing a protected server", as a user pastes it (`tests/contract.rs`
//! checks that the README shows this file's code from its first `use` on).
//!
//! Its dev-dependencies: `mcp-runtime` (feature `testing`), `tokio` (`macros`,
//! `rt-multi-thread`), `axum`, `reqwest` (`json`), `serde_json`.

use mcp_runtime::prelude::*;
use mcp_runtime::testing::TestIssuer;
use serde_json::{Value, json};

struct Notes;

#[mcp_server(oauth(scopes = ["notes:read", "notes:write"], required = ["notes:read"]))]
impl Notes {
    /// Lists the caller's notes.
    #[tool(read_only)]
    fn list_notes(&self, caller: Auth) -> String {
        format!("{} has no notes yet", caller.subject())
    }

    /// Adds a note.
    #[tool(scopes = ["notes:write"])]
    fn add_note(&self, caller: Auth, title: String) -> String {
        format!("{} added {title}", caller.subject())
    }
}

/// A 2026-07-28 `tools/call` of `tool`, with `token` when given.
fn call(url: &str, tool: &str, args: &Value, token: Option<&str>) -> reqwest::RequestBuilder {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": args, "_meta": meta}});
    let request = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(&body);
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

#[tokio::test]
async fn callers_get_what_their_tokens_allow() {
    // An issuer on 127.0.0.1 with a JWKS; the server on a free port trusts it.
    let issuer = TestIssuer::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let config = OAuthConfig::builder()
        .resource(&url)
        .authorization_server(issuer.url())
        .build()
        .await
        .unwrap();
    let app = Notes.router(config);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let reader = issuer
        .token()
        .subject("alice")
        .audience(&url)
        .scopes(["notes:read"])
        .sign();
    let resp = call(&url, "list_notes", &json!({}), Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["result"]["content"][0]["text"],
        "alice has no notes yet"
    );

    // No token: 401 with the challenge that leads a client to the authorization server.
    let resp = call(&url, "list_notes", &json!({}), None)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("resource_metadata="), "{challenge}");

    // A forged or expired token: 401 `invalid_token`.
    let forged = issuer
        .token()
        .subject("alice")
        .audience(&url)
        .signed_by_attacker()
        .sign();
    let expired = issuer
        .token()
        .subject("alice")
        .audience(&url)
        .expires_in(-3600)
        .sign();
    for token in [forged, expired] {
        let resp = call(&url, "list_notes", &json!({}), Some(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{challenge}"
        );
    }

    // A token without `notes:write`: 403 naming the scope, and the tool does not run.
    let args = json!({"title": "groceries"});
    let resp = call(&url, "add_note", &args, Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains("notes:write"), "{challenge}");
}
