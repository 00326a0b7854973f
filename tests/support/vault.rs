//! A stateless server whose one tool needs `vault:read`, behind the test issuer (JWKS and
//! introspection), for the tests of what tokens cost (`#[path]`-included by them).

// Each including test uses a part of it.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};

use mcp_runtime::oauth::OAuthConfigBuilder;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::TestIssuer;
use serde_json::json;

use super::support;
use super::support::modern;

pub(crate) struct Vault;

#[mcp_server(stateless, oauth(scopes = ["vault:read"], required = ["vault:read"]))]
impl Vault {
    /// Who is calling.
    #[tool]
    fn whoami(&self, caller: Auth) -> String {
        caller.subject().into()
    }
}

pub(crate) struct Served {
    pub(crate) url: String,
    pub(crate) issuer: TestIssuer,
}

impl Served {
    pub(crate) fn valid(&self) -> String {
        self.issuer
            .token()
            .subject("alice")
            .audience(&self.url)
            .scopes(["vault:read"])
            .sign()
    }

    /// A token shaped like a real one, each different, signed with a key the issuer never
    /// published.
    pub(crate) fn forged(&self, n: usize) -> String {
        self.issuer
            .token()
            .subject("mallory")
            .audience(&self.url)
            .scopes(["vault:read"])
            .claim("jti", json!(format!("forged-{n}")))
            .signed_by_attacker()
            .sign()
    }
}

pub(crate) async fn start(
    settings: impl FnOnce(OAuthConfigBuilder) -> OAuthConfigBuilder,
) -> Served {
    let issuer = TestIssuer::start().await.unwrap();
    let (listener, url) = support::listen().await;
    let builder = support::trusting(&issuer, &url);
    let config = settings(builder).build().await.unwrap();
    let app = Vault
        .router(config)
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Served { url, issuer }
}

/// A `whoami` call with `token`, from a client on `from`.
pub(crate) async fn whoami(url: &str, token: &str, from: &str) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    let request = modern(url, "tools/call", Some("whoami"), json!({"name": "whoami"}));
    let (_, request) = request.build_split();
    let mut request = request.unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    client.execute(request).await.unwrap()
}
