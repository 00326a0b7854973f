//! DPoP-bound access tokens (RFC 9449) on the resource server, over real HTTP on
//! 127.0.0.1: tokens from the test issuer bound to a client key (`cnf.jkt`), proofs signed
//! with ES256, and the forged proofs a resource server must refuse, each without running
//! the tool.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_runtime::oauth::Dpop;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::{DpopKey, TestIssuer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use mcp_runtime::store::RedisStore;
use support::{Redis, listen, modern, serve};

static RUNS: AtomicUsize = AtomicUsize::new(0);

struct Vault;

#[mcp_server(oauth(scopes = ["vault"], required = ["vault"]))]
impl Vault {
    /// Opens the vault, counting how often it ran.
    #[tool]
    fn open(&self, caller: Auth) -> String {
        RUNS.fetch_add(1, Ordering::SeqCst);
        format!("opened for {}", caller.subject())
    }
}

struct Server {
    url: String,
    issuer: TestIssuer,
}

impl Server {
    fn token(&self) -> mcp_runtime::testing::TokenBuilder {
        self.issuer
            .token()
            .subject("alice")
            .audience(&self.url)
            .scopes(["vault"])
    }

    fn bound_token(&self) -> String {
        self.token().bound_to(&DpopKey::new()).sign()
    }
}

async fn start(dpop: Option<Dpop>) -> Server {
    let issuer = TestIssuer::start().await.unwrap();
    let (listener, url) = listen().await;
    let mut config = OAuthConfig::builder()
        .resource(&url)
        .authorization_server(issuer.url());
    if let Some(dpop) = dpop {
        config = config.dpop(dpop);
    }
    serve(listener, Vault.router(config.build().await.unwrap()));
    Server { url, issuer }
}

/// A replica serving `url` (the resource every replica shares) on `listener`, with its
/// sessions and seen proofs in `store`.
async fn replica(
    issuer: &TestIssuer,
    listener: tokio::net::TcpListener,
    url: &str,
    store: RedisStore,
) {
    let config = OAuthConfig::builder()
        .resource(url)
        .authorization_server(issuer.url())
        .dpop(Dpop::require())
        .http(HttpConfig::new().session_store(store))
        .build()
        .await
        .unwrap();
    serve(listener, Vault.router(config));
}

/// `tools/call open` with `authorization` and, when given, one `DPoP` header.
async fn open(server: &Server, authorization: &str, proof: Option<&str>) -> reqwest::Response {
    open_at(&server.url, authorization, proof).await
}

/// [`open`] on the server at `url`.
async fn open_at(url: &str, authorization: &str, proof: Option<&str>) -> reqwest::Response {
    let mut req = modern(url, "tools/call", Some("open"), json!({"name": "open"}))
        .header("authorization", authorization);
    if let Some(proof) = proof {
        req = req.header("dpop", proof);
    }
    req.send().await.unwrap()
}

async fn error_message(resp: reqwest::Response) -> String {
    let body: Value = resp.json().await.unwrap();
    body["error"]["message"].as_str().unwrap().to_owned()
}

fn challenges(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// Asserts a 401 whose `DPoP` challenge has `error` and names the proof algorithms, and
/// that the tool did not run.
async fn refused(resp: reqwest::Response, error: &str, what: &str) {
    let before = RUNS.load(Ordering::SeqCst);
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
    let all = challenges(&resp);
    let dpop = all
        .iter()
        .find(|c| c.starts_with("DPoP "))
        .unwrap_or_else(|| panic!("{what}: no DPoP challenge in {all:?}"));
    assert!(
        dpop.contains(&format!("error=\"{error}\"")),
        "{what}: {dpop}"
    );
    assert!(dpop.contains("algs=\"ES256 "), "{what}: {dpop}");
    assert!(dpop.contains("resource_metadata=\""), "{what}: {dpop}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], json!(7), "{what}: {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
    assert_eq!(RUNS.load(Ordering::SeqCst), before, "{what}: the tool ran");
}

#[tokio::test]
async fn a_bound_token_with_its_proof_is_accepted_once() {
    let server = start(Some(Dpop::accept())).await;
    let token = server.bound_token();
    let proof = DpopKey::new().proof("POST", &server.url, &token).sign();
    let before = RUNS.load(Ordering::SeqCst);
    let resp = open(&server, &format!("DPoP {token}"), Some(&proof)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["result"]["content"][0]["text"], "opened for alice");
    assert_eq!(RUNS.load(Ordering::SeqCst), before + 1);
    // The same proof again is a replay.
    let again = open(&server, &format!("DPoP {token}"), Some(&proof)).await;
    refused(again, "invalid_dpop_proof", "replayed jti").await;
    // A new proof of the same key is fine; the scheme is case-insensitive.
    let fresh = DpopKey::new().proof("POST", &server.url, &token).sign();
    let resp = open(&server, &format!("dpop {token}"), Some(&fresh)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn forged_proofs_are_refused_and_the_tool_does_not_run() {
    let server = start(Some(Dpop::accept())).await;
    let token = server.bound_token();
    let key = DpopKey::new();
    let proof = || key.proof("POST", &server.url, &token);
    let other_url = server.url.replace("/mcp", "/other");
    let hs_key = json!({"kty": "oct", "k": "c2VjcmV0"});
    let forged = [
        ("wrong method", proof().claim("htm", json!("GET")).sign()),
        ("wrong URL", proof().claim("htu", json!(other_url)).sign()),
        ("stale iat", proof().issued_in(-3600).sign()),
        ("iat in the future", proof().issued_in(3600).sign()),
        ("other key", proof().signed_by(DpopKey::other()).sign()),
        (
            "proof of another key than the token's",
            DpopKey::other().proof("POST", &server.url, &token).sign(),
        ),
        ("missing ath", proof().without("ath").sign()),
        (
            "ath of another token",
            DpopKey::new()
                .proof("POST", &server.url, "another-token")
                .sign(),
        ),
        ("missing jti", proof().without("jti").sign()),
        ("HS256", proof().header("alg", json!("HS256")).sign()),
        (
            "HS256 with a symmetric jwk",
            proof()
                .header("alg", json!("HS256"))
                .header("jwk", hs_key)
                .sign(),
        ),
        ("alg=none", proof().header("alg", json!("none")).sign()),
        ("typ jwt", proof().header("typ", json!("jwt")).sign()),
        ("no jwk", {
            let mut p = proof();
            p = p.header("jwk", Value::Null);
            p.sign()
        }),
        ("private key in jwk", {
            let mut jwk = key.jwk();
            jwk["d"] = json!("c2VjcmV0");
            proof().header("jwk", jwk).sign()
        }),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (what, proof) in &forged {
        let resp = open(&server, &format!("DPoP {token}"), Some(proof)).await;
        refused(resp, "invalid_dpop_proof", what).await;
    }
    // No proof, and two proofs.
    let resp = open(&server, &format!("DPoP {token}"), None).await;
    refused(resp, "invalid_dpop_proof", "no proof").await;
    let one = proof().sign();
    let resp = modern(
        &server.url,
        "tools/call",
        Some("open"),
        json!({"name": "open"}),
    )
    .header("authorization", format!("DPoP {token}"))
    .header("dpop", &one)
    .header("dpop", &one)
    .send()
    .await
    .unwrap();
    refused(resp, "invalid_dpop_proof", "two proofs").await;
}

#[tokio::test]
async fn a_bound_token_presented_as_a_bearer_token_is_refused() {
    let server = start(Some(Dpop::accept())).await;
    let token = server.bound_token();
    let resp = open(&server, &format!("Bearer {token}"), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let all = challenges(&resp);
    assert!(
        all[0].starts_with("Bearer error=\"invalid_token\""),
        "{all:?}"
    );
    assert!(
        all[1].starts_with("DPoP ") && all[1].contains("algs="),
        "{all:?}"
    );
    let message = error_message(resp).await;
    assert!(message.contains("bound to a key"), "{message}");
    // Even with its proof beside it.
    let proof = DpopKey::new().proof("POST", &server.url, &token).sign();
    let resp = open(&server, &format!("Bearer {token}"), Some(&proof)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // And by a server that takes no DPoP at all.
    let plain = start(None).await;
    let token = plain.bound_token();
    let resp = open(&plain, &format!("Bearer {token}"), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenges(&resp).len(), 1);
    assert!(challenges(&resp)[0].starts_with("Bearer error=\"invalid_token\""));
    // There `DPoP` is a scheme it does not know: a challenge without an error.
    let proof = DpopKey::new().proof("POST", &plain.url, &token).sign();
    let resp = open(&plain, &format!("DPoP {token}"), Some(&proof)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(challenges(&resp)[0].starts_with("Bearer scope=\"vault\", resource_metadata="));
}

#[tokio::test]
async fn accepting_dpop_keeps_bearer_tokens_working() {
    let server = start(Some(Dpop::accept())).await;
    let bearer = server.token().sign();
    let resp = open(&server, &format!("Bearer {bearer}"), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // An unbound token presented with DPoP is not a DPoP-bound token.
    let proof = DpopKey::new().proof("POST", &server.url, &bearer).sign();
    let resp = open(&server, &format!("DPoP {bearer}"), Some(&proof)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Without credentials: both schemes are offered.
    let resp = modern(
        &server.url,
        "tools/call",
        Some("open"),
        json!({"name": "open"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let all = challenges(&resp);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all[0].starts_with("Bearer scope=\"vault\""), "{all:?}");
    assert!(all[1].starts_with("DPoP scope=\"vault\""), "{all:?}");
    // The metadata names the proof algorithms, and does not require DPoP.
    let prm = metadata(&server).await;
    assert_eq!(prm["dpop_signing_alg_values_supported"][0], "ES256");
    assert!(prm.get("dpop_bound_access_tokens_required").is_none());
}

#[tokio::test]
async fn requiring_dpop_refuses_bearer_tokens() {
    let server = start(Some(Dpop::require())).await;
    let bearer = server.token().sign();
    let resp = open(&server, &format!("Bearer {bearer}"), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let all = challenges(&resp);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(
        all[0].starts_with("DPoP error=\"invalid_token\""),
        "{all:?}"
    );
    let message = error_message(resp).await;
    assert!(message.contains("only DPoP-bound"), "{message}");
    let token = server.bound_token();
    let proof = DpopKey::new().proof("POST", &server.url, &token).sign();
    let resp = open(&server, &format!("DPoP {token}"), Some(&proof)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let prm = metadata(&server).await;
    assert_eq!(prm["dpop_bound_access_tokens_required"], true);
}

/// The development authorization server binds a token to the key of the proof at its token
/// endpoint, and a server requiring DPoP takes it with a proof by that key, from the whole
/// flow: registration, a code with PKCE, its redemption.
#[tokio::test]
async fn the_development_server_mints_tokens_a_dpop_server_accepts() {
    let dev = mcp_runtime::dev_auth::DevAuthServer::builder()
        .scopes(["vault"])
        .user(mcp_runtime::dev_auth::DevUser::new("alice", "alice"))
        .auto_login("alice")
        .start()
        .await
        .unwrap();
    let (listener, url) = listen().await;
    let config = OAuthConfig::builder()
        .resource(&url)
        .authorization_server(dev.issuer())
        .dpop(Dpop::require())
        .build()
        .await
        .unwrap();
    serve(listener, Vault.router(config));
    let key = DpopKey::new();
    let proof = key
        .proof("POST", &dev.token_endpoint(), "")
        .without("ath")
        .sign();
    let tokens = support::dev_tokens(&dev, &url, "vault", Some(&proof)).await;
    assert_eq!(tokens["token_type"], "DPoP", "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    let resp = open_at(&url, &format!("Bearer {token}"), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let proof = key.proof("POST", &url, token).sign();
    let resp = open_at(&url, &format!("DPoP {token}"), Some(&proof)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["result"]["content"][0]["text"], "opened for alice",
        "{body}"
    );
    // Its proof by another key is refused.
    let proof = DpopKey::other().proof("POST", &url, token).sign();
    refused(
        open_at(&url, &format!("DPoP {token}"), Some(&proof)).await,
        "invalid_dpop_proof",
        "the other key",
    )
    .await;
}

#[tokio::test]
async fn hmac_proof_algorithms_are_a_configuration_error() {
    let issuer = TestIssuer::start().await.unwrap();
    let err = OAuthConfig::builder()
        .resource("http://127.0.0.1:9/mcp")
        .authorization_server(issuer.url())
        .dpop(Dpop::accept().algorithms([mcp_runtime::oauth::Algorithm::HS256]))
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HS256"), "{err}");
}

async fn metadata(server: &Server) -> Value {
    let url = server
        .url
        .replace("/mcp", "/.well-known/oauth-protected-resource/mcp");
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn replicas_sharing_redis_refuse_a_proof_another_replica_accepted() {
    let redis = Redis::start("dpop-replicas");
    let issuer = TestIssuer::start().await.unwrap();
    let (a, url) = listen().await;
    let b = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_addr = b.local_addr().unwrap();
    // Both replicas are the same resource: proofs name its URL, whichever replica serves.
    for listener in [a, b] {
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        replica(&issuer, listener, &url, store).await;
    }
    let server = Server { url, issuer };
    let token = server.bound_token();
    let proof = DpopKey::new().proof("POST", &server.url, &token).sign();
    let resp = open(&server, &format!("DPoP {token}"), Some(&proof)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let seen = redis.keys();
    assert!(seen.iter().any(|k| k.starts_with("mcp:dpop:")), "{seen:?}");
    let at_b = Server {
        url: format!("http://{b_addr}/mcp"),
        issuer: TestIssuer::start().await.unwrap(),
    };
    let replayed = open(&at_b, &format!("DPoP {token}"), Some(&proof)).await;
    refused(
        replayed,
        "invalid_dpop_proof",
        "a proof replayed at another replica",
    )
    .await;
    let fresh = DpopKey::new().proof("POST", &server.url, &token).sign();
    let resp = open(&at_b, &format!("DPoP {token}"), Some(&fresh)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}
