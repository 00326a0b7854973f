//! Identity-provider profiles with real tokens of each provider's shape, signed by the test
//! issuer: scopes in `scope` or `scp`, as a string or an array; roles in `realm_access`,
//! `roles`, a namespaced claim or `groups`. The scope checks and `Auth::roles` read them
//! where the profile says; a profile that needs a setting, and keys in an algorithm the
//! server does not allow, fail at startup with what to change.
#![allow(clippy::unwrap_used)]

mod support;

use mcp_runtime::auth::IdpProfile;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::TestIssuer;
use reqwest::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use support::{json_of, modern};

struct Notes;

#[derive(Serialize, JsonSchema)]
struct Caller {
    scopes: Vec<String>,
    roles: Vec<String>,
}

#[mcp_server(stateless, oauth(scopes = ["notes:read", "notes:write"], required = ["notes:read"]))]
impl Notes {
    /// The caller's scopes and roles.
    #[tool]
    fn whoami(&self, caller: Auth) -> Caller {
        Caller {
            scopes: caller.scopes().to_vec(),
            roles: caller.roles().to_vec(),
        }
    }

    /// Needs `notes:write`.
    #[tool(scopes = ["notes:write"])]
    fn write(&self) -> String {
        "written".into()
    }
}

async fn serve(
    issuer: &TestIssuer,
    configure: impl FnOnce(
        mcp_runtime::oauth::OAuthConfigBuilder,
    ) -> mcp_runtime::oauth::OAuthConfigBuilder,
) -> String {
    let (listener, url) = support::listen().await;
    let builder = OAuthConfig::builder()
        .resource(&url)
        .authorization_server(issuer.url());
    let config = configure(builder).build().await.unwrap();
    support::serve(listener, Notes.router(config));
    url
}

async fn call(url: &str, token: &str, tool: &str) -> (StatusCode, Value) {
    let resp = modern(url, "tools/call", Some(tool), json!({"name": tool}))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = if status == StatusCode::OK {
        json_of(resp).await
    } else {
        Value::Null
    };
    (status, body)
}

/// A token of `issuer` for `audience` with the claims of one provider's shape.
fn shaped(issuer: &TestIssuer, audience: Value, claims: Value) -> String {
    let mut token = issuer.token().subject("alice").claim("aud", audience);
    let Value::Object(claims) = claims else {
        panic!("claims are an object");
    };
    for (name, value) in claims {
        token = token.claim(&name, value);
    }
    token.sign()
}

async fn reads(profile: IdpProfile, audience: Option<&str>, claims: Value, roles: &[&str]) {
    let issuer = TestIssuer::start().await.unwrap();
    let name = profile.name().to_owned();
    let url = serve(&issuer, |b| {
        let b = b.profile(profile);
        match audience {
            Some(a) => b.accept_audience(a),
            None => b,
        }
    })
    .await;
    let aud = audience.map_or_else(|| json!([url, "account"]), |a| json!(a));
    let token = shaped(&issuer, aud, claims);
    let (status, body) = call(&url, &token, "whoami").await;
    assert_eq!(status, StatusCode::OK, "{name}");
    let caller = &body["result"]["structuredContent"];
    let mut scopes: Vec<String> = serde_json::from_value(caller["scopes"].clone()).unwrap();
    scopes.retain(|s| s.starts_with("notes:"));
    scopes.sort();
    assert_eq!(scopes, ["notes:read", "notes:write"], "{name}: {caller}");
    assert_eq!(caller["roles"], json!(roles), "{name}: {caller}");
    let (status, body) = call(&url, &token, "write").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{name}: the scope check reads the same claims"
    );
    assert_eq!(body["result"]["content"][0]["text"], "written");
}

#[tokio::test]
async fn keycloak_tokens() {
    reads(
        IdpProfile::keycloak(),
        None,
        json!({"scope": "openid profile notes:read notes:write",
               "realm_access": {"roles": ["editor", "offline_access"]},
               "resource_access": {"account": {"roles": ["manage-account"]}},
               "azp": "inspector"}),
        &["editor", "offline_access"],
    )
    .await;
}

#[tokio::test]
async fn keycloak_client_roles_where_told() {
    reads(
        IdpProfile::keycloak().roles_at(["resource_access", "notes", "roles"]),
        None,
        json!({"scope": "notes:read notes:write",
               "realm_access": {"roles": ["editor"]},
               "resource_access": {"notes": {"roles": ["publisher"]}}}),
        &["editor", "publisher"],
    )
    .await;
}

#[tokio::test]
async fn entra_v2_tokens() {
    reads(
        IdpProfile::entra(),
        Some("6f1c3a1e-9f0b-4c55-8a43-0a4d9e8f2b11"),
        json!({"scp": "notes:read notes:write", "roles": ["Notes.Admin"], "ver": "2.0",
               "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47"}),
        &["Notes.Admin"],
    )
    .await;
}

#[tokio::test]
async fn auth0_tokens() {
    reads(
        IdpProfile::auth0("https://notes.example.com/roles"),
        None,
        json!({"scope": "openid notes:read", "permissions": ["notes:read", "notes:write"],
               "https://notes.example.com/roles": ["author"]}),
        &["author"],
    )
    .await;
}

#[tokio::test]
async fn okta_tokens() {
    reads(
        IdpProfile::okta(),
        None,
        json!({"scp": ["notes:read", "notes:write"], "groups": ["Everyone", "Editors"],
               "cid": "0oa1"}),
        &["Everyone", "Editors"],
    )
    .await;
}

#[tokio::test]
async fn generic_tokens_in_either_scope_shape() {
    reads(
        IdpProfile::generic(),
        None,
        json!({"scope": "", "scp": ["notes:read", "notes:write"], "roles": ["editor"]}),
        &["editor"],
    )
    .await;
}

/// Without the profile, roles where the generic profile does not look are not seen.
#[tokio::test]
async fn the_profile_decides_where_roles_are_read() {
    reads(
        IdpProfile::generic(),
        None,
        json!({"scope": "notes:read notes:write", "realm_access": {"roles": ["editor"]}}),
        &[],
    )
    .await;
}

#[tokio::test]
async fn a_profile_or_algorithm_that_cannot_work_fails_at_startup_saying_what_to_change() {
    let issuer = TestIssuer::start().await.unwrap();
    let refused = OAuthConfig::builder()
        .resource("http://127.0.0.1:9/mcp")
        .authorization_server(issuer.url())
        .profile(IdpProfile::entra())
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("entra") && refused.contains(".accept_audience("),
        "{refused}"
    );

    let refused = OAuthConfig::builder()
        .resource("http://127.0.0.1:9/mcp")
        .authorization_server(issuer.url())
        .algorithms([mcp_runtime::oauth::Algorithm::ES256])
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("RS256") && refused.contains(".algorithms("),
        "{refused}"
    );

    let refused = OAuthConfig::builder()
        .resource("http://notes.example.com/mcp")
        .authorization_server(issuer.url())
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("https"),
        "a plain-http resource off loopback: {refused}"
    );
    let refused = OAuthConfig::builder()
        .resource("https://notes.example.com/mcp#x")
        .authorization_server(issuer.url())
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("fragment"), "{refused}");
}
