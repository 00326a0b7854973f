//! OAuth 2.1 resource-server behaviour over real HTTP on 127.0.0.1, with tokens from the
//! test issuer: challenges, metadata, the negative-token suite, scopes, session binding, CORS.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;

use mcp_runtime::prelude::*;
use mcp_runtime::testing::TestIssuer;
use reqwest::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use support::{init_body, listen, serve, session_id};

#[derive(Deserialize)]
struct Claims {
    preferred_username: String,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
struct Me {
    subject: String,
    username: String,
    roles: Vec<String>,
}

struct Notes;

#[mcp_server(oauth(scopes = ["notes:read", "notes:write", "admin"], required = ["notes:read"]))]
impl Notes {
    /// Who is calling.
    #[tool]
    fn whoami(&self, caller: Auth<Claims>) -> Me {
        Me {
            subject: caller.subject().into(),
            username: caller.claims().preferred_username.clone(),
            roles: caller.claims().roles.clone(),
        }
    }

    /// Needs the write scope.
    #[tool(scopes = ["notes:write"])]
    fn add_note(&self, title: String) -> String {
        format!("added {title}")
    }

    /// Needs two scopes.
    #[tool(scopes = ["notes:write", "admin"])]
    fn purge(&self) -> String {
        "purged".into()
    }
}

struct Archive;

#[mcp_server(oauth(
    scopes = ["archive:list", "archive:read", "archive:secret", "archive:draft"],
    required = ["archive:list"]
))]
impl Archive {
    /// The public index.
    #[resource(uri = "archive://index")]
    fn index(&self) -> String {
        "index".into()
    }

    /// The vault, for those allowed to read it.
    #[resource(uri = "archive://vault", scopes = ["archive:read", "archive:secret"])]
    fn vault(&self) -> String {
        "vault".into()
    }

    /// One document.
    #[resource(uri_template = "archive://docs/{id}", scopes = ["archive:read"])]
    fn doc(&self, id: String) -> String {
        format!("doc {id}")
    }

    /// Drafts a letter.
    #[prompt(scopes = ["archive:draft"])]
    fn letter(&self, to: String) -> String {
        format!("Dear {to},")
    }
}

struct Projects;

#[mcp_server(oauth(
    scopes = ["projects", "files:read:{project}", "issue:{project}:{number}", "docs:{id}", "letters:{to}"],
    required = ["projects"]
))]
impl Projects {
    /// Reads a project's file.
    #[tool(scopes = ["files:read:{project}"])]
    fn read_file(&self, project: String, path: String) -> String {
        format!("{project}/{path}")
    }

    /// Reads an issue.
    #[tool(scopes = ["issue:{project}:{number}"])]
    fn issue(&self, project: String, number: u32) -> String {
        format!("{project}#{number}")
    }

    /// One document.
    #[resource(uri_template = "docs://{id}", scopes = ["docs:{id}"])]
    fn doc(&self, id: String) -> String {
        format!("doc {id}")
    }

    /// Drafts a letter.
    #[prompt(scopes = ["letters:{to}"])]
    fn letter(&self, to: String) -> String {
        format!("Dear {to},")
    }
}

struct StatelessNotes;

#[mcp_server(stateless, oauth(scopes = ["notes:read"], required = ["notes:read"]))]
impl StatelessNotes {
    /// Who is calling.
    #[tool]
    fn whoami(&self, caller: Auth) -> String {
        caller.subject().into()
    }
}

struct Server {
    url: String,
    resource: String,
    issuer: TestIssuer,
}

impl Server {
    fn token(&self, scopes: &[&str]) -> String {
        self.issuer
            .token()
            .subject("alice")
            .audience(&self.resource)
            .scopes(scopes.iter().copied())
            .claim("preferred_username", json!("alice"))
            .claim("roles", json!(["editor"]))
            .sign()
    }
}

async fn start<S: mcp_runtime::Protected>(server: S) -> Server {
    let issuer = TestIssuer::start().await.unwrap();
    let (listener, resource) = listen().await;
    let config = OAuthConfig::builder()
        .resource(&resource)
        .authorization_server(issuer.url())
        .build()
        .await
        .unwrap();
    let app = server.router(config);
    serve(listener, app);
    Server {
        url: resource.clone(),
        resource,
        issuer,
    }
}

fn post(url: &str, token: Option<&str>) -> reqwest::RequestBuilder {
    let mut req = support::post(url);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    req
}

fn challenge(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("www-authenticate")
        .expect("a WWW-Authenticate header")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn session(server: &Server, token: &str) -> String {
    let resp = post(&server.url, Some(token))
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    session_id(&resp)
}

async fn call(
    server: &Server,
    token: &str,
    sid: &str,
    tool: &str,
    args: Value,
) -> reqwest::Response {
    post(&server.url, Some(token))
        .header("mcp-session-id", sid)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":tool,"arguments":args}}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn no_token_gets_a_challenge_that_leads_to_the_metadata() {
    let server = start(Notes).await;
    let resp = post(&server.url, None)
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let prm_url = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        server.url.trim_end_matches("/mcp")
    );
    assert_eq!(
        challenge(&resp),
        format!("Bearer scope=\"notes:read\", resource_metadata=\"{prm_url}\"")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], 41, "the error keeps the request id");
    assert!(resp_has_no_session(&body));

    for url in [prm_url.clone(), prm_url.replace("/mcp", "")] {
        let doc: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        assert_eq!(doc["resource"], server.resource, "{url}");
        assert_eq!(doc["authorization_servers"], json!([server.issuer.url()]));
        assert_eq!(
            doc["scopes_supported"],
            json!(["notes:read", "notes:write", "admin"])
        );
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    }
}

fn resp_has_no_session(body: &Value) -> bool {
    body.get("result").is_none() && body["error"]["message"] == "authorization required"
}

#[tokio::test]
async fn a_valid_token_reaches_the_tool_as_typed_claims() {
    let server = start(Notes).await;
    let token = server.token(&["notes:read"]);
    let sid = session(&server, &token).await;
    let resp = call(&server, &token, &sid, "whoami", json!({})).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["result"]["structuredContent"],
        json!({"subject":"alice","username":"alice","roles":["editor"]})
    );
    // The scheme is case-insensitive.
    let resp = post(&server.url, None)
        .header("authorization", format!("bEaReR {token}"))
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_scopes_are_refused_before_the_tool_runs() {
    let server = start(Notes).await;
    let reader = server.token(&["notes:read"]);
    let sid = session(&server, &reader).await;
    let resp = call(&server, &reader, &sid, "add_note", json!({"title":"x"})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let header = challenge(&resp);
    assert!(header.starts_with("Bearer error=\"insufficient_scope\", scope=\"notes:read notes:write\", resource_metadata=\""), "{header}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], 9);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("add_note")
    );

    // Every scope the call needs, in one challenge.
    let resp = call(&server, &reader, &sid, "purge", json!({})).await;
    assert!(challenge(&resp).contains("scope=\"notes:read notes:write admin\""));

    // A token without the server's required scope is refused on every request.
    let nothing = server.token(&[]);
    let resp = post(&server.url, Some(&nothing))
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&resp).contains("error=\"insufficient_scope\", scope=\"notes:read\""));

    // Stepped up, the same session works.
    let writer = server.token(&["notes:read", "notes:write"]);
    let sid = session(&server, &writer).await;
    let body: Value = call(&server, &writer, &sid, "add_note", json!({"title":"x"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["result"]["content"][0]["text"], "added x");
}

/// A 2026-07-28 request with `token`; its status, challenge (if any) and body.
async fn modern_call(
    server: &Server,
    token: &str,
    method: &str,
    name: &str,
    params: Value,
) -> (StatusCode, Option<String>, Value) {
    let mut params = params;
    params["_meta"] = support::modern_meta();
    let resp = post(&server.url, Some(token))
        .header("mcp-protocol-version", support::MODERN)
        .header("mcp-method", method)
        .header("mcp-name", name)
        .json(&json!({"jsonrpc": "2.0", "id": 5, "method": method, "params": params}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let header = resp
        .headers()
        .get("www-authenticate")
        .map(|h| h.to_str().unwrap().to_owned());
    (status, header, resp.json().await.unwrap())
}

/// The result of a 2026-07-28 request that must succeed.
async fn served(server: &Server, token: &str, method: &str, name: &str, params: Value) -> Value {
    let (status, _, body) = modern_call(server, token, method, name, params).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("error").is_none(), "{body}");
    body["result"].clone()
}

#[tokio::test]
async fn resources_templates_and_prompts_need_their_own_scopes() {
    let server = start(Archive).await;
    let lister = server.token(&["archive:list"]);
    let read = |uri: &'static str| json!({"uri": uri});
    // What names no scope of its own needs only the server's.
    let (status, _, body) = modern_call(
        &server,
        &lister,
        "resources/read",
        "archive://index",
        read("archive://index"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["contents"][0]["text"], "index");
    // A fixed resource, a template's URI and a prompt each refused with every scope needed.
    for (method, name, params, scopes, what) in [
        (
            "resources/read",
            "archive://vault",
            read("archive://vault"),
            "archive:list archive:read archive:secret",
            "resource `vault`",
        ),
        (
            "resources/read",
            "archive://docs/7",
            read("archive://docs/7"),
            "archive:list archive:read",
            "resource template `doc`",
        ),
        (
            "prompts/get",
            "letter",
            json!({"name": "letter", "arguments": {"to": "Ada"}}),
            "archive:list archive:draft",
            "prompt `letter`",
        ),
    ] {
        let (status, challenge, body) = modern_call(&server, &lister, method, name, params).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {body}");
        let challenge = challenge.unwrap();
        assert!(
            challenge.starts_with(&format!(
                "Bearer error=\"insufficient_scope\", scope=\"{scopes}\""
            )),
            "{name}: {challenge}"
        );
        assert_eq!(
            body["error"]["message"],
            format!("insufficient scope for {what}")
        );
        assert_eq!(body["id"], 5);
    }
    // With the scopes, each is served.
    let all = server.token(&[
        "archive:list",
        "archive:read",
        "archive:secret",
        "archive:draft",
    ]);
    let result = served(
        &server,
        &all,
        "resources/read",
        "archive://docs/7",
        read("archive://docs/7"),
    )
    .await;
    assert_eq!(result["contents"][0]["text"], "doc 7");
    let result = served(
        &server,
        &all,
        "resources/read",
        "archive://vault",
        read("archive://vault"),
    )
    .await;
    assert_eq!(result["contents"][0]["text"], "vault");
    let result = served(
        &server,
        &all,
        "prompts/get",
        "letter",
        json!({"name": "letter", "arguments": {"to": "Ada"}}),
    )
    .await;
    assert_eq!(result["messages"][0]["content"]["text"], "Dear Ada,");
}

#[tokio::test]
async fn scopes_that_name_an_argument_are_needed_with_its_value() {
    let server = start(Projects).await;
    let call = |tool: &'static str, arguments: Value| {
        (tool, json!({"name": tool, "arguments": arguments}))
    };
    let alpha = server.token(&[
        "projects",
        "files:read:alpha",
        "issue:alpha:7",
        "docs:x1",
        "letters:Ada",
    ]);
    let allowed = [
        (
            "tools/call",
            call("read_file", json!({"project": "alpha", "path": "a.txt"})),
            "alpha/a.txt",
        ),
        (
            "tools/call",
            call("issue", json!({"project": "alpha", "number": 7})),
            "alpha#7",
        ),
    ];
    for (method, (name, params), text) in allowed {
        let (status, _, body) = modern_call(&server, &alpha, method, name, params).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["result"]["content"][0]["text"], text, "{body}");
    }
    let result = served(
        &server,
        &alpha,
        "resources/read",
        "docs://x1",
        json!({"uri": "docs://x1"}),
    )
    .await;
    assert_eq!(result["contents"][0]["text"], "doc x1");
    let result = served(
        &server,
        &alpha,
        "prompts/get",
        "letter",
        json!({"name": "letter", "arguments": {"to": "Ada"}}),
    )
    .await;
    assert_eq!(result["messages"][0]["content"]["text"], "Dear Ada,");

    // Another value needs another scope, and the challenge names it concretely.
    let refused = [
        (
            "tools/call",
            "read_file",
            json!({"name": "read_file", "arguments": {"project": "beta", "path": "a"}}),
            "projects files:read:beta",
        ),
        (
            "tools/call",
            "issue",
            json!({"name": "issue", "arguments": {"project": "alpha", "number": 8}}),
            "projects issue:alpha:8",
        ),
        (
            "resources/read",
            "docs://x2",
            json!({"uri": "docs://x2"}),
            "projects docs:x2",
        ),
        (
            "prompts/get",
            "letter",
            json!({"name": "letter", "arguments": {"to": "Bob"}}),
            "projects letters:Bob",
        ),
    ];
    for (method, name, params, scopes) in refused {
        let (status, challenge, body) = modern_call(&server, &alpha, method, name, params).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {body}");
        let challenge = challenge.unwrap();
        assert!(
            challenge.contains(&format!("scope=\"{scopes}\"")),
            "{challenge}"
        );
        assert_eq!(
            body["error"]["data"]["scopes"],
            json!(scopes.split(' ').collect::<Vec<_>>())
        );
    }
    // A value no scope can hold, or none at all: -32602, and nothing runs.
    let (status, refusal, body) = modern_call(
        &server,
        &alpha,
        "tools/call",
        "read_file",
        json!({"name": "read_file", "arguments": {"project": "alpha projects", "path": "a"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(refusal.is_none());
    assert_eq!(body["error"]["code"], -32602, "{body}");
    let (_, _, body) = modern_call(
        &server,
        &alpha,
        "tools/call",
        "read_file",
        json!({"name": "read_file", "arguments": {"path": "a"}}),
    )
    .await;
    assert_eq!(
        body["error"]["message"],
        "tool `read_file` needs `project`: its scope `files:read:{project}` names it"
    );

    // The metadata and the 401 list real scopes only.
    let metadata: Value = reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        server.url.trim_end_matches("/mcp")
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        metadata["scopes_supported"],
        json!(["projects"]),
        "{metadata}"
    );
    let resp = post(&server.url, None)
        .json(&init_body(1, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        challenge(&resp).contains("scope=\"projects\""),
        "{}",
        challenge(&resp)
    );
}

#[tokio::test]
async fn bad_tokens_get_invalid_token_and_nothing_else() {
    let server = start(Notes).await;
    let base = || {
        server
            .issuer
            .token()
            .subject("mallory")
            .audience(&server.resource)
            .scopes(["notes:read", "notes:write"])
            .claim("preferred_username", json!("mallory"))
    };
    let good = base().sign();
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let tampered_payload = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
        claims["sub"] = json!("admin");
        parts[1] = engine.encode(claims.to_string());
        parts.join(".")
    };
    let cases = [
        ("expired", base().expires_in(-3600).sign()),
        ("not yet valid", base().not_before_in(3600).sign()),
        (
            "wrong issuer",
            base().issuer("http://127.0.0.1:9/evil").sign(),
        ),
        (
            "wrong audience",
            base().audience("http://127.0.0.1:9/other").sign(),
        ),
        ("no audience", base().without("aud").sign()),
        ("unknown kid", base().kid("rotated-away").sign()),
        ("attacker's key", base().signed_by_attacker().sign()),
        ("tampered payload", tampered_payload),
        ("alg none", base().unsigned()),
        ("HS256 with the public key", base().hs256_with_public_key()),
        ("no exp", base().without("exp").sign()),
        ("no sub", base().without("sub").sign()),
        ("garbage", "abc.def.ghi".to_owned()),
        (
            "opaque without introspection",
            "0123456789abcdef".to_owned(),
        ),
    ];
    for (what, token) in cases {
        let resp = post(&server.url, Some(&token))
            .json(&init_body(41, json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
        let header = challenge(&resp);
        assert!(
            header.starts_with(
                "Bearer error=\"invalid_token\", scope=\"notes:read\", resource_metadata="
            ),
            "{what}: {header}"
        );
        assert!(
            resp.headers().get("mcp-session-id").is_none(),
            "{what}: no session for a failed authentication"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body,
            json!({"jsonrpc":"2.0","id":41,"error":{"code":-32600,"message":"invalid access token"}}),
            "{what}"
        );
    }
    // The good token of the same shape passes, so each failure above is the forgery's.
    let resp = post(&server.url, Some(&good))
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_authorization_headers_and_tokens_are_told_apart() {
    let server = start(Notes).await;
    // No credential after the scheme, or two of them: the request is malformed (400).
    let resp = post(&server.url, None)
        .header("authorization", "Bearer ")
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(challenge(&resp).starts_with("Bearer error=\"invalid_request\""));
    let token = server.token(&["notes:read"]);
    let resp = post(&server.url, Some(&token))
        .header("authorization", format!("Bearer {token}"))
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "two Authorization headers"
    );
    assert!(challenge(&resp).starts_with("Bearer error=\"invalid_request\""));
    // A credential outside the token grammar is an invalid token (RFC 6750 §3.1), answered
    // 401 so that clients authorize again.
    for value in [
        "Bearer a b",
        "Bearer tok\u{e9}n",
        "Bearer abc.def.ghi%%",
        "Bearer a=b",
    ] {
        let resp = post(&server.url, None)
            .header("authorization", value)
            .json(&init_body(41, json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{value:?}");
        assert!(
            challenge(&resp).starts_with("Bearer error=\"invalid_token\""),
            "{value:?}"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["id"], 41, "{value:?}");
    }
    // Another scheme is no bearer credential at all.
    let resp = post(&server.url, None)
        .header("authorization", "Basic YTpi")
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(!challenge(&resp).contains("error="));
    // A token in the query string is never read.
    let token = server.token(&["notes:read"]);
    let resp = post(&format!("{}?access_token={token}", server.url), None)
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_belongs_to_its_principal() {
    let server = start(Notes).await;
    let alice = server.token(&["notes:read"]);
    let sid = session(&server, &alice).await;
    let bob = server
        .issuer
        .token()
        .subject("bob")
        .audience(&server.resource)
        .scopes(["notes:read"])
        .sign();
    let resp = call(&server, &bob, &sid, "whoami", json!({})).await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "another subject's valid token cannot use the session"
    );
    // Every request on the session carries its token.
    let resp = post(&server.url, None)
        .header("mcp-session-id", &sid)
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = call(&server, &alice, &sid, "whoami", json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn stateless_and_2026_requests_are_authenticated_each_time() {
    let server = start(StatelessNotes).await;
    let token = server.token(&["notes:read"]);
    let meta = json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}});
    let body = json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"whoami","_meta":meta}});
    let send = |token: Option<&str>| {
        post(&server.url, token)
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "whoami")
            .json(&body)
            .send()
    };
    let resp = send(None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.json::<Value>().await.unwrap()["id"], 3);
    let resp = send(Some(&token)).await.unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["result"]["content"][0]["text"],
        "alice"
    );
}

#[tokio::test]
async fn browsers_may_send_auth_and_read_the_challenge() {
    let server = start(Notes).await;
    let origin = server.url.trim_end_matches("/mcp").to_owned();
    let resp = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &server.url)
        .header("origin", &origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, mcp-protocol-version, mcp-session-id",
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        origin.as_str()
    );
    let allowed = resp.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "authorization",
        "mcp-session-id",
        "mcp-protocol-version",
        "last-event-id",
        "mcp-method",
        "mcp-name",
    ] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }
    let resp = post(&server.url, None)
        .header("origin", &origin)
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("www-authenticate")
            && exposed.contains("mcp-session-id")
            && exposed.contains("retry-after"),
        "{exposed}"
    );
    // A foreign origin gets no CORS grant and is refused.
    let resp = post(&server.url, None)
        .header("origin", "http://evil.example.com")
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    // A client that is not a browser gets no CORS headers on its POSTs; the cacheable
    // metadata document says it varies by origin even when asked without one.
    let resp = post(&server.url, None)
        .json(&init_body(42, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        resp.headers()
            .get("access-control-expose-headers")
            .is_none()
    );
    assert!(resp.headers().get("vary").is_none());
    let resp = reqwest::get(format!("{origin}/.well-known/oauth-protected-resource/mcp"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let vary = resp.headers()["vary"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(vary.contains("origin"), "{vary}");
}

#[tokio::test]
async fn rotated_keys_are_fetched_once_for_many_requests() {
    let server = start(Notes).await;
    let fetched_at_start = server.issuer.jwks_fetches();
    assert_eq!(
        fetched_at_start, 1,
        "the JWKS is fetched when the configuration is built"
    );
    // Verified tokens are cached: repeating one costs no fetch.
    let token = server.token(&["notes:read"]);
    for _ in 0..3 {
        let resp = post(&server.url, Some(&token))
            .json(&init_body(41, json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    assert_eq!(server.issuer.jwks_fetches(), 1);

    server.issuer.rotate_keys();
    let rotated = |n: usize| {
        server
            .issuer
            .token()
            .subject(&format!("user-{n}"))
            .audience(&server.resource)
            .scopes(["notes:read"])
            .rotated_key()
            .sign()
    };
    // Many requests with the new `kid` at once: one fetch serves them all.
    let requests = (0..16).map(|n| {
        let token = rotated(n);
        let req = post(&server.url, Some(&token)).json(&init_body(41, json!({})));
        async move { req.send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(
        server.issuer.jwks_fetches(),
        2,
        "one refresh for the unknown kid"
    );

    // Unknown kids cannot make the server hammer the issuer: refreshes are rate limited.
    for n in 0..5 {
        let token = server
            .issuer
            .token()
            .audience(&server.resource)
            .scopes(["notes:read"])
            .kid(&format!("ghost-{n}"))
            .sign();
        let resp = post(&server.url, Some(&token))
            .json(&init_body(41, json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        server.issuer.jwks_fetches(),
        2,
        "no refresh within ten seconds of the last"
    );
}

/// `Notes` on 127.0.0.1, verifying opaque tokens of a test issuer by introspection; the
/// issuer and the resource URL.
async fn introspecting(
    settings: impl FnOnce(
        mcp_runtime::oauth::OAuthConfigBuilder,
    ) -> mcp_runtime::oauth::OAuthConfigBuilder,
) -> (TestIssuer, String) {
    let issuer = TestIssuer::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let resource = format!("http://{}/mcp", listener.local_addr().unwrap());
    let builder = support::trusting(&issuer, &resource);
    let config = settings(builder).build().await.unwrap();
    let app = Notes.router(config);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (issuer, resource)
}

#[tokio::test]
async fn opaque_tokens_are_introspected() {
    let (issuer, resource) =
        introspecting(mcp_runtime::oauth::OAuthConfigBuilder::serve_authorization_server_metadata)
            .await;
    let opaque = |aud: &str, exp: i64| {
        issuer
            .token()
            .subject("olga")
            .audience(aud)
            .scopes(["notes:read"])
            .claim("preferred_username", json!("olga"))
            .expires_in(exp)
            .opaque()
    };
    let good = opaque(&resource, 600);
    assert!(!good.contains('.'), "an opaque token is not a JWT");
    let resp = post(&resource, Some(&good))
        .json(&init_body(41, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let sid = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let resp = post(&resource, Some(&good))
        .header("mcp-session-id", &sid)
        .json(&json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["result"]["structuredContent"]["subject"],
        "olga"
    );

    for (what, token) in [
        ("another resource", opaque("http://127.0.0.1:9/other", 600)),
        ("expired", opaque(&resource, -10)),
        ("unknown", "opaque-unknown-token".to_owned()),
    ] {
        let resp = post(&resource, Some(&token))
            .json(&init_body(41, json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert!(
            challenge(&resp).contains("error=\"invalid_token\""),
            "{what}"
        );
    }

    // 2025-03-26-era clients find the issuer's metadata at the server's origin.
    let origin = resource.trim_end_matches("/mcp");
    let doc: Value = reqwest::get(format!("{origin}/.well-known/oauth-authorization-server"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], issuer.url());
}

/// Requests refused for their method, media types or declared size never reach token
/// verification: a flood of them costs no introspection call and no signature check.
#[tokio::test]
async fn cheap_refusals_come_before_token_verification() {
    let (issuer, resource) = introspecting(|b| b.http(HttpConfig::new().body_limit(1024))).await;
    let client = reqwest::Client::new();
    let forged = "opaque-forged-token";
    let body = init_body(41, json!({})).to_string();
    let cases = [
        (
            client
                .post(&resource)
                .header("accept", "application/json")
                .header("content-type", "application/json")
                .body(body.clone()),
            StatusCode::NOT_ACCEPTABLE,
        ),
        (
            client
                .post(&resource)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "text/plain")
                .body(body.clone()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            support::post(&resource).body("x".repeat(2048)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            client
                .get(&resource)
                .header("accept", "application/json")
                .header("mcp-session-id", "s"),
            StatusCode::NOT_ACCEPTABLE,
        ),
        (
            client
                .get(&resource)
                .header("mcp-protocol-version", "2026-07-28"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ];
    for (request, status) in cases {
        for _ in 0..5 {
            let resp = request
                .try_clone()
                .unwrap()
                .header("authorization", format!("Bearer {forged}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), status);
        }
    }
    assert_eq!(issuer.introspections(), 0, "no refusal verified the token");
    // The same forged token on a well-formed request is verified, and refused.
    let resp = post(&resource, Some(forged))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(issuer.introspections() >= 1);
}
