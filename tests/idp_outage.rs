//! When the identity provider is down: a token that cannot be checked is not an invalid
//! token. Its JWKS or introspection endpoint stopped (the test issuer's port refusing
//! connections), a token that needs it gets 503 with `Retry-After` and a JSON-RPC error,
//! never 401; tokens signed by keys fetched before go on being served; the endpoint is
//! asked again only after a backoff, and everything passes again once it is back. A flood
//! of forged tokens naming unknown keys costs a handful of JWKS fetches.
#![allow(clippy::unwrap_used)]

mod support;
#[path = "support/vault.rs"]
mod vault;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_runtime::testing::TestIssuer;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::json_of;
use vault::start;

async fn whoami(url: &str, token: &str) -> reqwest::Response {
    vault::whoami(url, token, "127.0.0.1").await
}

fn token(issuer: &TestIssuer, url: &str, jti: &str) -> mcp_runtime::testing::TokenBuilder {
    issuer
        .token()
        .subject("alice")
        .audience(url)
        .scopes(["vault:read"])
        .claim("jti", json!(jti))
}

/// The 503 of an unchecked token: `Retry-After` in whole seconds, no challenge, a JSON-RPC
/// error that keeps the request's id; the seconds to wait.
async fn unavailable(resp: reqwest::Response) -> u64 {
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        resp.headers().get("www-authenticate").is_none(),
        "not an auth failure"
    );
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body = json_of(resp).await;
    assert_eq!(body["id"], 7, "{body}");
    assert_eq!(body["error"]["code"], -32603, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("cannot be checked"), "{message}");
    wait
}

/// Asks with `token` until it passes, within `within`.
async fn passes_within(url: &str, token: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let resp = whoami(url, token).await;
        if resp.status() == StatusCode::OK {
            assert_eq!(json_of(resp).await["result"]["content"][0]["text"], "alice");
            return;
        }
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "still refused after {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn while_the_jwks_cannot_be_fetched_unknown_keys_get_503_and_known_keys_are_served() {
    let vault::Served { url, issuer } = start(|b| b).await;
    let before = token(&issuer, &url, "before").sign();
    assert_eq!(whoami(&url, &before).await.status(), StatusCode::OK);

    issuer.stop();
    assert_eq!(
        whoami(&url, &before).await.status(),
        StatusCode::OK,
        "verified before"
    );
    let new = token(&issuer, &url, "new").sign();
    assert_eq!(
        whoami(&url, &new).await.status(),
        StatusCode::OK,
        "signed by a key fetched before"
    );
    // Signed by a key the issuer published while it could not be reached.
    let rotated = token(&issuer, &url, "rotated").rotated_key().sign();
    let wait = unavailable(whoami(&url, &rotated).await).await;
    // The JWKS rests after failing: asked again, the token gets 503 at once.
    let started = Instant::now();
    unavailable(whoami(&url, &rotated).await).await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "no new attempt: {:?}",
        started.elapsed()
    );
    let forged = token(&issuer, &url, "forged").signed_by_attacker().sign();
    assert_eq!(
        whoami(&url, &forged).await.status(),
        StatusCode::UNAUTHORIZED,
        "a known key's forgery is still invalid"
    );

    issuer.rotate_keys();
    issuer.restart().await.unwrap();
    let fetches = issuer.jwks_fetches();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    passes_within(&url, &rotated, Duration::from_secs(5)).await;
    assert!(
        issuer.jwks_fetches() - fetches <= 1,
        "one fetch once it is back"
    );
}

#[tokio::test]
async fn while_introspection_cannot_be_reached_opaque_tokens_get_503_then_pass_again() {
    let vault::Served { url, issuer } = start(|b| b).await;
    let opaque = token(&issuer, &url, "opaque").opaque();
    issuer.stop();
    unavailable(whoami(&url, &opaque).await).await;
    let other = token(&issuer, &url, "other").opaque();
    unavailable(whoami(&url, &other).await).await;
    issuer.restart().await.unwrap();
    // Not remembered as refused: the same token passes once the endpoint is back.
    passes_within(&url, &opaque, Duration::from_secs(5)).await;
    passes_within(&url, &other, Duration::from_secs(5)).await;
    assert!(issuer.introspections() <= 3, "{}", issuer.introspections());
}

/// A JWT naming key `kid`, with a signature of random bytes.
fn forged_with_kid(url: &str, n: usize) -> String {
    let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let header = part(json!({"alg": "RS256", "typ": "at+jwt", "kid": format!("unknown-{n}")}));
    let claims = part(
        json!({"iss": "x", "sub": "mallory", "aud": url, "exp": 4_000_000_000u64,
                             "jti": format!("forged-{n}")}),
    );
    let signature = URL_SAFE_NO_PAD.encode(format!("{n:0>256}"));
    format!("{header}.{claims}.{signature}")
}

#[tokio::test]
async fn ten_thousand_forged_tokens_with_unknown_keys_cost_a_handful_of_jwks_fetches() {
    let vault::Served { url, issuer } = start(|b| {
        b.failed_token_checks_per_peer(100_000, 100_000)
            .failed_token_checks_in_total(100_000, 100_000)
    })
    .await;
    let good = token(&issuer, &url, "good").sign();
    assert_eq!(whoami(&url, &good).await.status(), StatusCode::OK);
    let fetches = issuer.jwks_fetches();
    let started = Instant::now();
    let mut refused = 0;
    for batch in 0..100 {
        let calls: Vec<_> = (0..100)
            .map(|i| {
                let (url, token) = (url.clone(), forged_with_kid(&url, batch * 100 + i));
                tokio::spawn(async move { whoami(&url, &token).await.status() })
            })
            .collect();
        for call in calls {
            if call.await.unwrap() == StatusCode::UNAUTHORIZED {
                refused += 1;
            }
        }
    }
    assert_eq!(refused, 10_000, "each refused as invalid");
    // One fetch per ten seconds at most, whatever the flood.
    let allowed = 1 + started.elapsed().as_secs() / 10 + 1;
    let made = issuer.jwks_fetches() - fetches;
    eprintln!(
        "{made} JWKS fetches for 10 000 forged tokens in {:?}",
        started.elapsed()
    );
    assert!(
        made as u64 <= allowed,
        "{made} JWKS fetches in {:?}",
        started.elapsed()
    );
    assert_eq!(
        whoami(&url, &good).await.status(),
        StatusCode::OK,
        "the good token is served"
    );
    let new = token(&issuer, &url, "new").sign();
    assert_eq!(
        whoami(&url, &new).await.status(),
        StatusCode::OK,
        "so is a new one"
    );
}
