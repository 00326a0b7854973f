//! A tool calls a downstream API on its caller's behalf: RFC 8693 token exchange at the
//! development authorization server, with the MCP server's own client credentials. The
//! downstream token names the caller as `sub`, the downstream API as `aud` and the server
//! as the actor; the caller's own token is never what comes back; a token is reused while
//! it lives; a refused exchange is the tool's error with the server's error code.
#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_runtime::dev_auth::{DevAuthServer, DevUser};
use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{json_of, modern};

const CALENDAR: &str = "https://calendar.example.com/api";

struct Notes;

#[mcp_server(stateless, oauth(scopes = ["notes:read", "calendar:read"], required = ["notes:read"]))]
impl Notes {
    /// Exchanges the caller's token for one for the calendar, and returns it.
    #[tool]
    async fn calendar_token(&self, caller: Auth, scope: String) -> Result<String, ToolError> {
        let token = caller.exchange(CALENDAR, &[scope.as_str()]).await?;
        assert!(
            !format!("{token:?}").contains(token.access_token()),
            "redacted"
        );
        Ok(token.access_token().to_owned())
    }
}

/// The development server and the MCP server trusting it, with client credentials for
/// token exchange when `exchange`.
async fn stack(exchange: bool) -> (DevAuthServer, String) {
    let dev = DevAuthServer::builder()
        .scopes(["notes:read", "calendar:read"])
        .user(DevUser::new("alice", "alice"))
        .client("notes-server", "s3cret")
        .auto_login("alice")
        .start()
        .await
        .unwrap();
    let (listener, url) = support::listen().await;
    let mut builder = OAuthConfig::builder()
        .resource(&url)
        .authorization_server(dev.issuer());
    if exchange {
        builder = builder.token_exchange("notes-server", "s3cret");
    }
    support::serve(listener, Notes.router(builder.build().await.unwrap()));
    (dev, url)
}

/// Alice's token for `resource`, through the code flow (the server signs her in itself).
async fn alice(dev: &DevAuthServer, resource: &str) -> String {
    let tokens = support::dev_tokens(dev, resource, "notes:read calendar:read", None).await;
    tokens["access_token"].as_str().unwrap().to_owned()
}

async fn call(url: &str, token: &str, scope: &str) -> Value {
    let resp = modern(
        url,
        "tools/call",
        Some("calendar_token"),
        json!({"name": "calendar_token", "arguments": {"scope": scope}}),
    )
    .bearer_auth(token)
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    json_of(resp).await["result"].clone()
}

fn claims(jwt: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_tool_exchanges_its_callers_token_for_a_downstream_one() {
    let (dev, url) = stack(true).await;
    let token = alice(&dev, &url).await;
    let result = call(&url, &token, "calendar:read").await;
    assert_ne!(result["isError"], json!(true), "{result}");
    let downstream = result["content"][0]["text"].as_str().unwrap().to_owned();
    assert_ne!(downstream, token, "never the caller's own token");
    let claims = claims(&downstream);
    assert_eq!(claims["aud"], CALENDAR);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["act"]["sub"], "notes-server");
    assert_eq!(claims["scope"], "calendar:read");

    let again = call(&url, &token, "calendar:read").await;
    assert_eq!(
        again["content"][0]["text"].as_str(),
        Some(downstream.as_str()),
        "reused while it lives"
    );

    let refused = call(&url, &token, "admin").await;
    assert_eq!(refused["isError"], json!(true));
    let message = refused["content"][0]["text"].as_str().unwrap();
    assert!(message.contains("invalid_scope"), "{message}");
    assert!(!message.contains(&token), "{message}");
}

#[tokio::test]
async fn without_client_credentials_a_tool_is_told_how_to_configure_exchange() {
    let (dev, url) = stack(false).await;
    let token = alice(&dev, &url).await;
    let result = call(&url, &token, "calendar:read").await;
    assert_eq!(result["isError"], json!(true));
    let message = result["content"][0]["text"].as_str().unwrap();
    assert!(
        message.contains("token_exchange(client_id, client_secret)"),
        "{message}"
    );
}

/// Only the first issuer's tokens are exchanged, at its token endpoint: a caller of another
/// issuer is told so, and their token goes nowhere.
#[tokio::test]
async fn another_issuers_callers_are_not_exchanged_at_the_first() {
    let dev = DevAuthServer::builder()
        .scopes(["notes:read", "calendar:read"])
        .client("notes-server", "s3cret")
        .start()
        .await
        .unwrap();
    let other = mcp_runtime::testing::TestIssuer::start().await.unwrap();
    let (listener, url) = support::listen().await;
    let config = OAuthConfig::builder()
        .resource(&url)
        .authorization_server(dev.issuer())
        .authorization_server(other.url())
        .token_exchange("notes-server", "s3cret")
        .build()
        .await
        .unwrap();
    support::serve(listener, Notes.router(config));
    let token = other
        .token()
        .subject("bob")
        .audience(&url)
        .scopes(["notes:read"])
        .sign();
    let result = call(&url, &token, "calendar:read").await;
    assert_eq!(result["isError"], json!(true));
    let message = result["content"][0]["text"].as_str().unwrap();
    assert!(
        message.contains("not configured for this caller's issuer"),
        "{message}"
    );
}
